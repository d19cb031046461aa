"""The generator seam: fake generator views -> datasets on disk, read back."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from datagen.assemble import write_matrix_dataset, write_orbit_dataset
from datagen.cameras import SV3D_FOV_DEG, c2w_gl_from_spherical
from datagen.dataset import read_dataset, validate_dataset
from datagen.generators import FakeGenerator, GeneratedFrames, GeneratedView


def test_orbit_dataset_from_fake_generator(tmp_path):
    frames = FakeGenerator("sv3d", resolution=12).generate(np.zeros((12, 12, 3), np.uint8), seed=7)
    out = write_orbit_dataset(frames, tmp_path / "obj")
    assert validate_dataset(out, check_pixels=True) == []
    data = read_dataset(out)
    assert len(data.frames) == 63
    assert [f.orbit for f in data.frames] == [0] * 21 + [1] * 21 + [2] * 21
    assert data.frames[21].file_path == "images/orbit1_00.png"
    assert data.generator == {"name": "fake", "seed": 7, "layout": "sv3d"}
    focal = 0.5 * 12 / np.tan(np.radians(SV3D_FOV_DEG) / 2)
    assert data.intrinsics.fl_x == pytest.approx(focal)
    for frame, view in zip(data.frames, frames.views, strict=True):
        np.testing.assert_allclose(
            frame.c2w_gl, c2w_gl_from_spherical(view.azimuth_deg, view.elevation_deg, view.radius), atol=1e-12
        )
    # the pixels of frame 30 are exactly the generator's, alpha included
    pixels = np.asarray(Image.open(out / data.frames[30].file_path))
    np.testing.assert_array_equal(pixels, frames.views[30].image)


def test_matrix_dataset_keeps_time_view_and_extras(tmp_path):
    frames = FakeGenerator("syncdreamer", resolution=8).generate([None] * 3, seed=1)
    out = write_matrix_dataset(frames, tmp_path / "anim")
    data = read_dataset(out)
    assert len(data.frames) == 48
    assert sorted({f.time for f in data.frames}) == [0.0, 0.5, 1.0]
    assert data.frames[17].file_path == "images/t001_v01.png"
    assert (data.frames[17].time, data.frames[17].view) == (0.5, 1)
    assert data.frames[16].extra == {"input_view": True} and data.frames[17].extra == {"input_view": False}


def test_matrix_dataset_needs_time_and_view(tmp_path):
    view = GeneratedView(np.zeros((4, 4, 3), np.uint8), 0.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="view 0 .*no time or view"):
        write_matrix_dataset(GeneratedFrames([view], 40.0, {}), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_duplicate_names_are_refused_before_writing(tmp_path):
    image = np.zeros((4, 4, 3), np.uint8)
    views = [GeneratedView(image, 0.0, 0.0, 2.0, name="a.png"), GeneratedView(image, 90.0, 0.0, 2.0, name="a.png")]
    with pytest.raises(ValueError, match="images/a.png"):
        write_orbit_dataset(GeneratedFrames(views, 40.0, {}), tmp_path / "x")
    assert not (tmp_path / "x").exists()
