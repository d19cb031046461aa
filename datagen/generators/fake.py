"""An in-memory generator for tests: deterministic views of a coloured disc with SV3D or SyncDreamer cameras."""

from __future__ import annotations

from typing import Literal

import numpy as np

from datagen.cameras import (
    SV3D_FOV_DEG,
    SYNCDREAMER_FOV_DEG,
    sv3d_orbits,
    syncdreamer_views,
)
from datagen.generators.base import GeneratedFrames, GeneratedView, MultiViewGenerator


class FakeGenerator(MultiViewGenerator):
    """Stands in for SV3D (``layout="sv3d"``: orbits) or SyncDreamer-T (``"syncdreamer"``: time x 16 views).

    Each view shows an opaque disc on a transparent background whose colour encodes the azimuth (red), the time
    (green) and the seed (blue), so tests can check that frames reach the dataset in the right place.

    Args:
        layout: camera layout of the views.
        resolution: square image size in pixels.
        frames_per_orbit: SV3D frames per orbit.
        amplitudes_deg: SV3D orbit elevation amplitudes.
    """

    name = "fake"

    def __init__(
        self,
        layout: Literal["sv3d", "syncdreamer"] = "sv3d",
        resolution: int = 16,
        frames_per_orbit: int = 21,
        amplitudes_deg: tuple[float, ...] = (0.0, -20.0, 40.0),
    ):
        self.layout = layout
        self.resolution = resolution
        self.frames_per_orbit = frames_per_orbit
        self.amplitudes_deg = amplitudes_deg

    def _disc(self, azimuth_deg: float, time: float, seed: int) -> np.ndarray:
        size = self.resolution
        yy, xx = np.mgrid[0:size, 0:size]
        inside = (xx - (size - 1) / 2) ** 2 + (yy - (size - 1) / 2) ** 2 <= (size / 3) ** 2
        image = np.zeros((size, size, 4), dtype=np.uint8)
        colour = (round(255 * azimuth_deg / 360.0), round(255 * time), seed % 256, 255)
        image[inside] = colour
        return image

    def generate(self, inputs, *, seed: int) -> GeneratedFrames:
        """``inputs``: one image (sv3d) or a list of K frames (syncdreamer: K times x 16 views); only counted."""
        if self.layout == "sv3d":
            views = [
                GeneratedView(
                    self._disc(v.azimuth_deg, 0.0, seed), v.azimuth_deg, v.elevation_deg, v.radius, orbit=v.orbit
                )
                for v in sv3d_orbits(self.amplitudes_deg, self.frames_per_orbit)
            ]
            return GeneratedFrames(views, SV3D_FOV_DEG, {"name": self.name, "seed": seed, "layout": "sv3d"})
        count = len(inputs)
        times = [0.0] if count == 1 else [k / (count - 1) for k in range(count)]
        views = [
            GeneratedView(
                self._disc(v.azimuth_deg, t, seed),
                v.azimuth_deg,
                v.elevation_deg,
                v.radius,
                orbit=0,
                time=t,
                view=v.index,
                extra={"input_view": v.index == 0},
            )
            for t in times
            for v in syncdreamer_views()
        ]
        return GeneratedFrames(views, SYNCDREAMER_FOV_DEG, {"name": self.name, "seed": seed, "layout": "syncdreamer"})
