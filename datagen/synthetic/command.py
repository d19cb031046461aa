"""`datagen synthetic`: procedural object datasets with ground truth and seeded label inconsistencies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from datagen.synthetic.inconsistency import InconsistencyConfig, Level


@dataclass
class Synthetic:
    """Make a synthetic dataset: a procedural object, pseudo-labels with seeded inconsistencies, clean ground truth.

    3D (default): 63 labels on the SV3D orbits + 36 clean evaluation views. 4D (--dynamic): an animated object as
    a time x 16-view SyncDreamer matrix + clean held-out views and times + the front-view input video.
    """

    out: Path
    """Dataset directory to write."""
    seed: int = 3
    """Seed of the object (layout, textures, motion) and of the inconsistencies."""
    dynamic: bool = False
    """Make a 4D dataset (animated object, SyncDreamer layout) instead of a 3D one (SV3D orbits)."""
    resolution: Optional[int] = None
    """Square image size in pixels (default: 256 for 3D, 128 for 4D)."""
    num_times: int = 17
    """4D only: training times spread over [0, 1]."""
    inconsistency: Level = "medium"
    """Preset strength of every inconsistency kind; the per-kind options below override it."""
    warp: Optional[float] = None
    """Peak smooth displacement of the object at the back view, in pixels at 256 px."""
    phantom: Optional[float] = None
    """Probability (0..1) at the back view that a label shows an extra part."""
    color_drift: Optional[float] = None
    """Peak relative colour gain/offset drift per view (smooth in azimuth)."""
    unseen_texture: Optional[float] = None
    """Blend (0..1) of an invented texture on the side the input view never saw, at the back view."""
    flicker: Optional[float] = None
    """Standard deviation of the per-frame brightness/colour jitter."""
    supersample: int = 2
    """Anti-aliasing sub-samples per axis on silhouette pixels (1: off)."""
    overwrite: bool = False
    """Replace an existing dataset at --out."""

    def inconsistency_config(self) -> InconsistencyConfig:
        return InconsistencyConfig(
            level=self.inconsistency,
            warp=self.warp,
            phantom=self.phantom,
            color_drift=self.color_drift,
            unseen_texture=self.unseen_texture,
            flicker=self.flicker,
        )

    def main(self) -> Path:
        """Writes the dataset and prints where and how long it took."""
        # Imported here so that building the CLI does not load trimesh/embree.
        from datagen.synthetic.scenes import make_dynamic_dataset, make_static_dataset

        start = time.perf_counter()
        if self.dynamic:
            path = make_dynamic_dataset(
                self.out,
                seed=self.seed,
                resolution=self.resolution or 128,
                num_times=self.num_times,
                inconsistency=self.inconsistency_config(),
                overwrite=self.overwrite,
                supersample=self.supersample,
            )
        else:
            path = make_static_dataset(
                self.out,
                seed=self.seed,
                resolution=self.resolution or 256,
                inconsistency=self.inconsistency_config(),
                overwrite=self.overwrite,
                supersample=self.supersample,
            )
        kind = "4D" if self.dynamic else "3D"
        print(f"wrote synthetic {kind} dataset to {path} in {time.perf_counter() - start:.1f} s")
        print(f"  preview: {path / 'preview' / 'contact_sheet.png'}")
        return path
