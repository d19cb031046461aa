"""`datagen interpolate`: K times -> 4K-3 on a tiny 4D dataset; originals kept byte for byte, new frames flagged."""

import json

import numpy as np
import pytest

from datagen.cameras import SYNCDREAMER_FOV_DEG, c2w_gl_from_spherical, intrinsics_from_fov
from datagen.cli import main
from datagen.dataset import FrameRecord, read_dataset, write_dataset
from datagen.images import read_image
from datagen.interpolate import DisFlowInterpolator
from datagen.interpolate_dataset import densified_count, densify_sequence, interpolate_dataset
from datagen.validate import validate_dataset

SIZE = 48
SHIFT_PER_TIME = 4.0  # pixels the pattern moves between consecutive source times


def _frame(shift_x: float, view: int) -> np.ndarray:
    """RGBA uint8: a smooth texture translated by `shift_x` pixels, opaque except a transparent left margin."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    x = x - shift_x
    r = 0.5 + 0.3 * np.sin(x / 3.1 + view) * np.cos(y / 4.3)
    g = 0.5 + 0.3 * np.cos(x / 5.3 + y / 2.9)
    b = 0.5 + 0.3 * np.sin(x / 2.3) * np.sin(y / 6.1 + view)
    alpha = np.clip(x - 4.0, 0.0, 1.0)
    return (np.clip(np.stack([r, g, b, alpha], -1), 0, 1) * 255 + 0.5).astype(np.uint8)


def _make_4d(tmp_path, num_times=3, views=(0, 1)):
    frames = []
    for t in range(num_times):
        for v in views:
            frames.append(
                FrameRecord(
                    file_path=f"images/t{t}_v{v}.png",
                    c2w_gl=c2w_gl_from_spherical(22.5 * v, 30.0, 1.5),
                    image=_frame(SHIFT_PER_TIME * t, v),
                    time=t / (num_times - 1),
                    view=v,
                    azimuth_deg=22.5 * v,
                    elevation_deg=30.0,
                    extra={"input_view": v == 0},
                )
            )
    frames.append(
        FrameRecord("images/gt.png", c2w_gl_from_spherical(45.0, 10.0, 1.5), _frame(0.0, 0), split="test", time=0.5)
    )
    intrinsics = intrinsics_from_fov(SYNCDREAMER_FOV_DEG, SIZE, SIZE)
    return write_dataset(tmp_path / "src", frames, intrinsics, {"name": "test-matrix", "seed": 3})


def test_4k_minus_3_times_originals_kept_and_flagged(tmp_path):
    src = _make_4d(tmp_path)
    out = interpolate_dataset(src, tmp_path / "dense", passes=2)
    assert validate_dataset(out) == []
    dense = read_dataset(out)
    train = dense.split_frames("train")
    times = sorted({f.time for f in train})
    assert len(times) == densified_count(3, 2) == 9
    np.testing.assert_allclose(times, np.linspace(0.0, 1.0, 9), atol=1e-12)
    assert len(train) == 9 * 2
    originals = [f for f in train if not f.extra["interpolated"]]
    assert sorted(f.file_path for f in originals) == [f"images/t{t}_v{v}.png" for t in range(3) for v in (0, 1)]
    for frame in originals:  # byte for byte
        assert (out / frame.file_path).read_bytes() == (src / frame.file_path).read_bytes()
    source = {(f.time, f.view): f for f in read_dataset(src).frames if f.split == "train"}
    for frame in train:
        match = source[(min(t for t in (0.0, 0.5, 1.0) if t >= frame.time - 1e-9), frame.view)]
        np.testing.assert_allclose(frame.c2w_gl, match.c2w_gl)  # views keep their cameras
        assert frame.extra["input_view"] == (frame.view == 0)  # per-view keys carried over
    # listing order: time-major, view-minor
    assert [(f.time, f.view) for f in train] == [(t, v) for t in times for v in (0, 1)]
    # the ground-truth test frame is copied as it is
    assert dense.test_filenames == ["images/gt.png"]
    assert (out / "images/gt.png").read_bytes() == (src / "images/gt.png").read_bytes()
    record = json.loads((out / "transforms.json").read_text())["generator"]
    assert record["name"] == "test-matrix" and record["interpolation"]["times"] == 9
    assert record["interpolation"]["source_times"] == 3 and record["interpolation"]["passes"] == 2


def test_interpolated_frames_follow_the_motion(tmp_path):
    """A frame at time t between originals shows the pattern shifted by t's share of the motion."""
    src = _make_4d(tmp_path, num_times=2, views=(0,))
    out = interpolate_dataset(src, tmp_path / "dense", passes=2)
    inner = (slice(8, -8), slice(12, -8))
    for frame in read_dataset(out).split_frames("train"):
        image = read_image(out / frame.file_path).astype(np.float32)
        truth = _frame(SHIFT_PER_TIME * frame.time, 0).astype(np.float32)
        blend = (1 - frame.time) * _frame(0.0, 0).astype(np.float32) + frame.time * _frame(SHIFT_PER_TIME, 0)
        err = np.abs(image - truth)[inner].mean()
        if frame.extra["interpolated"]:
            assert err < 0.35 * np.abs(blend - truth)[inner].mean(), (frame.time, err)
        assert err < 2.5, (frame.time, err)  # uint8 levels


def test_two_k_minus_one_and_sequence_bookkeeping():
    frames = [np.full((16, 16, 3), value, np.uint8) for value in (0, 100, 200)]
    dense = densify_sequence(frames, [0.0, 0.25, 1.0], 1, DisFlowInterpolator())
    assert [t for t, _ in dense] == [0.0, 0.125, 0.25, 0.625, 1.0]  # uneven spacing kept
    assert [image is None for _, image in dense] == [True, False, True, False, True]
    np.testing.assert_allclose(dense[1][1], 50, atol=1)  # flat frames: the midpoint is the mean
    np.testing.assert_allclose(dense[3][1], 150, atol=1)
    assert densified_count(16, 2) == 61 and densified_count(16, 1) == 31


def test_cli_and_errors(tmp_path, capsys):
    src = _make_4d(tmp_path, num_times=2, views=(0,))
    assert main(["interpolate", str(src), "--output-dir", str(tmp_path / "d"), "--times", "2k-1"]) == 0
    assert "3 times" in capsys.readouterr().out
    assert len({f.time for f in read_dataset(tmp_path / "d").frames if f.split == "train"}) == 3
    # existing output is refused, the same directory as input too
    assert main(["interpolate", str(src), "--output-dir", str(tmp_path / "d")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["interpolate", str(src), "--output-dir", str(src)]) == 1
    assert "is the input dataset" in capsys.readouterr().err
    # a dataset without time
    static = write_dataset(
        tmp_path / "static",
        [FrameRecord("images/a.png", c2w_gl_from_spherical(0.0, 0.0, 2.0), _frame(0.0, 0))],
        intrinsics_from_fov(40.0, SIZE, SIZE),
        {"name": "static"},
    )
    with pytest.raises(ValueError, match="is this a 4D dataset"):
        interpolate_dataset(static, tmp_path / "x")
    assert main(["interpolate", str(src), "--output-dir", str(tmp_path / "r"), "--interpolator", "rife"]) == 1
    assert "--rife-weights" in capsys.readouterr().err
