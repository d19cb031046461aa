"""Contact sheets: a grid of RGBA tiles on white with row and column captions, saved as PNG."""

from __future__ import annotations

import cv2
import numpy as np

_HEADER_PX = 18
_CAPTION_PX = 92
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def on_white(rgba: np.ndarray) -> np.ndarray:
    """[H, W, 4] uint8 straight-alpha RGBA -> [H, W, 3] uint8 RGB composited on white."""
    alpha = rgba[..., 3:].astype(np.float64) / 255.0
    return np.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def difference_tile(label: np.ndarray, clean: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """[H, W, 3] uint8 amplified absolute difference of two RGBA images composited on white (black = equal)."""
    difference = np.abs(on_white(label).astype(np.float64) - on_white(clean).astype(np.float64))
    return np.clip(difference * gain, 0, 255).astype(np.uint8)


def _text(canvas: np.ndarray, text: str, x: int, y: int, scale: float = 0.38) -> None:
    cv2.putText(canvas, text, (x, y), _FONT, scale, (40, 40, 40), 1, cv2.LINE_AA)


def contact_sheet(
    tiles: list[list[np.ndarray]], row_captions: list[str], column_captions: list[str], tile_px: int | None = None
) -> np.ndarray:
    """Lays out tiles in a grid.

    Args:
        tiles: rows of [H, W, 3] RGB or [H, W, 4] RGBA uint8 tiles (RGBA is composited on white), all one size.
        row_captions: one caption per row (left margin).
        column_captions: one caption per column (top margin).
        tile_px: resize tiles to this size (None keeps them).

    Returns:
        [H', W', 3] uint8 RGB sheet.
    """
    if len(tiles) != len(row_captions) or any(len(row) != len(column_captions) for row in tiles):
        raise ValueError("contact_sheet: one caption per row and per column is required")
    first = tiles[0][0]
    size = tile_px or first.shape[0]
    rows = len(tiles)
    columns = len(column_captions)
    canvas = np.full((_HEADER_PX + rows * (size + 2), _CAPTION_PX + columns * (size + 2), 3), 255, dtype=np.uint8)
    for c, caption in enumerate(column_captions):
        _text(canvas, caption, _CAPTION_PX + c * (size + 2) + 2, _HEADER_PX - 5)
    for r, (row, caption) in enumerate(zip(tiles, row_captions, strict=True)):
        top = _HEADER_PX + r * (size + 2)
        _text(canvas, caption, 3, top + size // 2 + 4)
        for c, tile in enumerate(row):
            rgb = on_white(tile) if tile.shape[-1] == 4 else tile
            if rgb.shape[0] != size:
                rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
            left = _CAPTION_PX + c * (size + 2)
            canvas[top : top + size, left : left + size] = rgb
    return canvas
