"""The `generated-data` nerfstudio dataparser: reads the dataset contract as written, without re-centring or
re-scaling, and keeps what the stock `nerfstudio-data` parser drops.

- Poses stay exactly as in ``transforms.json`` (object at the origin, +z up), so angles, radii and ground truth keep
  their meaning and a checkpoint can be compared across datasets.
- ``time`` goes into ``Cameras.times`` and the parser reports ``includes_time`` (which nerfstudio's datamanager copies
  right after constructing the parser, so it is decided in ``__init__`` from ``transforms.json``; the viewer shows its
  time slider from it).
- ``metadata["frame_meta"]`` keeps ``orbit``, ``view``, ``time``, ``azimuth_deg``, ``elevation_deg`` per image.
- ``train_filenames`` / ``test_filenames`` give the splits; "val" and "test" both read the test list (and fall back to
  the training frames, with a note, when the dataset has no ground-truth views).
- RGBA images stay RGBA (``alpha_color=None``); the models composite onto their own backgrounds.
- The dataset is judged by ``datagen.validate`` (the same checks as ``datagen validate``); images are decoded when
  they changed since they last passed a full check. Its errors are shown without a traceback (``datagen.user_errors``).
- The scene box is the generator record's object extent where it fits the cameras (``datagen.scene``), with a note
  when it does not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Type

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.data.dataparsers.base_dataparser import DataParser, DataParserConfig, DataparserOutputs
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.utils.rich_utils import CONSOLE

from datagen.dataparser_snapshot import (
    SNAPSHOT_NAME,
    GeneratedDataparserOutputs,
    outputs_from_snapshot,
    snapshot_has_time,
)
from datagen.dataset import DatasetError, FrameRecord, GeneratedDataset, nearest_camera_distance, read_dataset
from datagen.scene import scene_extent
from datagen.user_errors import UserError, show_without_traceback
from datagen.validate import TRANSFORMS_NAME


@dataclass
class GeneratedDataParserConfig(DataParserConfig):
    """Reads a `datagen` dataset (transforms.json + images) with poses, times and per-frame keys unchanged."""

    _target: Type = field(default_factory=lambda: GeneratedDataParser)
    data: Path = Path()
    """Dataset directory holding transforms.json (or the transforms.json file itself)."""
    time: Optional[float] = None
    """Read only the frames at this time of a 4D dataset, as a 3D dataset (e.g. to train rigi-splat on one time
    slice); None: all frames."""
    snapshot: Optional[Path] = None
    """Read the cameras from a training run's dataset_cameras.json instead of the dataset (no images; what exports
    need when the dataset has moved). None: read the dataset."""
    check_pixels: bool = False
    """Decode every image while validating, always; off: only when the images changed since they last passed a full
    check (``datagen validate`` or an earlier run)."""


def _dataset_dir(data: Path) -> Path:
    data = Path(data)
    return data.parent if data.suffix == ".json" else data


def _frames_have_time(data_dir: Path) -> bool:
    """Whether any frame of ``transforms.json`` carries ``time``; False when the file cannot be read yet (parsing
    reports that properly)."""
    try:
        meta = json.loads((data_dir / TRANSFORMS_NAME).read_text(encoding="utf-8"))
        return any(isinstance(f, dict) and "time" in f for f in meta.get("frames", []))
    except (OSError, ValueError, AttributeError):
        return False


def frame_meta(frames: list[FrameRecord]) -> dict[str, torch.Tensor]:
    """Per-image keys as tensors in frame order: orbit/view (-1 if absent), time/azimuth/elevation (nan if absent)."""

    def column(key: str, dtype: torch.dtype, missing: float) -> torch.Tensor:
        values = [getattr(f, key) for f in frames]
        return torch.tensor([missing if v is None else v for v in values], dtype=dtype)

    return {
        "orbit": column("orbit", torch.long, -1),
        "view": column("view", torch.long, -1),
        "time": column("time", torch.float32, math.nan),
        "azimuth_deg": column("azimuth_deg", torch.float32, math.nan),
        "elevation_deg": column("elevation_deg", torch.float32, math.nan),
    }


class GeneratedDataParser(DataParser):
    """Dataparser for the `datagen` dataset contract."""

    config: GeneratedDataParserConfig

    def __init__(self, config: GeneratedDataParserConfig):
        super().__init__(config=config)
        show_without_traceback(DatasetError)
        # Instance attribute: the datamanager reads it before any split is parsed.
        if config.snapshot is not None:
            self.includes_time = snapshot_has_time(config.snapshot)
        else:
            self.includes_time = config.time is None and _frames_have_time(_dataset_dir(config.data))
        self._dataset: GeneratedDataset | None = None

    def dataset(self) -> GeneratedDataset:
        """The parsed (and validated) dataset, read once."""
        if self._dataset is None:
            data_dir = _dataset_dir(self.config.data)
            if not data_dir.exists():
                raise UserError(
                    f"dataset {data_dir} does not exist (moved or deleted?). Training reads it, and nerfstudio's "
                    "ns-eval / ns-export / ns-viewer rebuild the datamanager from it: move it back, or set `data:` "
                    f"in the run's config.yml to its new place. e4d-export works without it ({SNAPSHOT_NAME})."
                )
            check_pixels = True if self.config.check_pixels else None  # None: decode unless already checked
            self._dataset = read_dataset(_dataset_dir(self.config.data), check_pixels=check_pixels)
        return self._dataset

    def _split_frames(self, split: str) -> list[FrameRecord]:
        dataset = self.dataset()
        if split == "train":
            return self._time_slice(dataset.split_frames("train"), "train")
        if split not in ("val", "test"):
            raise ValueError(f"split={split!r}: expected 'train', 'val' or 'test'")
        frames = self._time_slice(dataset.split_frames("test"), "test")
        if not frames:
            CONSOLE.print(
                f"[yellow]{dataset.data_dir}: test_filenames is empty (no ground-truth views); "
                f"evaluating on the training frames.[/yellow]"
            )
            frames = self._time_slice(dataset.split_frames("train"), "train")
        return frames

    def _time_slice(self, frames: list[FrameRecord], split: str) -> list[FrameRecord]:
        """The frames at ``config.time`` (all frames when it is None)."""
        if self.config.time is None:
            return frames
        chosen = [f for f in frames if f.time is not None and math.isclose(f.time, self.config.time, abs_tol=1e-6)]
        if not chosen and split == "train":
            times = sorted({f.time for f in frames if f.time is not None})
            shown = ", ".join(f"{t:g}" for t in times[:12]) + (" ..." if len(times) > 12 else "")
            raise UserError(
                f"generated-data --time {self.config.time:g}: no training frame of "
                f"{self.dataset().data_dir} has that time; its times are: {shown or 'none (a 3D dataset)'}"
            )
        return chosen

    def _generate_dataparser_outputs(self, split: str = "train", **kwargs) -> DataparserOutputs:
        if self.config.snapshot is not None:  # the training split's cameras serve every split
            return outputs_from_snapshot(self.config.snapshot)
        dataset = self.dataset()
        frames = self._split_frames(split)
        intrinsics = [dataset.frame_intrinsics(f) for f in frames]

        def per_frame(key: str, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor([[getattr(k, key)] for k in intrinsics], dtype=dtype)

        c2w_gl = torch.from_numpy(np.stack([f.c2w_gl[:3, :4] for f in frames])).float()
        # validate_dataset guarantees time on every frame or none
        times = torch.tensor([[f.time] for f in frames], dtype=torch.float32) if self.includes_time else None
        cameras = Cameras(
            camera_to_worlds=c2w_gl,
            fx=per_frame("fl_x", torch.float32),
            fy=per_frame("fl_y", torch.float32),
            cx=per_frame("cx", torch.float32),
            cy=per_frame("cy", torch.float32),
            width=per_frame("w", torch.long),
            height=per_frame("h", torch.long),
            camera_type=CameraType.PERSPECTIVE,
            times=times,
        )
        extent, note = scene_extent(dataset.generator, nearest_camera_distance(dataset), self.includes_time)
        if note and split == "train":
            CONSOLE.print(f"[yellow]{dataset.data_dir / TRANSFORMS_NAME}: generator: {note}[/yellow]")
        return GeneratedDataparserOutputs(
            image_filenames=[dataset.data_dir / f.file_path for f in frames],
            cameras=cameras,
            alpha_color=None,
            scene_box=SceneBox(aabb=torch.tensor([[-extent] * 3, [extent] * 3], dtype=torch.float32)),
            dataparser_scale=1.0,
            metadata={"frame_meta": frame_meta(frames), "generator": dataset.generator},
        )
