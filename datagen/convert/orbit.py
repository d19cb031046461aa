"""Converters for one multi-view sample: a folder of frames, an orbit video, a SyncDreamer grid image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

import numpy as np

from datagen.cameras import (
    SV3D_AMPLITUDES_DEG,
    SV3D_FRAMES_PER_ORBIT,
    SYNCDREAMER_ELEVATION_DEG,
    SYNCDREAMER_NUM_VIEWS,
    OrbitView,
    sv3d_orbits,
    syncdreamer_views,
)
from datagen.convert.base import ConvertBase, Layout
from datagen.images import ConvertError, list_images, read_image, read_video


def orbit_views(layout: Layout, count: int, amplitudes_deg: Tuple[float, ...], elevation_deg: float, source: str):
    """The cameras of ``count`` frames in a layout's order, or an error saying which counts the layout accepts."""
    if layout == "sv3d":
        orbits, remainder = divmod(count, SV3D_FRAMES_PER_ORBIT)
        if remainder or not 1 <= orbits <= len(amplitudes_deg):
            accepted = ", ".join(str(SV3D_FRAMES_PER_ORBIT * k) for k in range(1, len(amplitudes_deg) + 1))
            raise ConvertError(
                f"{source}: {count} frames, but layout sv3d takes {SV3D_FRAMES_PER_ORBIT} per orbit ({accepted} "
                f"for amplitudes {tuple(amplitudes_deg)}); pass all frames of whole orbits in order, or set "
                "--amplitudes-deg"
            )
        return sv3d_orbits(tuple(amplitudes_deg[:orbits]))
    if count != SYNCDREAMER_NUM_VIEWS:
        raise ConvertError(
            f"{source}: {count} frames, but layout syncdreamer takes exactly {SYNCDREAMER_NUM_VIEWS} views"
        )
    return syncdreamer_views(elevation_deg)


def frame_names(views: list[OrbitView]) -> list[str]:
    return [f"orbit{v.orbit}_{v.index:02d}.png" for v in views]


@dataclass
class OrbitConvert(ConvertBase):
    """Options of converters that read one orbit preset."""

    layout: Layout = "sv3d"
    """Camera layout of the frames: `sv3d` (21 frames per orbit, frame i at azimuth 360(i+1)/21, the last one the
    input view; 21 or 63 frames) or `syncdreamer` (16 views, azimuth 22.5 k, elevation --elevation-deg)."""
    amplitudes_deg: Tuple[float, ...] = SV3D_AMPLITUDES_DEG
    """sv3d: elevation amplitude A of each orbit in order (elevation = A sin(azimuth))."""
    elevation_deg: float = SYNCDREAMER_ELEVATION_DEG
    """syncdreamer: elevation of the 16 views."""

    def convert(self, images: list[np.ndarray], names: list[str], kind: str) -> Path:
        views = orbit_views(self.layout, len(images), self.amplitudes_deg, self.elevation_deg, str(self.input))
        self.check_sizes(images, names)
        return self.write(images, views, self.layout, kind, frame_names(views))


@dataclass
class ConvertFrames(OrbitConvert):
    """A folder of generated frames (natural order: frame2 before frame10) -> dataset."""

    def main(self) -> Path:
        files = list_images(self.input)
        return self.convert([read_image(f) for f in files], [str(f) for f in files], "frames")


@dataclass
class ConvertVideo(OrbitConvert):
    """An MP4/GIF of an orbit (what SV3D's sampling scripts save) -> dataset. Videos have no alpha: use
    --alpha key to cut the white background out."""

    def main(self) -> Path:
        frames = read_video(self.input)
        return self.convert(frames, [f"{self.input} frame {i}" for i in range(len(frames))], "video")


def split_strip(image: np.ndarray, num_views: int, source: str) -> list[np.ndarray]:
    """Cut an image of ``num_views`` square views side by side ([H, num_views H, C]) into the views."""
    height, width = image.shape[:2]
    if width != num_views * height:
        raise ConvertError(
            f"{source}: {width}x{height} is not {num_views} square views side by side (expected width "
            f"{num_views * height}); pass a SyncDreamer output image"
        )
    return [image[:, k * height : (k + 1) * height] for k in range(num_views)]


@dataclass
class ConvertGrid(ConvertBase):
    """A SyncDreamer output image (16 views of 256 x 256 side by side, 4096 x 256) -> dataset."""

    elevation_deg: float = SYNCDREAMER_ELEVATION_DEG
    """Elevation of the views."""

    def main(self) -> Path:
        tiles = split_strip(read_image(self.input), SYNCDREAMER_NUM_VIEWS, str(self.input))
        views = syncdreamer_views(self.elevation_deg)
        return self.write(tiles, views, "syncdreamer", "grid", frame_names(views))
