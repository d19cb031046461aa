"""Catalogue of bad and unusual datasets: each case is an input, the exit status and message of `datagen validate`,
and proof that training judges it the same way (the `generated-data` dataparser raises the same problem, or reads
the dataset, and the methods' image reader decodes the pixels to the values they stand for).

Tiny datasets (16 px), so the whole catalogue runs in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pytest
import torch
from PIL import Image

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.cli import main as datagen_main
from datagen.dataparser import GeneratedDataParserConfig
from datagen.dataset import DatasetError, FrameRecord, write_dataset
from nsglue.datamanager import DatasetImages

SIZE = 16
GREY = 90


def make_dataset(root: Path, dynamic: bool = False, generator: Optional[dict] = None) -> Path:
    """3D: 4 train frames around the object + 1 test frame; 4D: 2 times x 2 views + 1 test frame. RGBA, 16 px."""
    image = np.full((SIZE, SIZE, 4), GREY, np.uint8)
    image[..., 3] = 255
    if dynamic:
        frames = [
            FrameRecord(f"images/t{t}_v{v}.png", c2w_gl_from_spherical(180.0 * v, 20, 1.5), image, time=t, view=v)
            for t in (0.0, 1.0)
            for v in (0, 1)
        ]
        frames.append(FrameRecord("images/held.png", c2w_gl_from_spherical(90, 20, 1.5), image, "test", time=0.5))
    else:
        frames = [FrameRecord(f"images/f{i}.png", c2w_gl_from_spherical(90.0 * i, 20, 4.0), image) for i in range(4)]
        frames.append(FrameRecord("images/held.png", c2w_gl_from_spherical(45, 20, 4.0), image, "test"))
    fov = 49.13 if dynamic else 33.8
    return write_dataset(root / "ds", frames, intrinsics_from_fov(fov, SIZE, SIZE), generator or {"name": "test"})


def edit(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(data: Path) -> None:
        path = data / "transforms.json"
        meta = json.loads(path.read_text())
        change(meta)
        path.write_text(json.dumps(meta))

    return apply


def replace_image(pil_image: Image.Image, name: str = "images/f1.png", **save) -> Callable[[Path], None]:
    """Write ``pil_image`` over one frame's image (or under a new name, renaming the frame to it)."""

    def apply(data: Path) -> None:
        target = data / name
        pil_image.save(target, **save)
        if name != "images/f1.png":
            edit(lambda meta: _rename_frame(meta, "images/f1.png", name))(data)

    return apply


def _rename_frame(meta: dict, old: str, new: str) -> None:
    meta["frames"][1]["file_path"] = new
    meta["train_filenames"] = [new if n == old else n for n in meta["train_filenames"]]


def palette_image(transparent_index: Optional[int] = None) -> Image.Image:
    indices = (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) % 3).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette([200, 10, 10, 10, 200, 10, 10, 10, 200] + [0] * (256 * 3 - 9))
    if transparent_index is not None:
        image.info["transparency"] = transparent_index
    return image


PALETTE = np.array([[200, 10, 10], [10, 200, 10], [10, 10, 200]], np.uint8)
INDICES = np.arange(SIZE * SIZE).reshape(SIZE, SIZE) % 3
SIXTEEN_BIT = (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) * 256).astype(np.uint16)  # 0 .. 65280


