"""The contact sheet of generated views: one row per orbit (3D) or time (4D), each tile the view in its place."""

from __future__ import annotations

import numpy as np
import pytest

from datagen.generators import FakeGenerator
from datagen.generators.base import GeneratedFrames, GeneratedView
from datagen.generators.preview import generated_contact_sheet

HEADER_PX, CAPTION_PX = 18, 92  # the contact sheet's margins


def tile_centre(sheet: np.ndarray, row: int, column: int, tile: int) -> np.ndarray:
    y = HEADER_PX + row * (tile + 2) + tile // 2
    x = CAPTION_PX + column * (tile + 2) + tile // 2
    return sheet[y, x]


def test_orbits_are_rows_and_each_tile_is_its_view():
    frames = FakeGenerator("sv3d", resolution=16).generate(None, seed=7)
    sheet = generated_contact_sheet(frames, tile_px=16)
    assert sheet.shape == (HEADER_PX + 3 * 18, CAPTION_PX + 21 * 18, 3)
    for index, view in enumerate(frames.views):
        row, column = divmod(index, 21)
        assert row == view.orbit
        # The fake's disc is opaque at the centre and coloured (azimuth, time, seed).
        np.testing.assert_array_equal(tile_centre(sheet, row, column, 16), view.image[8, 8, :3])


def test_times_are_rows_in_time_order():
    frames = FakeGenerator("syncdreamer", resolution=16).generate([None] * 3, seed=2)
    frames.views.reverse()  # listed order must not matter for rows: times are sorted
    sheet = generated_contact_sheet(frames, tile_px=16)
    assert sheet.shape == (HEADER_PX + 3 * 18, CAPTION_PX + 16 * 18, 3)
    greens = [int(tile_centre(sheet, row, 0, 16)[1]) for row in range(3)]
    assert greens == [0, 128, 255]  # the fake encodes time in green: t = 0, 0.5, 1


def test_short_rows_are_padded_white_and_no_views_is_an_error():
    red = np.zeros((8, 8, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 255
    views = [GeneratedView(red, a, 0.0, 1.0, orbit=0) for a in (0.0, 90.0)] + [GeneratedView(red, 0.0, 10.0, 1.0, 1)]
    sheet = generated_contact_sheet(GeneratedFrames(views, 40.0, {}), tile_px=8)
    np.testing.assert_array_equal(tile_centre(sheet, 1, 0, 8), [255, 0, 0])
    np.testing.assert_array_equal(tile_centre(sheet, 1, 1, 8), [255, 255, 255])
    with pytest.raises(ValueError, match="no views"):
        generated_contact_sheet(GeneratedFrames([], 40.0, {}))
