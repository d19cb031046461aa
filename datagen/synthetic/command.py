"""`datagen synthetic`: procedural object datasets with ground truth and seeded label inconsistencies."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import tyro

from datagen.synthetic.inconsistency import InconsistencyConfig


@dataclass
class Synthetic:
    """Make a synthetic dataset: a procedural object, pseudo-labels with seeded inconsistencies, clean ground truth.

    3D (default): 63 labels on the SV3D orbits + 36 clean evaluation views. 4D (--dynamic): an animated object as
    a time x 16-view SyncDreamer matrix + clean held-out views and times + the front-view input video.
    """

    output_dir: Path
    """Dataset directory to write."""
    seed: int = 3
    """Seed of the object (layout, textures, motion) and of the inconsistencies."""
    dynamic: bool = False
    """Make a 4D dataset (animated object, SyncDreamer layout) instead of a 3D one (SV3D orbits)."""
    resolution: Optional[int] = None
    """Square image size in pixels (default: 256 for 3D, 128 for 4D)."""
    num_times: int = 17
    """4D only: training times spread over [0, 1]."""
    inconsistency: Annotated[InconsistencyConfig, tyro.conf.OmitArgPrefixes] = field(
        default_factory=InconsistencyConfig
    )
    """Seeded label inconsistencies: --inconsistency (preset level), then per-kind overrides (--warp, ...)."""
    supersample: int = 2
    """Anti-aliasing sub-samples per axis on silhouette pixels (1: off)."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def main(self) -> Path:
        """Writes the dataset and prints where and how long it took."""
        # Imported here so that building the CLI does not load trimesh/embree.
        from datagen.synthetic.scenes import make_dynamic_dataset, make_static_dataset

        start = time.perf_counter()
        if self.dynamic:
            path = make_dynamic_dataset(
                self.output_dir,
                seed=self.seed,
                resolution=self.resolution or 128,
                num_times=self.num_times,
                inconsistency=self.inconsistency,
                overwrite=self.overwrite,
                supersample=self.supersample,
            )
        else:
            path = make_static_dataset(
                self.output_dir,
                seed=self.seed,
                resolution=self.resolution or 256,
                inconsistency=self.inconsistency,
                overwrite=self.overwrite,
                supersample=self.supersample,
            )
        kind = "4D" if self.dynamic else "3D"
        print(f"wrote synthetic {kind} dataset to {path} in {time.perf_counter() - start:.1f} s")
        print(f"  preview: {path / 'preview' / 'contact_sheet.png'}")
        return path
