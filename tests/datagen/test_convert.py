"""Converters from generator outputs to datasets, and background keying."""

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from datagen.cameras import c2w_gl_from_spherical, sv3d_orbits
from datagen.convert import ConvertError, ConvertFrames, ConvertGrid, ConvertMatrix, ConvertVideo
from datagen.dataset import read_dataset
from datagen.images import drop_alpha_on, key_background, natural_key


def tile(value, size=8, alpha=None):
    """A white square with a coloured centre block whose red channel encodes ``value``."""
    image = np.full((size, size, 3 if alpha is None else 4), 255, np.uint8)
    image[size // 4 : -(size // 4), size // 4 : -(size // 4), :3] = (value, 40, 90)
    if alpha is not None:
        image[..., 3] = alpha
    return image


def red_of(path):
    image = np.asarray(Image.open(path))
    return int(image[image.shape[0] // 2, image.shape[1] // 2, 0])


def write_folder(folder, count, name="frame{}.png", alpha=None):
    folder.mkdir()
    for i in range(count):
        Image.fromarray(tile(3 * i, alpha=alpha)).save(folder / name.format(i))
    return folder


def test_frames_sv3d_orbit_natural_order(tmp_path):
    frames = write_folder(tmp_path / "frames", 21, alpha=200)
    out = ConvertFrames(input=frames, output_dir=tmp_path / "ds").main()
    ds = read_dataset(out, check_pixels=True)
    views = sv3d_orbits((0.0,))
    assert [f.file_path for f in ds.frames] == [f"images/orbit0_{i:02d}.png" for i in range(21)]
    for i, (frame, view) in enumerate(zip(ds.frames, views, strict=True)):
        assert red_of(out / frame.file_path) == 3 * i  # frame2 before frame10
        np.testing.assert_allclose(frame.c2w_gl, c2w_gl_from_spherical(view.azimuth_deg, view.elevation_deg, 4.0))
        assert frame.orbit == 0 and frame.azimuth_deg == pytest.approx(view.azimuth_deg)
    assert ds.frames[-1].azimuth_deg == 0.0  # SV3D's last frame is the input view
    assert np.asarray(Image.open(out / ds.frames[0].file_path)).shape == (8, 8, 4)  # alpha kept
    assert ds.intrinsics.fl_x == pytest.approx(4 / np.tan(np.radians(33.8 / 2)))
    assert ds.generator["kind"] == "frames" and ds.generator["layout"] == "sv3d"


def test_frames_three_orbits_and_wrong_count(tmp_path):
    out = ConvertFrames(input=write_folder(tmp_path / "f63", 63), output_dir=tmp_path / "ds", resolution=4).main()
    ds = read_dataset(out)
    assert [f.orbit for f in ds.frames] == [0] * 21 + [1] * 21 + [2] * 21
    assert ds.frames[21 + 5].elevation_deg == pytest.approx(-20 * np.sin(np.radians(360 * 6 / 21)))
    assert ds.intrinsics.w == 4 and Image.open(out / ds.frames[0].file_path).size == (4, 4)
    with pytest.raises(ConvertError, match=r"f20: 20 frames, but layout sv3d takes 21 per orbit"):
        ConvertFrames(input=write_folder(tmp_path / "f20", 20), output_dir=tmp_path / "bad").main()
    with pytest.raises(ConvertError, match=r"empty: no frames"):
        (tmp_path / "empty").mkdir()
        ConvertFrames(input=tmp_path / "empty", output_dir=tmp_path / "bad").main()
    assert not (tmp_path / "bad").exists()


def test_corrupt_and_mixed_frames_named(tmp_path):
    folder = write_folder(tmp_path / "f", 16)
    (folder / "frame7.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ConvertError, match=r"frame7.png: cannot read the image"):
        ConvertFrames(input=folder, output_dir=tmp_path / "ds", layout="syncdreamer").main()
    Image.fromarray(tile(0, size=6)).save(folder / "frame7.png")
    with pytest.raises(ConvertError, match=r"frame7.png: frame is 6x6 but .*frame0.png is 8x8"):
        ConvertFrames(input=folder, output_dir=tmp_path / "ds", layout="syncdreamer").main()


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_video_syncdreamer_with_keying(tmp_path, suffix):
    frames = np.stack([tile(10 * i, size=48) for i in range(16)])  # H.264 needs some pixels to stay clean
    video = tmp_path / f"orbit.{suffix}"
    iio.imwrite(video, frames, **({"fps": 8} if suffix == "mp4" else {"duration": 100, "loop": 0}))
    out = ConvertVideo(input=video, output_dir=tmp_path / "ds", layout="syncdreamer", alpha="key").main()
    ds = read_dataset(out, check_pixels=True)
    assert [f.view for f in ds.frames] == [None] * 16 and [f.azimuth_deg for f in ds.frames] == list(
        np.arange(16) * 22.5
    )
    assert all(f.elevation_deg == 30.0 for f in ds.frames)
    np.testing.assert_allclose(ds.frames[4].c2w_gl[:3, 3], [0, 1.5 * np.cos(np.radians(30)), 0.75], atol=1e-12)
    image = np.asarray(Image.open(out / ds.frames[5].file_path))
    assert image.shape == (48, 48, 4)
    assert image[0, 0, 3] == 0 and image[24, 24, 3] == 255  # white border keyed out, object opaque
    assert abs(int(image[24, 24, 0]) - 50) <= 6  # frame order kept (lossy for mp4)


def test_video_errors(tmp_path, monkeypatch):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ConvertError, match=r"empty.mp4: the video file is empty"):
        ConvertVideo(input=tmp_path / "empty.mp4", output_dir=tmp_path / "ds").main()
    (tmp_path / "none.gif").write_bytes(b"GIF89a")
    monkeypatch.setattr(iio, "imiter", lambda path: iter(()))  # a container that decodes to zero frames
    with pytest.raises(ConvertError, match=r"none.gif: the video has no frames"):
        ConvertVideo(input=tmp_path / "none.gif", output_dir=tmp_path / "ds").main()
    monkeypatch.undo()
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    with pytest.raises(ConvertError, match=r"junk.mp4: cannot decode the video"):
        ConvertVideo(input=tmp_path / "junk.mp4", output_dir=tmp_path / "ds").main()


def test_grid(tmp_path):
    tiles = [tile(15 * k) for k in range(16)]
    Image.fromarray(np.concatenate(tiles, axis=1)).save(tmp_path / "grid.png")
    out = ConvertGrid(input=tmp_path / "grid.png", output_dir=tmp_path / "ds", elevation_deg=20.0).main()
    ds = read_dataset(out)
    for k, frame in enumerate(ds.frames):
        np.testing.assert_array_equal(np.asarray(Image.open(out / frame.file_path)), tiles[k])
        assert frame.azimuth_deg == 22.5 * k and frame.elevation_deg == 20.0
    assert ds.intrinsics.fl_x == pytest.approx(8 * 280 / 256)  # SyncDreamer: focal 280 px at 256
    Image.fromarray(np.concatenate(tiles[:15], axis=1)).save(tmp_path / "short.png")
    with pytest.raises(ConvertError, match=r"short.png: 120x8 is not 16 square views"):
        ConvertGrid(input=tmp_path / "short.png", output_dir=tmp_path / "ds2").main()


def test_matrix_pairs_and_holes(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    for t in (0, 2, 4):
        for v in range(16):
            Image.fromarray(tile(t * 16 + v, size=4)).save(folder / f"{t}_{v}.png")
    out = ConvertMatrix(input=folder, output_dir=tmp_path / "ds").main()
    ds = read_dataset(out)
    assert [f.time for f in ds.frames] == [0.0] * 16 + [0.5] * 16 + [1.0] * 16
    assert [f.view for f in ds.frames] == list(range(16)) * 3
    assert red_of(out / "images/t002_v07.png") == 2 * 16 + 7
    (folder / "2_5.png").unlink()
    with pytest.raises(ConvertError, match=r"holes, missing 2_5.png"):
        ConvertMatrix(input=folder, output_dir=tmp_path / "ds2").main()
    (folder / "notes.png").write_bytes(b"")
    with pytest.raises(ConvertError, match=r"notes.png: name does not fit an image matrix"):
        ConvertMatrix(input=folder, output_dir=tmp_path / "ds2").main()


def test_matrix_efficient4d_strips(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for t in range(3):
        strip = np.concatenate([tile(t * 16 + v, size=4) for v in range(16)], axis=1)
        Image.fromarray(strip).save(folder / f"{t:02d}.png")
    ds = read_dataset(ConvertMatrix(input=folder, output_dir=tmp_path / "ds", alpha="key").main())
    assert len(ds.frames) == 48 and ds.frames[17].time == 0.5 and ds.frames[17].view == 1
    assert red_of(ds.data_dir / "images/t001_v01.png") == 17
    assert ds.generator["matrix_layout"] == "strips"


def test_key_background_values():
    image = np.full((5, 5, 3), 255, np.uint8)
    image[2, 2] = (0, 0, 0)  # object
    image[2, 1] = (230, 230, 230)  # edge: distance 25 -> alpha (25 - 10) / 30 = 0.5
    keyed = key_background(image, tolerance=10, softness=30)
    assert keyed[0, 0, 3] == 0 and keyed[2, 2, 3] == 255
    assert keyed[2, 1, 3] == 128  # round(0.5 * 255)
    assert tuple(keyed[2, 1, :3]) == (205, 205, 205)  # 230 = 0.5 f + 0.5 * 255  =>  f = 205
    ring = np.zeros((7, 7, 3), np.uint8)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = 255  # white border
    ring[3, 3] = 255  # white inside the object
    assert key_background(ring)[3, 3, 3] == 255  # not connected to the border: kept
    assert key_background(ring, connected_only=False)[3, 3, 3] == 0
    rgba = np.zeros((1, 1, 4), np.uint8)
    rgba[0, 0] = (0, 0, 0, 51)  # 20 % black over white
    assert tuple(drop_alpha_on(rgba)[0, 0]) == (204, 204, 204)


def test_natural_key():
    from pathlib import Path

    names = ["f10.png", "f2.png", "F1.png"]
    assert sorted(names, key=lambda n: natural_key(Path(n))) == ["F1.png", "f2.png", "f10.png"]
