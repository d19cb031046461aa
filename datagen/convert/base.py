"""Options and output shared by every converter: background handling, resizing, camera layout, atomic writing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Tuple

import numpy as np
from jaxtyping import UInt8
from tqdm import tqdm

from datagen.assemble import write_matrix_dataset, write_orbit_dataset
from datagen.cameras import SV3D_FOV_DEG, SV3D_RADIUS, SYNCDREAMER_FOV_DEG, SYNCDREAMER_RADIUS, OrbitView
from datagen.dataset import summarize_dataset
from datagen.generators.base import GeneratedFrames, GeneratedView
from datagen.images import ConvertError, drop_alpha_on, key_background, resize

Layout = Literal["sv3d", "syncdreamer"]
LAYOUT_FOV_DEG = {"sv3d": SV3D_FOV_DEG, "syncdreamer": SYNCDREAMER_FOV_DEG}
LAYOUT_RADIUS = {"sv3d": SV3D_RADIUS, "syncdreamer": SYNCDREAMER_RADIUS}


@dataclass
class ConvertBase:
    """Options every converter shares."""

    input: Path
    """What the generator wrote (a folder, a video or an image, depending on the converter)."""
    output_dir: Path
    """Dataset directory to write (transforms.json + images/)."""
    alpha: Literal["keep", "key", "opaque"] = "keep"
    """Background: `keep` the images' alpha (RGB stays RGB = white background), `key` out a solid background
    colour into alpha, or make the images `opaque` (alpha composited onto --key-color)."""
    key_color: Tuple[int, int, int] = (255, 255, 255)
    """Background colour (RGB 0..255) to key out (and to composite onto with --alpha opaque)."""
    key_tolerance: float = 10.0
    """Keying: pixels within this max-channel distance (0..255) of the key colour become fully transparent."""
    key_softness: float = 30.0
    """Keying: alpha ramps from 0 to 1 over this many further levels (soft, anti-aliased edges)."""
    key_connected_only: bool = True
    """Keying: only remove background connected to the image border (keeps white parts inside the object)."""
    resolution: Optional[int] = None
    """Resize frames to this square size in pixels (default: keep the generator's size)."""
    fov_deg: Optional[float] = None
    """Horizontal field of view in degrees (default: the layout's, SV3D 33.8 / SyncDreamer 49.13)."""
    radius: Optional[float] = None
    """Camera distance (default: the layout's, SV3D 4.0 / SyncDreamer 1.5)."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def prepare(self, image: UInt8[np.ndarray, "H W C"]) -> UInt8[np.ndarray, "h w C"]:
        """Apply the background option, then resize."""
        if self.alpha == "key":
            image = key_background(
                image, self.key_color, self.key_tolerance, self.key_softness, self.key_connected_only
            )
        elif self.alpha == "opaque":
            image = drop_alpha_on(image, self.key_color)
        if self.resolution is not None:
            image = resize(image, self.resolution, self.resolution)
        return image

    def check_sizes(self, images: list[np.ndarray], names: list[str]) -> None:
        """All frames must share one size (checked before any processing, naming the odd file)."""
        first = images[0].shape[:2]
        for image, name in zip(images, names, strict=True):
            if image.shape[:2] != first:
                raise ConvertError(
                    f"{name}: frame is {image.shape[1]}x{image.shape[0]} but {names[0]} is {first[1]}x{first[0]}; "
                    "all frames of a dataset must have one size"
                )

    def write(
        self,
        images: list[np.ndarray],
        views: list[OrbitView],
        layout: Layout,
        kind: str,
        names: list[str],
        times: Optional[list[float]] = None,
        view_indices: Optional[list[int]] = None,
        generator_extra: Optional[dict] = None,
    ) -> Path:
        """Turn prepared-size frames and their views into a dataset; returns the dataset directory.

        Args:
            images: [H, W, 3|4] uint8 frames (before ``prepare``).
            views: the camera of each frame (radius ignored in favour of --radius or the layout's).
            layout: camera layout the frames came from (sets default FOV and radius).
            kind: converter name recorded in ``generator``.
            names: output file names (``images/<name>``), one per frame.
            times: per-frame time in [0, 1] (4D) or None.
            view_indices: per-frame view index (4D) or None.
            generator_extra: further keys for ``generator``.
        """
        fov_deg = self.fov_deg if self.fov_deg is not None else LAYOUT_FOV_DEG[layout]
        radius = self.radius if self.radius is not None else LAYOUT_RADIUS[layout]
        generated = []
        for index, (image, view, name) in enumerate(
            tqdm(list(zip(images, views, names, strict=True)), desc=f"convert {kind}", unit="frame")
        ):
            generated.append(
                GeneratedView(
                    image=self.prepare(image),
                    azimuth_deg=view.azimuth_deg,
                    elevation_deg=view.elevation_deg,
                    radius=radius,
                    orbit=view.orbit,
                    time=None if times is None else times[index],
                    view=None if view_indices is None else view_indices[index],
                    name=name,
                )
            )
        record = {
            "name": "convert",
            "kind": kind,
            "source": str(self.input),
            "layout": layout,
            "cameras": {"fov_deg": fov_deg, "radius": radius},
            "alpha": self.alpha,
            **(
                {
                    "key": {
                        "color": list(self.key_color),
                        "tolerance": self.key_tolerance,
                        "softness": self.key_softness,
                        "connected_only": self.key_connected_only,
                    }
                }
                if self.alpha == "key"
                else {}
            ),  # fmt: skip
            **(generator_extra or {}),
        }
        frames = GeneratedFrames(generated, fov_deg, record)
        write = write_orbit_dataset if times is None else write_matrix_dataset
        out = write(frames, self.output_dir, overwrite=self.overwrite)
        print(f"Wrote {out}: {summarize_dataset(out)}")
        return out
