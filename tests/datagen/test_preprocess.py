"""Input preparation: masks (alpha modes, keyed backgrounds), framing numbers, white composite, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from datagen.preprocess import (
    SYNCDREAMER_FRACTION,
    alpha_box,
    frame_object,
    load_rgba,
    on_white,
    plan_framing,
    sv3d_input,
    union_box,
)
from datagen.user_errors import UserError


def rgba_rect(h=60, w=80, box=(10, 20, 30, 50), colour=(200, 30, 40)) -> np.ndarray:
    """Transparent image with one opaque rectangle ``box`` = (x0, y0, x1, y1)."""
    image = np.zeros((h, w, 4), np.uint8)
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = (*colour, 255)
    return image


def centre_and_size(alpha: np.ndarray, threshold: int = 127) -> tuple[float, float, int]:
    rows, cols = np.nonzero(alpha > threshold)
    return (cols.min() + cols.max() + 1) / 2, (rows.min() + rows.max() + 1) / 2, max(np.ptp(cols), np.ptp(rows)) + 1


@pytest.mark.parametrize(("size", "fraction"), [(256, SYNCDREAMER_FRACTION), (576, 0.6), (64, 1.0)])
def test_framing_centres_the_box_and_sizes_it_to_the_fraction(size, fraction):
    framed = frame_object(rgba_rect(), size, fraction)
    assert framed.shape == (size, size, 4)
    cx, cy, longest = centre_and_size(framed[..., 3])
    assert abs(cx - size / 2) <= 1 and abs(cy - size / 2) <= 1
    assert abs(longest - fraction * size) <= 1
    # the 20 x 30 box keeps its aspect ratio
    rows, cols = np.nonzero(framed[..., 3] > 127)
    assert abs((np.ptp(cols) + 1) / (np.ptp(rows) + 1) - 20 / 30) < 0.05


def test_syncdreamer_framing_is_200_in_256():
    framed = frame_object(rgba_rect(box=(0, 0, 40, 40), h=50, w=50), 256, SYNCDREAMER_FRACTION, "bicubic")
    assert centre_and_size(framed[..., 3])[2] == 200


def test_default_ratio_keeps_the_objects_share_of_the_image():
    """SV3D without --frame-ratio: the square's side is the input's longest side (object 30 of 80 px -> 0.375)."""
    framing = plan_framing((10, 20, 30, 50), (60, 80, 4), 576, None)
    assert framing.scale * 30 == pytest.approx(576 * 30 / 80)


def test_white_composite_values():
    image = rgba_rect(colour=(100, 50, 0))
    image[20:50, 10:30, 3] = 128  # half transparent object
    white = on_white(frame_object(image, 32, 0.5))
    assert white.shape == (32, 32, 3)
    assert (white[0, 0] == 255).all()  # background is white
    centre = white[16, 16].astype(int)
    expected = np.round(np.array([100, 50, 0]) * 128 / 255 + 255 * (1 - 128 / 255))
    assert np.abs(centre - expected).max() <= 2


def test_alpha_box_and_union():
    alpha = np.zeros((10, 10), np.uint8)
    assert alpha_box(alpha) is None
    alpha[2:4, 5:9] = 1
    assert alpha_box(alpha) == (5, 2, 9, 4)
    assert union_box([(5, 2, 9, 4), None, (0, 3, 6, 10)]) == (0, 2, 9, 10)
    assert union_box([None]) is None


def save(tmp_path, array, name="in.png"):
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return path


def test_rgba_keeps_its_alpha(tmp_path):
    image = rgba_rect()
    image[25, 15, 3] = 77
    rgba = load_rgba(save(tmp_path, image), "auto")
    assert np.array_equal(rgba, image)


def test_rgb_on_plain_background_is_keyed(tmp_path):
    """A grey backdrop (estimated from the border) is keyed out; the object stays opaque."""
    rgb = np.full((40, 40, 3), (90, 160, 90), np.uint8)
    rgb[10:30, 12:28] = (200, 20, 20)
    rgba = load_rgba(save(tmp_path, rgb), "auto")
    assert alpha_box(rgba[..., 3]) == (12, 10, 28, 30)
    assert (rgba[10:30, 12:28, 3] == 255).all() and (rgba[:10, :, 3] == 0).all()
    assert np.array_equal(load_rgba(save(tmp_path, rgb), "key"), rgba)


def test_keep_on_rgb_is_all_opaque(tmp_path):
    rgb = np.full((8, 8, 3), 7, np.uint8)
    assert (load_rgba(save(tmp_path, rgb), "keep")[..., 3] == 255).all()


def test_busy_background_in_auto_names_the_fixes(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    with pytest.raises(UserError, match="--alpha rembg.*--alpha key"):
        load_rgba(save(tmp_path, rgb), "auto")


def test_rembg_missing_says_so_and_names_key(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "rembg", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"rembg.*pip install.*--alpha key"):
        load_rgba(save(tmp_path, rgba_rect()), "rembg")


def test_rembg_offline_says_so(tmp_path, monkeypatch):
    class Offline:
        @staticmethod
        def remove(_):
            raise ConnectionError("no network")

    monkeypatch.setitem(sys.modules, "rembg", Offline)
    with pytest.raises(UserError, match=r"could not run.*network.*--alpha key"):
        load_rgba(save(tmp_path, rgba_rect()), "rembg")


def test_bad_inputs(tmp_path):
    with pytest.raises(UserError, match="no such image file"):
        load_rgba(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="cannot read the image"):
        load_rgba(tmp_path / "broken.png")
    empty = np.zeros((16, 16, 4), np.uint8)
    with pytest.raises(UserError, match="mask is empty"):
        sv3d_input(save(tmp_path, empty), "keep", size=32)
    white = np.full((16, 16, 3), 255, np.uint8)
    with pytest.raises(UserError, match="nothing to frame"):
        sv3d_input(save(tmp_path, white, "white.png"), "auto", size=32)
    with pytest.raises(UserError, match="--frame-ratio 1.5"):
        sv3d_input(save(tmp_path, rgba_rect()), frame_ratio=1.5, size=32)


def test_sv3d_input_is_white_square(tmp_path):
    out = sv3d_input(save(tmp_path, rgba_rect()), "auto", frame_ratio=0.5, size=64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert (out[0] == 255).all() and (out[32, 32] == (200, 30, 40)).all()
