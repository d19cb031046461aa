"""A contact sheet of what a generator made, saved in the dataset so the views can be judged before training."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from jaxtyping import UInt8

from datagen.generators.base import GeneratedFrames, GeneratedView
from datagen.synthetic.contact_sheet import contact_sheet

PREVIEW_FILE = "preview/contact_sheet.png"
"""Where a generated dataset keeps its contact sheet (the synthetic datasets use the same name)."""


def _row_key(view: GeneratedView) -> tuple[int, float]:
    # 4D generators: one row per time; 3D generators: one row per orbit.
    return (0, float(view.time)) if view.time is not None else (1, float(view.orbit))


def generated_contact_sheet(frames: GeneratedFrames, tile_px: int = 96) -> UInt8[np.ndarray, "H W 3"]:
    """The views as a grid: one row per time (4D) or per orbit (3D), the views in generation order along a row.

    Rows shorter than the longest are padded with white tiles. Column captions are the azimuths of the longest row.

    Args:
        frames: a generator's output (RGBA tiles are composited on white).
        tile_px: tile size in pixels.

    Returns:
        [H, W, 3] uint8 RGB sheet.
    """
    if not frames.views:
        raise ValueError("generated_contact_sheet: the generator returned no views")
    rows: dict[tuple[int, float], list[GeneratedView]] = defaultdict(list)
    for view in frames.views:
        rows[_row_key(view)].append(view)
    keys = sorted(rows)
    width = max(len(rows[key]) for key in keys)
    longest = next(rows[key] for key in keys if len(rows[key]) == width)
    blank = np.full((tile_px, tile_px, 3), 255, dtype=np.uint8)
    tiles = [[view.image for view in rows[key]] + [blank] * (width - len(rows[key])) for key in keys]
    row_captions = [f"t {value:.2f}" if kind == 0 else f"orbit {int(value)}" for kind, value in keys]
    column_captions = [f"az {view.azimuth_deg:.0f}" for view in longest]
    return contact_sheet(tiles, row_captions, column_captions, tile_px)
