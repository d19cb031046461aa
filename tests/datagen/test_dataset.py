"""Writing, reading and atomic replacement of datasets."""

import json

import numpy as np
import pytest
from PIL import Image

import datagen.dataset as dataset_module
from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataset import DatasetError, FrameRecord, encode_png, read_dataset, write_dataset
from splatcore.atomic import current_umask


def make_frames(count=4, size=8, channels=4, seed=0):
    rng = np.random.default_rng(seed)
    return [
        FrameRecord(
            file_path=f"images/f{i}.png",
            c2w_gl=c2w_gl_from_spherical(45.0 * i, 10.0, 4.0),
            image=rng.integers(0, 256, (size, size, channels), dtype=np.uint8),
            split="test" if i == count - 1 else "train",
            azimuth_deg=45.0 * i,
            elevation_deg=10.0,
            orbit=i % 2,
            extra={"note": f"frame {i}"},
        )
        for i in range(count)
    ]


def test_round_trip(tmp_path):
    frames = make_frames()
    intrinsics = intrinsics_from_fov(33.8, 8, 8)
    out = write_dataset(tmp_path / "ds", frames, intrinsics, {"name": "test", "seed": 1}, {"input/a.bin": b"xyz"})
    assert out == tmp_path / "ds"
    meta = json.loads((out / "transforms.json").read_text())
    assert meta["camera_model"] == "OPENCV" and meta["k1"] == 0 and meta["w"] == 8
    assert meta["train_filenames"] == ["images/f0.png", "images/f1.png", "images/f2.png"]
    assert meta["test_filenames"] == meta["val_filenames"] == ["images/f3.png"]
    assert (out / "input/a.bin").read_bytes() == b"xyz"
    ds = read_dataset(out, check_pixels=True)
    assert ds.intrinsics == intrinsics and ds.generator == {"name": "test", "seed": 1}
    for written, read in zip(frames, ds.frames, strict=True):
        assert read.file_path == written.file_path and read.split == written.split
        np.testing.assert_array_equal(read.c2w_gl, written.c2w_gl)  # JSON keeps float64 exactly
        assert (read.azimuth_deg, read.elevation_deg, read.orbit) == (written.azimuth_deg, 10.0, written.orbit)
        assert read.time is None and read.view is None and read.extra == written.extra
        np.testing.assert_array_equal(np.asarray(Image.open(out / read.file_path)), written.image)
    assert [f.file_path for f in ds.split_frames("val")] == ["images/f3.png"]


def test_refuses_existing_and_overwrites_atomically(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, make_frames(seed=0), intrinsics_from_fov(33.8, 8, 8), {"name": "first"})
    with pytest.raises(FileExistsError, match="overwrite"):
        write_dataset(out, make_frames(seed=1), intrinsics_from_fov(33.8, 8, 8), {"name": "second"})
    second = make_frames(count=2, seed=1)
    write_dataset(out, second, intrinsics_from_fov(33.8, 8, 8), {"name": "second"}, overwrite=True)
    ds = read_dataset(out)
    assert ds.generator["name"] == "second" and len(ds.frames) == 2
    assert not (out / "images/f3.png").exists()  # nothing of the old dataset survives
    np.testing.assert_array_equal(np.asarray(Image.open(out / "images/f0.png")), second[0].image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp or old siblings left


def test_empty_existing_directory_is_fine_and_permissions_are_normal(tmp_path):
    (tmp_path / "ds").mkdir()
    write_dataset(tmp_path / "ds", make_frames(), intrinsics_from_fov(33.8, 8, 8), {})
    assert (tmp_path / "ds/transforms.json").is_file()
    assert (tmp_path / "ds").stat().st_mode & 0o055 == 0o055 & ~current_umask()


def test_overwrite_never_replaces_a_directory_that_is_not_a_dataset(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home/notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds no transforms.json"):
        write_dataset(tmp_path / "home", make_frames(), intrinsics_from_fov(33.8, 8, 8), {}, overwrite=True)
    assert (tmp_path / "home/notes.txt").read_text() == "keep me"


def test_crash_mid_write_leaves_nothing_complete(tmp_path, monkeypatch):
    calls = []

    def crashing_encode(image, name="image"):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # e.g. Ctrl-C while images are written
        return encode_png(image, name)

    monkeypatch.setattr(dataset_module, "encode_png", crashing_encode)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "ds", make_frames(), intrinsics_from_fov(33.8, 8, 8), {})
    assert list(tmp_path.iterdir()) == []


def test_killed_process_leaves_only_hidden_temp_without_transforms(tmp_path, monkeypatch):
    """If the process dies (no cleanup runs), only a hidden temp dir without transforms.json remains."""
    seen = {}

    def die(tmp_dir, relative, data):
        seen["dir"] = tmp_dir
        raise SystemExit  # stands in for a kill: we inspect the state before cleanup

    monkeypatch.setattr(dataset_module, "_write_bytes", die)
    monkeypatch.setattr("splatcore.atomic.shutil.rmtree", lambda *a, **k: None)  # no cleanup, as after a kill
    with pytest.raises(SystemExit):
        write_dataset(tmp_path / "ds", make_frames(), intrinsics_from_fov(33.8, 8, 8), {})
    assert not (tmp_path / "ds").exists()
    assert seen["dir"].name.startswith(".ds.tmp-") and not (seen["dir"] / "transforms.json").exists()


def test_failed_overwrite_keeps_previous_dataset(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, make_frames(), intrinsics_from_fov(33.8, 8, 8), {"name": "first"})
    bad = make_frames(size=6)  # images 6x6 but intrinsics say 8x8
    with pytest.raises(DatasetError, match=r"images/f0.png: w/h: image is 6x6"):
        write_dataset(out, bad, intrinsics_from_fov(33.8, 8, 8), {"name": "bad"}, overwrite=True)
    assert read_dataset(out).generator["name"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_image_from_extra_files_and_record_errors(tmp_path):
    frames = make_frames(count=2)
    png = encode_png(frames[1].image)
    frames[1].image = None
    write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(33.8, 8, 8), {}, {"images/f1.png": png})
    assert (tmp_path / "ds/images/f1.png").read_bytes() == png
    frames[1].file_path = "images/missing.png"
    with pytest.raises(ValueError, match="images/missing.png: image is None"):
        write_dataset(tmp_path / "ds2", frames, intrinsics_from_fov(33.8, 8, 8), {})
    with pytest.raises(ValueError, match="split='val'"):
        write_dataset(tmp_path / "ds3", [FrameRecord("images/a.png", np.eye(4), frames[0].image, "val")],
                      intrinsics_from_fov(33.8, 8, 8), {})  # fmt: skip
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4, 3), np.float32))
    assert not (tmp_path / "ds2").exists() and not (tmp_path / "ds3").exists()
