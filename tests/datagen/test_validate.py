"""Every kind of validation problem, each named with its file and field."""

import json

import numpy as np
import pytest

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataset import FrameRecord, encode_png, write_dataset
from datagen.validate import validate_dataset


@pytest.fixture
def dataset(tmp_path):
    """A valid 4D dataset: 2 times x 2 views in train, one test frame; 8x8 RGBA."""
    image = np.full((8, 8, 4), 200, np.uint8)
    frames = [
        FrameRecord(f"images/t{t}_v{v}.png", c2w_gl_from_spherical(90.0 * v, 30, 1.5), image, time=float(t), view=v)
        for t in (0, 1)
        for v in (0, 1)
    ]
    frames.append(FrameRecord("images/test.png", c2w_gl_from_spherical(45, 30, 1.5), image, "test", time=0.5))
    return write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(49.13, 8, 8), {"name": "t"})


def edit(data_dir, change):
    path = data_dir / "transforms.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def only(problems):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_valid(dataset):
    assert validate_dataset(dataset) == []


def test_malformed_json_names_line_and_column(dataset):
    (dataset / "transforms.json").write_text('{\n  "frames": [\n    {"file_path": "a.png",,}\n  ]\n}')
    problem = only(validate_dataset(dataset))
    assert problem.file == "transforms.json" and "line 3 column" in problem.message


def test_missing_transforms(tmp_path):
    assert only(validate_dataset(tmp_path)).file == "transforms.json"
    assert "not a directory" in only(validate_dataset(tmp_path / "nope")).message


def test_missing_image(dataset):
    (dataset / "images/t1_v0.png").unlink()
    problem = only(validate_dataset(dataset))
    assert (problem.file, problem.field) == ("images/t1_v0.png", "") and "missing" in problem.message


def test_unreadable_image(dataset):
    data = (dataset / "images/t0_v1.png").read_bytes()
    (dataset / "images/t0_v1.png").write_bytes(data[: len(data) // 2])  # truncated PNG
    problem = only(validate_dataset(dataset))
    assert problem.file == "images/t0_v1.png" and "unreadable" in problem.message
    (dataset / "images/t0_v1.png").write_bytes(b"not a png")
    assert "unreadable" in only(validate_dataset(dataset, check_pixels=False)).message


def test_image_size_against_intrinsics_and_each_other(dataset):
    (dataset / "images/t0_v0.png").write_bytes(encode_png(np.zeros((6, 8, 3), np.uint8)))
    problems = validate_dataset(dataset)
    assert {(p.file, p.field) for p in problems} == {("images/t0_v0.png", "w/h"), ("images/t0_v0.png", "size")}
    assert any("8x6" in p.message and "8x8" in p.message for p in problems)


@pytest.mark.parametrize(
    ("matrix", "words"),
    [
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, float("nan")], [0, 0, 0, 1]], "NaN"),
        ([[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "not orthonormal"),
        ([[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "det -1"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], "last row"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "4x4"),
    ],
)
def test_bad_transform(dataset, matrix, words):
    def change(meta):
        meta["frames"][2]["transform_matrix"] = matrix

    edit(dataset, change)  # json writes NaN as a bare token, which Python's reader accepts
    problem = only(validate_dataset(dataset))
    assert (problem.file, problem.field) == ("transforms.json", "frames[2].transform_matrix")
    assert words in problem.message


def test_duplicate_file_path(dataset):
    edit(dataset, lambda meta: meta["frames"][1].update(file_path="images/t0_v0.png"))
    problems = validate_dataset(dataset)
    fields = {(p.field, p.message.split(":")[0]) for p in problems}
    assert ("frames[1].file_path", "duplicate file path 'images/t0_v0.png'") in fields
    # t0_v1 is no longer a frame, so the split list names an unknown file
    assert {p.field for p in problems} == {"frames[1].file_path", "train_filenames"}


def test_time_outside_unit_interval(dataset):
    edit(dataset, lambda meta: meta["frames"][4].update(time=1.5))
    problem = only(validate_dataset(dataset))
    assert problem.field == "frames[4].time" and "[0, 1]" in problem.message


def test_view_time_grid_hole(dataset):
    def drop(meta):
        del meta["frames"][3]  # time 1, view 1
        meta["train_filenames"].remove("images/t1_v1.png")

    edit(dataset, drop)
    problem = only(validate_dataset(dataset))
    assert problem.field == "frames" and "view 1 at time 1" in problem.message


def test_split_names_unknown_file(dataset):
    edit(dataset, lambda meta: meta["test_filenames"].append("images/ghost.png"))
    problem = only(validate_dataset(dataset))
    assert problem.field == "test_filenames" and "images/ghost.png" in problem.message


def test_missing_intrinsics(dataset):
    edit(dataset, lambda meta: meta.pop("fl_x"))
    problem = only(validate_dataset(dataset))
    assert (problem.file, problem.field) == ("transforms.json", "fl_x") and "missing" in problem.message


def test_bad_keys_and_distortion(dataset):
    def change(meta):
        meta["frames"][0]["view"] = 1.5
        meta["k1"] = 0.1
        meta["camera_model"] = "FISHEYE"

    edit(dataset, change)
    fields = {p.field for p in validate_dataset(dataset)}
    assert {"frames[0].view", "k1", "camera_model"} <= fields


def test_reports_every_problem_at_once(dataset):
    (dataset / "images/t1_v0.png").unlink()
    edit(dataset, lambda meta: (meta["frames"][4].update(time=-1), meta.pop("cy")))
    assert {(p.file, p.field) for p in validate_dataset(dataset)} == {
        ("images/t1_v0.png", ""),
        ("transforms.json", "frames[4].time"),
        ("transforms.json", "cy"),
    }
