"""Converter for a 4D image matrix (time x view) -> dataset with per-frame ``time`` and ``view``.

Two layouts are recognised in the input folder:

- one file per image named ``{t}_{v}.png`` (time index, view index), e.g. ``0_0.png ... 60_15.png``;
- Efficient4D's ``data/NN.png``: one file per time index, the 16 SyncDreamer views side by side (4096 x 256).

Time indices are normalised to [0, 1] by ``(t - t_min) / (t_max - t_min)``, so uneven spacing is kept; views are
SyncDreamer's (azimuth 22.5 v, elevation --elevation-deg).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from datagen.cameras import SYNCDREAMER_ELEVATION_DEG, SYNCDREAMER_NUM_VIEWS, syncdreamer_views
from datagen.convert.base import ConvertBase
from datagen.convert.orbit import split_strip
from datagen.images import ConvertError, list_images, read_image

PAIR_NAME = re.compile(r"^(\d+)_(\d+)$")
STRIP_NAME = re.compile(r"^(\d+)$")


def matrix_cells(files: list[Path]) -> tuple[str, dict[tuple[int, int], Path] | dict[int, Path]]:
    """Classify a folder's files as ``pairs`` ({(t, v): file}) or ``strips`` ({t: file}); other names are errors."""
    pairs: dict[tuple[int, int], Path] = {}
    strips: dict[int, Path] = {}
    other: list[Path] = []
    for file in files:
        cells: dict[Any, Path]
        key: Any  # (t, v) for pairs, t for strips
        if match := PAIR_NAME.match(file.stem):
            cells, key = pairs, (int(match[1]), int(match[2]))
        elif match := STRIP_NAME.match(file.stem):
            cells, key = strips, int(match[1])
        else:
            other.append(file)
            continue
        if key in cells:  # e.g. 0_0.png and 00_00.png: neither may silently win
            raise ConvertError(f"{file} and {cells[key]} are the same matrix cell {key}; keep one of them")
        cells[key] = file
    if pairs and not strips and not other:
        return "pairs", pairs
    if strips and not pairs and not other:
        return "strips", strips
    example = (other or files)[0]
    raise ConvertError(
        f"{example}: name does not fit an image matrix; name files '{{t}}_{{v}}.png' (time, view) or 'NN.png' "
        "(one strip of 16 views per time), and keep nothing else in the folder"
    )


def normalised_times(indices: list[int]) -> dict[int, float]:
    """Time index -> time in [0, 1] (a single time maps to 0)."""
    low, high = min(indices), max(indices)
    return {t: 0.0 if high == low else (t - low) / (high - low) for t in indices}


@dataclass
class ConvertMatrix(ConvertBase):
    """A folder of a time x view image matrix (`{t}_{v}.png`, or Efficient4D's `NN.png` strips) -> 4D dataset."""

    elevation_deg: float = SYNCDREAMER_ELEVATION_DEG
    """Elevation of the 16 SyncDreamer views."""

    def main(self) -> Path:
        layout, found = matrix_cells(list_images(self.input))
        views = syncdreamer_views(self.elevation_deg)
        cells: dict[tuple[int, int], Any]  # (t, v) -> file ("pairs") or (strip file, tile) ("strips")
        if layout == "strips":
            cells = {
                (t, v): (file, tile)
                for t, file in cast(dict[int, Path], found).items()
                for v, tile in enumerate(split_strip(read_image(file), SYNCDREAMER_NUM_VIEWS, str(file)))
            }
        else:
            cells = cast(dict[tuple[int, int], Any], found)
        time_indices = sorted({t for t, _ in cells})
        view_indices = sorted({v for _, v in cells})
        if view_indices[-1] >= SYNCDREAMER_NUM_VIEWS:
            t, v = next(key for key in cells if key[1] == view_indices[-1])
            raise ConvertError(f"{cells[(t, v)]}: view {v}, but SyncDreamer's views are 0..15")
        missing = [(t, v) for t in time_indices for v in view_indices if (t, v) not in cells]
        if missing:
            shown = ", ".join(f"{t}_{v}.png" for t, v in missing[:8])
            raise ConvertError(f"{self.input}: the matrix has holes, missing {shown}; every time needs every view")
        times = normalised_times(time_indices)
        keys = [(t, v) for t in time_indices for v in view_indices]
        if layout == "pairs":
            names = [str(cells[key]) for key in keys]
            images = [read_image(cells[key]) for key in keys]
        else:
            names = [f"{cells[key][0]} view {key[1]}" for key in keys]
            images = [cells[key][1] for key in keys]
        self.check_sizes(images, names)
        return self.write(
            images,
            [views[v] for _, v in keys],
            "syncdreamer",
            "matrix",
            [f"t{t:03d}_v{v:02d}.png" for t, v in keys],
            times=[times[t] for t, _ in keys],
            view_indices=[v for _, v in keys],
            generator_extra={"matrix_layout": layout, "time_indices": time_indices},
        )
