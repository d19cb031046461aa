"""Time-aware full-image datamanager with confidence maps for Efficient4D.

One training image per step; its camera carries the frame's time in `Cameras.times` (set by the `generated-data`
dataparser, which also makes `includes_time` true so the viewer shows its time slider). At start-up the confidence
maps of all training images are computed once (or read from `DIR/.cache/confidence-<hash>.npz`) and attached to each
batch as `conf_rgb` / `conf_ssim` ([H, W, 1] uint8, 255 = full confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Literal, Optional, Tuple, Type

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.utils.rich_utils import CONSOLE

from datagen.dataparser import GeneratedDataParserConfig
from datagen.user_errors import UserError
from nsglue.datamanager import CpuSafeFullImageDatamanager, CpuSafeFullImageDatamanagerConfig


@dataclass
class E4DDataManagerConfig(CpuSafeFullImageDatamanagerConfig):
    """Full images with times, plus per-pixel confidence maps (Efficient4D eqs. 11–16)."""

    _target: Type = field(default_factory=lambda: E4DDataManager)
    dataparser: GeneratedDataParserConfig = field(default_factory=GeneratedDataParserConfig)
    """The project's dataset reader (keeps per-frame time and view)."""
    cache_images_type: Literal["uint8", "float32"] = "uint8"
    """Keep cached images as uint8 (4× less memory; a time × view matrix has hundreds of images)."""
    compute_confidence: bool = True
    """Compute (or load cached) confidence maps at start-up; off: every pixel has confidence 1."""
    confidence_mode: Literal["paper", "released"] = "paper"
    """`paper`: C = 1 − ½(|I−Î₁|+|I−Î₂|) and mean SSIM; `released`: the authors' code (min–max normalised error,
    end frames 1). See efficient4d_ns.confidence. Paper is the default: on benchmarks/e4d_synthetic.py it was
    0.05 dB above released (mean of 3 seeds, 150 iterations)."""
    interpolator: Literal["dis", "rife"] = "dis"
    """Midpoint interpolator for Î: OpenCV DIS optical flow (no weights) or RIFE (needs rife_weights)."""
    rife_weights: Optional[Path] = None
    """TorchScript export of RIFE's IFNet, used when interpolator is rife."""
    confidence_cache_dir: Optional[Path] = None
    """Where to cache the maps (default: <data>/.cache); PNGs for inspection are written beside the cache file."""


class E4DDataManager(CpuSafeFullImageDatamanager):
    """FullImageDatamanager that requires times and attaches confidence maps to training batches."""

    config: E4DDataManagerConfig

    def __init__(self, config: E4DDataManagerConfig, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        if not self.includes_time:
            raise UserError(
                f"{config.data or config.dataparser.data}: the dataset's frames have no 'time'; efficient4d needs a "
                "time × view dataset (datagen video-to-4d or datagen synthetic --dynamic)."
            )
        num_times = len(torch.unique(self.train_dataparser_outputs.cameras.times))
        if num_times == 1:
            CONSOLE.print(
                "[yellow]efficient4d: every training frame has the same time, so there is no motion to learn; a "
                "static object trains better with rigi-splat.[/yellow]"
            )
        self.conf_rgb: Optional[torch.Tensor] = None
        self.conf_ssim: Optional[torch.Tensor] = None
        if config.compute_confidence and self.test_mode != "inference":
            self._load_confidence()

    def _load_confidence(self) -> None:
        from efficient4d_ns.confidence import camera_groups, load_or_compute_confidence

        outputs = self.train_dataparser_outputs
        meta = outputs.metadata.get("frame_meta", {})
        num = len(outputs.image_filenames)
        views = meta["view"].tolist() if "view" in meta else [-1] * num
        if "time" in meta:
            times = meta["time"].tolist()
        else:
            assert outputs.cameras.times is not None  # a 4D dataset's cameras carry times
            times = outputs.cameras.times.reshape(-1).tolist()
        groups = camera_groups(views, outputs.cameras.camera_to_worlds.numpy())
        if min(views, default=0) < 0 and len(set(groups)) == num:
            CONSOLE.print(
                "[yellow]efficient4d: the frames have no 'view' and no two share a camera pose, so no frame has a "
                "time neighbour from its own camera: every confidence is 1. Add 'view' to the frames of "
                "transforms.json to group them.[/yellow]"
            )
        conf_rgb, conf_ssim, cache_file, hit = load_or_compute_confidence(
            self.dataparser.dataset().data_dir,  # where transforms.json really is (hashed into the cache key)
            [Path(p) for p in outputs.image_filenames],
            groups,
            times,
            self._make_interpolator(),
            self.config.confidence_mode,
            cache_dir=self.config.confidence_cache_dir,
        )
        CONSOLE.print(
            f"Confidence maps ({self.config.confidence_mode}) {'loaded from' if hit else 'cached in'} {cache_file}"
        )
        self.conf_rgb = torch.from_numpy(np.round(conf_rgb * 255).astype(np.uint8))
        self.conf_ssim = torch.from_numpy(np.round(conf_ssim * 255).astype(np.uint8))
        # The model reads this (via the pipeline's metadata hand-over) to show maps in the viewer.
        self.train_dataset.metadata["confidence"] = {
            "conf_rgb": self.conf_rgb,
            "c2w": outputs.cameras.camera_to_worlds.detach().clone(),
            "times": torch.tensor(times, dtype=torch.float32),
        }

    def _make_interpolator(self):
        from datagen.interpolate import DisFlowInterpolator, RifeInterpolator

        if self.config.interpolator == "rife":
            if self.config.rife_weights is None:
                raise ValueError(
                    "interpolator 'rife' needs --pipeline.datamanager.rife-weights PATH (TorchScript file)"
                )
            return RifeInterpolator(self.config.rife_weights)
        return DisFlowInterpolator()

    def next_train(self, step: int) -> Tuple[Cameras, Dict]:
        """One training image and its camera (with `times`), plus `conf_rgb`/`conf_ssim` [H, W, 1] uint8."""
        camera, data = super().next_train(step)
        if self.conf_rgb is not None:
            assert camera.metadata is not None and self.conf_ssim is not None  # set together with conf_rgb
            index = int(camera.metadata["cam_idx"])
            data["conf_rgb"] = self.conf_rgb[index, :, :, None].to(self.device)
            data["conf_ssim"] = self.conf_ssim[index, :, :, None].to(self.device)
        return camera, data