def truncate(name: str) -> Callable[[Path], None]:
    def apply(data: Path) -> None:
        raw = (data / name).read_bytes()
        (data / name).write_bytes(raw[: len(raw) // 2])

    return apply


def blender_layout(data: Path) -> None:
    meta = json.loads((data / "transforms.json").read_text())
    (data / "transforms.json").unlink()
    train = [f for f in meta["frames"] if f["file_path"] in meta["train_filenames"]]
    frames = [{"file_path": f["file_path"][:-4], "transform_matrix": f["transform_matrix"]} for f in train]
    (data / "transforms_train.json").write_text(json.dumps({"camera_angle_x": 0.6, "frames": frames}))


@dataclass
class Case:
    name: str
    mutate: Callable[[Path], None]
    problem: Optional[str]
    """Fragment of the message validate and the dataparser both report; None: the dataset is accepted."""
    dynamic: bool = False
    pixels: Optional[tuple[str, Callable[[], np.ndarray], int]] = None
    """For accepted cases: (image, expected [H, W, C] uint8 values, tolerance) as training must read them."""
    extent: Optional[float] = None
    """For accepted cases: the scene box half-size training must use."""


CASES = [
    # pixel formats: read for what they mean, or rejected with the file named
    Case("palette", replace_image(palette_image()), None, pixels=("images/f1.png", lambda: PALETTE[INDICES], 0)),
    Case(
        "palette-transparency",
        replace_image(palette_image(transparent_index=1)),
        None,
        pixels=(
            "images/f1.png",
            lambda: np.concatenate([PALETTE[INDICES], np.where(INDICES == 1, 0, 255)[..., None]], -1),
            0,
        ),
    ),
    Case(
        "grey-alpha",
        replace_image(
            Image.fromarray(np.dstack([np.full((SIZE, SIZE), 70), np.full((SIZE, SIZE), 130)]).astype(np.uint8), "LA")
        ),
        None,
        pixels=("images/f1.png", lambda: np.array([70, 70, 70, 130], np.uint8) * np.ones((SIZE, SIZE, 1), np.uint8), 0),
    ),
    Case(
        "grey-16-bit",
        replace_image(Image.fromarray(SIXTEEN_BIT)),
        None,
        pixels=(
            "images/f1.png",
            lambda: np.repeat(np.round(SIXTEEN_BIT / 257.0).astype(np.uint8)[..., None], 3, -1),
            0,
        ),
    ),
    Case(
        "cmyk-jpeg",
        replace_image(Image.new("RGB", (SIZE, SIZE), (200, 40, 30)).convert("CMYK"), "images/f1.jpg", quality=100),
        None,
        pixels=("images/f1.jpg", lambda: np.array([200, 40, 30], np.uint8) * np.ones((SIZE, SIZE, 1), np.uint8), 6),
    ),
    Case(
        "float-tiff",
        replace_image(Image.fromarray(np.full((SIZE, SIZE), 0.5, np.float32)), "images/f1.tif"),
        "pixel mode 'F'",
    ),
    Case("truncated-png", truncate("images/f2.png"), "images/f2.png: image unreadable"),
    # structure validate must refuse because training cannot use it
    Case("empty-train-list", edit(lambda m: m.update(train_filenames=[])), "train_filenames: is empty"),
    Case("time-on-some-frames", edit(lambda m: m["frames"][0].update(time=0.5)), "frames[1].time: missing, but 1 of 5"),
    Case("per-frame-w-text", edit(lambda m: m["frames"][0].update(w="wide")), "frames[0].w: must be a positive"),
    Case("focal-1e37", edit(lambda m: m.update(fl_x=1e37)), "fl_x=1e+37 px gives a"),
    Case("principal-point-off-image", edit(lambda m: m.update(cx=1e5)), "outside every training image"),
    Case("two-pixel-images", edit(lambda m: m.update(w=2)), "too small to train"),
    Case(
        "duplicate-time-view",
        edit(lambda m: m["frames"][1].update(view=0)),
        "are both view 0 at time 0",
        dynamic=True,
    ),
    # frames with time but no view: accepted; efficient4d groups them by camera pose (tests/efficient4d_ns)
    Case("time-without-view", edit(lambda m: [f.pop("view", None) for f in m["frames"]]), None, dynamic=True),
    Case("blender-layout", blender_layout, "datagen convert blender"),
    Case(
        "blender-camera-angle",
        edit(lambda m: [m.pop("fl_x"), m.update(camera_angle_x=0.6)]),
        "fl_x: missing intrinsics: set it at the top level (or in every frame); this looks like the Blender",
    ),
    # free-form generator records: read only what has the expected type, and only when it fits the cameras
    Case("generator-object-string", edit(lambda m: m.update(generator={"object": "cup"})), None, extent=1.0),
    Case("generator-radius-1e30", edit(lambda m: m.update(generator={"object": {"radius": 1e30}})), None, extent=1.0),
    Case("generator-radius-1000", edit(lambda m: m.update(generator={"object": {"radius": 1000}})), None, extent=1.0),
    Case("generator-radius-fits", edit(lambda m: m.update(generator={"object": {"radius": 0.8}})), None, extent=0.8),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_and_training_agree(tmp_path, capsys, case):
    data = make_dataset(tmp_path, dynamic=case.dynamic)
    case.mutate(data)

    status = datagen_main(["validate", str(data)])
    report = capsys.readouterr().err
    assert status == (0 if case.problem is None else 1), report
    parser = GeneratedDataParserConfig(data=data).setup()
    if case.problem is not None:
        assert case.problem in report
        with pytest.raises(DatasetError) as raised:
            parser.get_dataparser_outputs("train")
        assert case.problem in str(raised.value)
        return

    outputs = parser.get_dataparser_outputs("train")
    if case.extent is not None:
        assert outputs.scene_box.aabb[1].tolist() == pytest.approx([case.extent] * 3)
    images = DatasetImages(outputs)
    names = [str(p.relative_to(data)) for p in outputs.image_filenames]
    decoded = [images.get_numpy_image(i) for i in range(len(names))]
    assert all(d.dtype == np.uint8 and d.shape[:2] == (SIZE, SIZE) and d.shape[2] in (3, 4) for d in decoded)
    if case.pixels is not None:
        name, expected, tolerance = case.pixels
        got = decoded[names.index(name)].astype(int)
        assert got.shape == expected().shape
        assert np.abs(got - expected().astype(int)).max() <= tolerance


def test_implausible_extent_and_interrupted_overwrite_are_reported(tmp_path, capsys):
    data = make_dataset(tmp_path, generator={"object": {"radius": 1000}})
    GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    out = capsys.readouterr().out.replace("\n", " ")
    assert "object extent 1000 does not fit cameras at distance 4" in out and "using 1 instead" in out
    (tmp_path / ".ds.old-x1" / "data").mkdir(parents=True)  # a kill between the overwrite's two renames
    assert datagen_main(["validate", str(data)]) == 0
    err = capsys.readouterr().err
    assert "note: " in err and "object extent 1000 does not fit" in err
    assert f"{tmp_path / '.ds.old-x1'} holds the previous dataset from an interrupted overwrite" in err


def test_pixel_check_is_skipped_only_while_the_images_are_unchanged(tmp_path, monkeypatch):
    import datagen.validate

    data = make_dataset(tmp_path)
    decoded = []
    original = datagen.validate.pixels_of
    monkeypatch.setattr(
        datagen.validate, "pixels_of", lambda image, source: decoded.append(source) or original(image, source)
    )
    GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    assert len(decoded) == 5  # never checked: decoded once, then stamped
    decoded.clear()
    GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    assert decoded == []  # stamp current: headers only
    truncate("images/f3.png")(data)
    with pytest.raises(DatasetError, match="images/f3.png: image unreadable"):
        GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")


def test_rigi_refuses_several_times_and_trains_one_slice(tmp_path):
    from datagen.user_errors import UserError
    from rigi_ns.datamanager import RigiDatamanagerConfig

    data = make_dataset(tmp_path, dynamic=True)
    config = RigiDatamanagerConfig(dataparser=GeneratedDataParserConfig(), data=data, cache_images="gpu")
    with pytest.raises(UserError, match="2 different times.*ns-train efficient4d.*generated-data --time"):
        config.setup(device="cpu")
    one_time = RigiDatamanagerConfig(dataparser=GeneratedDataParserConfig(time=1.0), data=data, cache_images="gpu")
    datamanager = one_time.setup(device="cpu")
    assert [p.name for p in datamanager.train_dataparser_outputs.image_filenames] == ["t1.0_v0.png", "t1.0_v1.png"]
    missing = RigiDatamanagerConfig(dataparser=GeneratedDataParserConfig(time=0.3), data=data, cache_images="gpu")
    with pytest.raises(UserError, match="generated-data --time 0.3: no training frame .* its times are: 0, 1"):
        missing.setup(device="cpu")


def test_efficient4d_notes_a_single_time_and_refuses_no_time(tmp_path, capsys):
    from datagen.user_errors import UserError
    from efficient4d_ns.datamanager import E4DDataManagerConfig

    static = make_dataset(tmp_path / "static")
    with pytest.raises(UserError, match="no 'time'"):
        E4DDataManagerConfig(data=static, compute_confidence=False, cache_images="gpu").setup(device="cpu")
    data = make_dataset(tmp_path / "dynamic", dynamic=True)

    def single_time(meta):
        for view, frame in enumerate(meta["frames"][:4]):
            frame.update(time=0.0, view=view)

    edit(single_time)(data)
    E4DDataManagerConfig(data=data, compute_confidence=False, cache_images="gpu").setup(device="cpu")
    assert "every training frame has the same time" in capsys.readouterr().out.replace("\n", " ")


CONVERT = ["convert", "frames", "--input", "{frames}", "--output-dir", "{tmp}/o"]
BLENDER = ["convert", "blender", "--input", "{tmp}", "--output-dir", "{tmp}/b"]
SV3D = ["image-to-3d", "{frames}/0.png", "--output-dir", "{tmp}/g", "--weights", "tiny-random"]
SYNCDREAMER = ["video-to-4d", "{frames}", "--output-dir", "{tmp}/g", "--checkpoint", "tiny-random"]
OPTION_CASES = {
    "convert-resolution-0": (CONVERT + ["--resolution", "0"], "--resolution 0: must be at least 4"),
    "convert-resolution-negative": (CONVERT + ["--resolution", "-5"], "--resolution -5"),
    "convert-softness-nan": (CONVERT + ["--key-softness", "nan"], "--key-softness nan: must be a finite number"),
    "convert-fov-inf": (CONVERT + ["--fov-deg", "inf"], "--fov-deg inf"),
    "convert-output-is-a-file": (CONVERT[:-1] + ["{tmp}/file"], "--output-dir {tmp}/file: is an existing file"),
    "synthetic-resolution-0": (["synthetic", "--output-dir", "{tmp}/s", "--resolution", "0"], "--resolution 0"),
    "synthetic-output-is-a-file": (["synthetic", "--output-dir", "{tmp}/file"], "--output-dir {tmp}/file: is an"),
    "synthetic-out-alias": (["synthetic", "--out", "{tmp}/file"], "--output-dir {tmp}/file: is an existing file"),
    "blender-max-test-negative": (BLENDER + ["--max-test-frames", "-1"], "--max-test-frames -1: must be 0 or more"),
    "blender-not-a-blender-folder": (BLENDER, "no transforms_train.json"),
    "sv3d-steps-0": (SV3D + ["--steps", "0"], "--steps 0: must be at least 1"),
    "sv3d-one-frame-orbit": (SV3D + ["--frames-per-orbit", "1"], "--frames-per-orbit 1: must be at least 2"),
    "sv3d-no-orbits": (SV3D + ["--amplitudes-deg"], "--amplitudes-deg (): give at least one orbit"),
    "sv3d-pag-scale-negative": (SV3D + ["--pag-scale", "-1"], "--pag-scale -1.0: must be 0 (off) or more"),
    "sv3d-pag-scale-nan": (SV3D + ["--pag-scale", "nan"], "--pag-scale nan: must be a finite number"),
    "syncdreamer-eta-negative": (SYNCDREAMER + ["--eta", "-1"], "--eta -1.0: must be 0"),
    "syncdreamer-17-views-per-batch": (SYNCDREAMER + ["--views-per-batch", "17"], "--views-per-batch 17: must be 1"),
    "syncdreamer-frames-per-batch-0": (SYNCDREAMER + ["--frames-per-batch", "0"], "--frames-per-batch 0: must be"),
}


@pytest.mark.parametrize(("args", "message"), OPTION_CASES.values(), ids=OPTION_CASES.keys())
def test_bad_option_values_name_the_option(tmp_path, capsys, args, message):
    (tmp_path / "file").write_text("not a directory")
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(21):
        Image.new("RGB", (SIZE, SIZE), (i * 10, 50, 50)).save(frames / f"{i}.png")
    fill = {"tmp": str(tmp_path), "frames": str(frames)}
    assert datagen_main([a.format(**fill) for a in args]) == 1
    error = capsys.readouterr().err
    assert error.startswith("datagen: error: ") and message.format(**fill) in error


def test_blender_layout_converts_and_trains(tmp_path):
    data = make_dataset(tmp_path)
    blender_layout(data)
    test_frames = [{"file_path": "images/held", "transform_matrix": c2w_gl_from_spherical(45, 20, 4.0).tolist()}]
    (data / "transforms_test.json").write_text(json.dumps({"camera_angle_x": 0.6, "frames": test_frames}))
    assert datagen_main(["convert", "blender", "--input", str(data), "--output-dir", str(tmp_path / "out")]) == 0
    outputs = GeneratedDataParserConfig(data=tmp_path / "out").setup().get_dataparser_outputs("train")
    assert len(outputs.image_filenames) == 4 and outputs.scene_box.aabb[1, 0].item() == 1.5
    expected = c2w_gl_from_spherical(90.0 * np.arange(4), 20, 4.0)[:, :3, :4]
    torch.testing.assert_close(outputs.cameras.camera_to_worlds, torch.tensor(expected, dtype=torch.float32))
    assert outputs.cameras.fx[0, 0].item() == pytest.approx(0.5 * SIZE / np.tan(0.3), rel=1e-5)
    test = GeneratedDataParserConfig(data=tmp_path / "out").setup().get_dataparser_outputs("test")
    assert [p.name for p in test.image_filenames] == ["test_held.png"]


def test_dataset_errors_reach_the_user_without_a_traceback(tmp_path):
    data = make_dataset(tmp_path)
    edit(lambda m: m.update(train_filenames=[]))(data)
    script = (
        "from datagen.dataparser import GeneratedDataParserConfig\n"
        f"GeneratedDataParserConfig(data={str(data)!r}).setup().get_dataparser_outputs('train')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PYTHONWARNINGS": "ignore"}
    env.pop("DATAGEN_TRACEBACK", None)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "DATAGEN_TRACEBACK=1" in lines[0] and lines[1].startswith(f"error: invalid dataset {data}")
    assert lines[-1].endswith("train_filenames: is empty: list the file paths of the training frames")
    env["DATAGEN_TRACEBACK"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    first, traceback_start = result.stderr.index("error: invalid dataset"), result.stderr.index("Traceback")
    assert first < traceback_start < result.stderr.rindex("\nerror: invalid dataset")
    assert result.stderr.rstrip().endswith("train_filenames: is empty: list the file paths of the training frames")


@pytest.mark.slow
def test_ns_train_shows_the_dataset_problem_last_and_no_traceback(tmp_path):
    data = make_dataset(tmp_path)
    edit(lambda m: m.update(train_filenames=[]))(data)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    env.pop("DATAGEN_TRACEBACK", None)
    ns_train = Path(sys.executable).with_name("ns-train")
    command = [str(ns_train), "rigi-splat-cpu", "--data", str(data), "--output-dir", str(tmp_path / "runs")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    tail = result.stderr.rstrip().splitlines()[-2:]
    assert tail[0].startswith(f"error: invalid dataset {data}") and "train_filenames: is empty" in tail[1]


def _matrix_with_two_names_for_one_cell(folder: Path) -> None:
    for name in ("0_0", "00_00", "0_1", "1_0", "1_1"):
        Image.new("RGB", (SIZE, SIZE), (120, 60, 30)).save(folder / f"{name}.png")


def _one_pixel_frames(folder: Path) -> None:
    for i in range(21):
        Image.new("RGB", (1, 1), (i, 0, 0)).save(folder / f"{i}.png")


CONVERTER_INPUTS = {
    "matrix-duplicate-cell": (_matrix_with_two_names_for_one_cell, "matrix", "are the same matrix cell (0, 0)"),
    "frames-one-pixel": (_one_pixel_frames, "frames", "1 px is too small to train"),
}


@pytest.mark.parametrize(("make", "kind", "message"), CONVERTER_INPUTS.values(), ids=CONVERTER_INPUTS.keys())
def test_converter_inputs_that_cannot_train_are_refused(tmp_path, capsys, make, kind, message):
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder)
    assert datagen_main(["convert", kind, "--input", str(folder), "--output-dir", str(tmp_path / "out")]) == 1
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", ["rigi-splat", "efficient4d"])
def test_zero_training_steps_name_the_option(tmp_path, method):
    from types import SimpleNamespace

    from nerfstudio.engine.callbacks import TrainingCallbackAttributes

    from datagen.options import OptionError
    from efficient4d_ns.datamanager import E4DDataManagerConfig
    from rigi_ns.datamanager import RigiDatamanagerConfig

    if method == "rigi-splat":
        config = RigiDatamanagerConfig(dataparser=GeneratedDataParserConfig(), data=make_dataset(tmp_path))
    else:
        config = E4DDataManagerConfig(data=make_dataset(tmp_path, dynamic=True), compute_confidence=False)
    datamanager = config.setup(device="cpu")
    trainer = SimpleNamespace(config=SimpleNamespace(max_num_iterations=0))
    with pytest.raises(OptionError, match="--max-num-iterations 0: must be at least 1"):
        datamanager.get_training_callbacks(TrainingCallbackAttributes(None, None, None, trainer))


def test_run_keeps_a_camera_snapshot_that_replaces_a_moved_dataset(tmp_path):
    from datagen.user_errors import UserError

    data = make_dataset(tmp_path, dynamic=True)
    outputs = GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    run_dir = tmp_path / "run"
    outputs.save_dataparser_transform(run_dir / "dataparser_transforms.json")  # what nerfstudio's trainer calls
    data.rename(tmp_path / "moved")
    with pytest.raises(UserError, match=f"dataset {data} does not exist .* set `data:` in the run's config.yml"):
        GeneratedDataParserConfig(data=data).setup().get_dataparser_outputs("train")
    parser = GeneratedDataParserConfig(data=data, snapshot=run_dir / "dataset_cameras.json").setup()
    assert parser.includes_time
    restored = parser.get_dataparser_outputs("train")
    torch.testing.assert_close(restored.cameras.camera_to_worlds, outputs.cameras.camera_to_worlds)
    torch.testing.assert_close(restored.cameras.times, outputs.cameras.times)
    assert restored.cameras.width.dtype == torch.long and restored.cameras.fx[0, 0] == outputs.cameras.fx[0, 0]
    torch.testing.assert_close(restored.scene_box.aabb, outputs.scene_box.aabb)
    for key, column in outputs.metadata["frame_meta"].items():
        torch.testing.assert_close(restored.metadata["frame_meta"][key], column, equal_nan=True)


# ---- e4d-export: options and runs -----------------------------------------------------------------------------------

EXPORT_OPTION_CASES = {
    "turntable-fps-0": (["--turntable-fps", "0"], "--turntable-fps 0.0: must be more than 0 frames per second"),
    "turntable-fps-nan": (["--turntable-fps", "nan"], "--turntable-fps nan: must be a finite number"),
    "turntable-frames-0": (["--turntable-frames", "0"], "--turntable-frames 0: must be at least 1"),
    "num-times-0": (["--num-times", "0"], "--num-times 0: must be at least 1"),
    "output-dir-is-a-file": (["--output-dir", "{tmp}/file"], "--output-dir {tmp}/file: is an existing file"),
    "output-dir-not-an-export": (["--output-dir", "{tmp}/other"], "holds files but no times.json"),
    "config-missing": (["--load-config", "{tmp}/nope.yml"], "--load-config {tmp}/nope.yml: does not exist"),
    "config-not-a-run": (["--load-config", "{tmp}/file"], "--load-config {tmp}/file: not a training run's config"),
}


@pytest.mark.parametrize(("args", "message"), EXPORT_OPTION_CASES.values(), ids=EXPORT_OPTION_CASES.keys())
def test_bad_export_options_name_the_option_before_anything_is_written(tmp_path, capsys, args, message):
    from efficient4d_ns.export import main as export_main

    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me")
    (tmp_path / "config.yml").write_text("{}")
    base = ["--load-config", "{tmp}/config.yml", "--output-dir", "{tmp}/out", "--turntable"]
    fill = {"tmp": str(tmp_path)}
    assert export_main([a.format(**fill) for a in base + args]) == 1
    error = capsys.readouterr().err
    assert error.startswith("e4d-export: error: ") and message.format(**fill) in error and "Traceback" not in error
    assert not (tmp_path / "out").exists() and (tmp_path / "other" / "notes.txt").read_text() == "keep me"


@pytest.fixture(scope="module")
def efficient4d_run(tmp_path_factory):
    """(dataset, run directory) of an efficient4d run, built without training."""
    from tests.efficient4d_ns.test_export import _run_directory

    data, config, _ = _run_directory(tmp_path_factory.mktemp("run"))
    return data, config.parent


def _no_snapshot_and_moved_dataset(run_dir: Path, data: Path) -> None:
    (run_dir / "dataset_cameras.json").unlink()
    data.rename(data.with_name("moved"))


def _no_checkpoint(run_dir: Path, data: Path) -> None:
    for checkpoint in (run_dir / "nerfstudio_models").iterdir():
        checkpoint.unlink()


def _truncated_checkpoint(run_dir: Path, data: Path) -> None:
    checkpoint = run_dir / "nerfstudio_models" / "step-000000007.ckpt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:4096])


EXPORT_RUN_CASES = {
    "moved-dataset": (lambda run_dir, data: data.rename(data.with_name("moved")), 0, "Wrote 2 PLY and .splat files"),
    "moved-dataset-without-snapshot": (
        _no_snapshot_and_moved_dataset,
        1,
        "has no dataset_cameras.json (runs made before this version do not), and its dataset",
    ),
    "no-checkpoint": (_no_checkpoint, 1, "no checkpoint in"),
    "truncated-checkpoint": (_truncated_checkpoint, 1, "step-000000007.ckpt is unreadable"),
}


@pytest.mark.parametrize(("mutate", "status", "message"), EXPORT_RUN_CASES.values(), ids=EXPORT_RUN_CASES.keys())
def test_export_runs(tmp_path, capsys, efficient4d_run, mutate, status, message):
    import shutil

    import yaml

    from efficient4d_ns.export import main as export_main

    data = Path(shutil.copytree(efficient4d_run[0], tmp_path / "data"))
    run_dir = Path(shutil.copytree(efficient4d_run[1], tmp_path / "run"))
    config = run_dir / "config.yml"
    run = yaml.load(config.read_text(), Loader=yaml.Loader)
    run.pipeline.datamanager.data = data  # the copy's own dataset
    config.write_text(yaml.dump(run))
    mutate(run_dir, data)
    out = tmp_path / "export"
    assert export_main(["--load-config", str(config), "--output-dir", str(out), "--num-times", "2"]) == status
    captured = capsys.readouterr()
    assert message in (captured.out if status == 0 else captured.err) and "Traceback" not in captured.err
    assert out.exists() == (status == 0)


# ---- ns-train: options refused at parse time, training that diverges -------------------------------------------------

NS_TRAIN_CASES = {
    "sds-asked-for": (
        ["efficient4d-cpu", "--pipeline.model.sds-lambda", "1"],
        True,
        2,
        "--pipeline.model.sds-lambda 1: the SDS term of Efficient4D is not implemented",
    ),
    "diverging-learning-rate": (
        ["rigi-splat-cpu", "--optimizers.scales.optimizer.lr", "1e30", "--max-num-iterations", "5"],
        False,
        1,
        "training stopped at step 0: parameter group 'scales' holds",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(("args", "dynamic", "status", "message"), NS_TRAIN_CASES.values(), ids=NS_TRAIN_CASES.keys())
def test_ns_train_refuses_with_a_message_and_no_traceback(tmp_path, args, dynamic, status, message):
    data = make_dataset(tmp_path, dynamic=dynamic)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    env.pop("DATAGEN_TRACEBACK", None)
    ns_train = Path(sys.executable).with_name("ns-train")
    command = [
        str(ns_train),
        *args,
        "--data",
        str(data),
        "--output-dir",
        str(tmp_path / "runs"),
        "--vis",
        "tensorboard",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    flat = " ".join(result.stderr.replace("│", " ").split())  # tyro draws a box around its message
    assert result.returncode == status and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert message in flat, result.stderr[-3000:]
