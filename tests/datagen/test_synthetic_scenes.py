"""Written synthetic datasets: validity, splits and layout, determinism by seed, ground truth, 4D grid, CLI."""

import json
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
import trimesh

from datagen.dataset import read_dataset, validate_dataset
from datagen.synthetic.command import Synthetic
from datagen.synthetic.inconsistency import InconsistencyConfig
from datagen.synthetic.objects import STATIC_RADIUS
from datagen.synthetic.scenes import HELD_OUT_TIME_VIEWS, make_dynamic_dataset, make_static_dataset

STATIC_PX, DYNAMIC_PX, TIMES = 32, 32, 5


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory) -> Path:
    return make_static_dataset(tmp_path_factory.mktemp("s") / "obj", seed=3, resolution=STATIC_PX, progress=False)


@pytest.fixture(scope="module")
def dynamic_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("d") / "anim"
    return make_dynamic_dataset(out, seed=3, resolution=DYNAMIC_PX, num_times=TIMES, progress=False)


def _transforms(path: Path) -> dict:
    return json.loads((path / "transforms.json").read_text())


def _frame_files(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*.png"))}


def test_static_dataset_is_valid_with_63_labels_and_36_clean_views(static_dir):
    assert validate_dataset(static_dir) == []
    meta = _transforms(static_dir)
    assert len(meta["train_filenames"]) == 63 and len(meta["test_filenames"]) == 36
    train = [f for f in meta["frames"] if f["file_path"] in set(meta["train_filenames"])]
    assert sorted({f["orbit"] for f in train}) == [0, 1, 2]
    assert all(sum(f["orbit"] == o for f in train) == 21 for o in (0, 1, 2))
    generator = meta["generator"]
    assert generator["name"] == "synthetic" and generator["seed"] == 3 and generator["resolution"] == STATIC_PX
    assert generator["inconsistency"]["strengths"] == InconsistencyConfig().strengths()
    assert "version" in generator
    for name in meta["train_filenames"]:
        assert (static_dir / "ground_truth" / name).is_file()
    image = imageio.imread(static_dir / meta["test_filenames"][0])
    assert image.shape == (STATIC_PX, STATIC_PX, 4) and image[0, 0, 3] == 0 and image[..., 3].max() == 255
    mesh = trimesh.load(static_dir / "ground_truth" / "mesh.ply")
    assert np.linalg.norm(mesh.vertices, axis=1).max() == pytest.approx(STATIC_RADIUS, rel=1e-4)
    assert mesh.visual.vertex_colors.shape == (len(mesh.vertices), 4)
    sheet = imageio.imread(static_dir / "preview" / "contact_sheet.png")
    assert sheet.ndim == 3 and sheet.shape[1] > 6 * STATIC_PX


def test_static_dataset_is_deterministic_by_seed(static_dir, tmp_path):
    again = make_static_dataset(tmp_path / "again", seed=3, resolution=STATIC_PX, progress=False)
    other = make_static_dataset(tmp_path / "other", seed=4, resolution=STATIC_PX, progress=False)
    assert _frame_files(again) == _frame_files(static_dir)
    assert (again / "transforms.json").read_bytes() == (static_dir / "transforms.json").read_bytes()
    differing = [k for k, v in _frame_files(other).items() if _frame_files(static_dir).get(k) != v]
    assert len(differing) > 90


def test_clean_config_writes_labels_identical_to_ground_truth(tmp_path):
    path = make_static_dataset(
        tmp_path / "clean", resolution=STATIC_PX, inconsistency=InconsistencyConfig.none(), progress=False
    )
    for name in _transforms(path)["train_filenames"]:
        np.testing.assert_array_equal(imageio.imread(path / name), imageio.imread(path / "ground_truth" / name))


def test_labels_differ_from_ground_truth_away_from_the_input_view(static_dir):
    meta = _transforms(static_dir)
    for frame in meta["frames"]:
        if frame["file_path"] not in meta["train_filenames"]:
            continue
        label = imageio.imread(static_dir / frame["file_path"]).astype(float)
        truth = imageio.imread(static_dir / "ground_truth" / frame["file_path"]).astype(float)
        if abs((frame["azimuth_deg"] + 180) % 360 - 180) < 1e-6:
            np.testing.assert_array_equal(label, truth)
        elif abs((frame["azimuth_deg"] + 180) % 360 - 180) > 90:
            assert np.abs(label - truth).mean() > 0.5


def test_existing_output_needs_overwrite(static_dir):
    with pytest.raises(FileExistsError, match="overwrite"):
        make_static_dataset(static_dir, resolution=STATIC_PX, progress=False)
    with pytest.raises(ValueError, match="resolution"):
        make_dynamic_dataset(static_dir.parent / "odd", resolution=33, progress=False)


def test_dynamic_dataset_has_a_complete_time_by_view_grid(dynamic_dir):
    assert validate_dataset(dynamic_dir) == []
    meta = _transforms(dynamic_dir)
    frames = {f["file_path"]: f for f in meta["frames"]}
    train = [frames[n] for n in meta["train_filenames"]]
    test = [frames[n] for n in meta["test_filenames"]]
    train_times = sorted({f["time"] for f in train})
    np.testing.assert_allclose(train_times, np.linspace(0, 1, TIMES))
    grid = {(f["time"], f["view"]) for f in train}
    assert len(train) == len(grid) == TIMES * 16
    assert all(0.0 <= f["time"] <= 1.0 for f in meta["frames"])
    for f in train:
        assert f["azimuth_deg"] == pytest.approx(22.5 * f["view"]) and f["elevation_deg"] == pytest.approx(30.0)
    held_out_times = [f for f in test if not np.isclose(f["time"], train_times).any()]
    held_out_views = [f for f in test if f.get("view") is None]
    assert len(held_out_times) == (TIMES - 1) * len(HELD_OUT_TIME_VIEWS)
    assert len(held_out_views) + len(held_out_times) == len(test)
    assert all(abs(f["azimuth_deg"] / 22.5 - round(f["azimuth_deg"] / 22.5)) > 0.4 for f in held_out_views)
    assert {f["elevation_deg"] for f in held_out_views} == {15.0, 45.0}
    assert meta["generator"]["num_times"] == TIMES


def test_dynamic_dataset_moves_over_time_and_has_the_input_video(dynamic_dir):
    truth0 = imageio.imread(dynamic_dir / "ground_truth" / "images" / "t000_v04.png").astype(float)
    truth1 = imageio.imread(dynamic_dir / "ground_truth" / "images" / "t001_v04.png").astype(float)
    assert np.abs(truth0 - truth1).mean() > 0.5  # parts moved between consecutive times
    frames = sorted((dynamic_dir / "input" / "frames").glob("*.png"))
    assert len(frames) == TIMES
    video = imageio.mimread(dynamic_dir / "input" / "video.mp4")
    assert len(video) == TIMES and video[0].shape == (DYNAMIC_PX, DYNAMIC_PX, 3)
    first = imageio.imread(frames[0])
    composite = first[..., :3] * (first[..., 3:] / 255.0) + 255 * (1 - first[..., 3:] / 255.0)
    assert np.abs(video[0].astype(float) - composite).mean() < 12  # H.264 of the same frame on white


def test_dynamic_dataset_is_deterministic_by_seed(tmp_path):
    first, second = (
        make_dynamic_dataset(tmp_path / name, seed=8, resolution=16, num_times=3, progress=False) for name in "ab"
    )
    assert _frame_files(first) == _frame_files(second)
    assert (first / "transforms.json").read_bytes() == (second / "transforms.json").read_bytes()


def test_dataset_reads_back_with_times(dynamic_dir):
    dataset = read_dataset(dynamic_dir)
    times = [f.time for f in dataset.frames]
    assert all(t is not None for t in times) and min(times) == 0.0 and max(times) == 1.0


def test_generated_data_parser_gives_camera_times(dynamic_dir):
    dataparser = pytest.importorskip("datagen.dataparser")
    outputs = dataparser.GeneratedDataParserConfig(data=dynamic_dir).setup().get_dataparser_outputs(split="train")
    assert outputs.cameras.times is not None and outputs.cameras.times.shape == (TIMES * 16, 1)
    assert float(outputs.cameras.times.min()) == 0.0 and float(outputs.cameras.times.max()) == 1.0


def test_command_line_dataclass_writes_a_dataset(tmp_path, capsys):
    command = Synthetic(
        output_dir=tmp_path / "cli",
        seed=5,
        resolution=24,
        inconsistency=InconsistencyConfig(level="high", phantom=0.0),
    )
    path = command.main()
    assert "wrote synthetic 3D dataset" in capsys.readouterr().out
    generator = _transforms(path)["generator"]
    assert generator["seed"] == 5 and generator["inconsistency"]["strengths"]["phantom"] == 0.0
    assert generator["inconsistency"]["strengths"]["warp"] == InconsistencyConfig(level="high").strengths()["warp"]


def test_command_line_flags_parse_into_the_dataclass():
    import tyro

    args = ["--output-dir", "x", "--dynamic", "--inconsistency", "low", "--phantom", "0.5", "--num-times", "9"]
    command = tyro.cli(Synthetic, args=args)
    assert command.dynamic and command.num_times == 9 and command.resolution is None
    strengths = command.inconsistency.strengths()
    assert strengths["phantom"] == 0.5 and strengths["warp"] == InconsistencyConfig(level="low").strengths()["warp"]
