"""RIGI's training schedule: render resolution grows 0.25 -> 0.5 -> 1.0 and frames enter by orbit.

Both schedules are fractions of the training length (paper, "Implementation Details"): resolution 0.25 until 20 %,
0.5 until 50 %, then 1.0; orbit 0 from the start, orbit 1 at 50 %, orbit 2 at 80 %. The orbit of each frame comes
from the `generated-data` dataparser's ``metadata["frame_meta"]["orbit"]`` (-1, or no metadata: always in).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Type

import torch
import torch.nn.functional as F
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.engine.callbacks import TrainingCallback, TrainingCallbackAttributes
from nerfstudio.utils.rich_utils import CONSOLE

from datagen.user_errors import UserError
from nsglue.datamanager import CpuSafeFullImageDatamanager, CpuSafeFullImageDatamanagerConfig


def resolution_scale_at(step: int, total_steps: int, fractions: Sequence[float], scales: Sequence[float]) -> float:
    """Render-resolution factor at ``step``: ``scales[i]`` from ``fractions[i-1] * total_steps`` on.

    Args:
        step: current training step (0-based).
        total_steps: length of training the fractions refer to.
        fractions: ascending fractions where the next scale starts, one fewer than ``scales``.
        scales: resolution factors, the first used from step 0.
    """
    if len(scales) != len(fractions) + 1:
        raise ValueError(f"resolution_scales needs one more entry than resolution_fractions, got {scales}, {fractions}")
    return scales[sum(step >= f * total_steps for f in fractions)]


def num_active_orbits_at(step: int, total_steps: int, orbit_fractions: Sequence[float]) -> int:
    """Number of orbits in training at ``step``: orbit ``k`` enters at ``orbit_fractions[k] * total_steps``."""
    return sum(step >= f * total_steps for f in orbit_fractions)


def resize_area(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Area-average resize of an ``[H, W, C]`` image (uint8 or float) to float32 ``[height, width, C]``."""
    if image.dtype == torch.uint8:
        image = image.float() / 255.0
    out = F.interpolate(image.permute(2, 0, 1)[None].float(), size=(height, width), mode="area")
    return out[0].permute(1, 2, 0)


@dataclass
class RigiDatamanagerConfig(CpuSafeFullImageDatamanagerConfig):
    """Full-image datamanager with RIGI's progressive resolution and orbit schedules."""

    _target: Type = field(default_factory=lambda: RigiDatamanager)
    resolution_fractions: Tuple[float, ...] = (0.2, 0.5)
    """Fractions of training where the next render resolution starts (paper: 20 %, 50 %)."""
    resolution_scales: Tuple[float, ...] = (0.25, 0.5, 1.0)
    """Render resolution factors, one more than resolution_fractions (paper: 0.25, 0.5, 1.0)."""
    orbit_fractions: Tuple[float, ...] = (0.0, 0.5, 0.8)
    """Fraction of training at which orbit k's frames enter (paper: 0 %, 50 %, 80 %); orbits beyond the list
    enter at the start."""
    schedule_total_steps: Optional[int] = None
    """Training length the fractions refer to; None: the trainer's max_num_iterations."""


class RigiDatamanager(CpuSafeFullImageDatamanager):
    """Serves only frames of the orbits active at the step, with cameras and labels at the scheduled resolution."""

    config: RigiDatamanagerConfig

    def __init__(self, config: RigiDatamanagerConfig, *args, **kwargs) -> None:
        # Read by sample_train_cameras, which nerfstudio's __init__ already calls.
        self.num_active_orbits = 1
        self.random_generator = random.Random(config.train_cameras_sampling_seed)
        # Length of training the schedule fractions refer to; None until the trainer is known (viewer-only use).
        self.total_steps: Optional[int] = config.schedule_total_steps
        super().__init__(config, *args, **kwargs)
        times = self.train_dataparser_outputs.cameras.times
        num_times = 0 if times is None else len(torch.unique(times))
        if num_times > 1:  # a static model would average the motion away without a word
            raise UserError(
                f"{config.data or config.dataparser.data}: the training frames show {num_times} different times (a "
                "4D dataset); rigi-splat reconstructs a static object: train it with `ns-train efficient4d`, or "
                "train one time slice with `generated-data --time T` after the method's options"
            )

    def get_training_callbacks(
        self, training_callback_attributes: TrainingCallbackAttributes
    ) -> List[TrainingCallback]:
        """Learns the training length from the trainer when ``schedule_total_steps`` is not set."""
        callbacks = super().get_training_callbacks(training_callback_attributes)
        trainer = training_callback_attributes.trainer
        if trainer is not None:
            trainer_steps = trainer.config.max_num_iterations
            if self.config.schedule_total_steps is None:
                self.total_steps = trainer_steps
            elif self.config.schedule_total_steps != trainer_steps:
                CONSOLE.print(
                    f"[yellow]RIGI schedule fractions refer to schedule_total_steps={self.config.schedule_total_steps}"
                    f", not the trainer's max_num_iterations={trainer_steps}."
                )
        return callbacks

    def schedule_length(self) -> int:
        """:attr:`total_steps`, or an error naming the fix when neither the trainer nor the config gave it."""
        if self.total_steps is None:
            raise ValueError(
                "RigiDatamanager needs the training length: train through ns-train (it is taken from "
                "max_num_iterations) or set --pipeline.datamanager.schedule-total-steps"
            )
        return self.total_steps

    def frame_orbits(self) -> torch.Tensor:
        """Orbit index of every training frame [N] (-1 where unknown)."""
        meta = (self.train_dataparser_outputs.metadata or {}).get("frame_meta") or {}
        orbit = meta.get("orbit")
        if orbit is None:
            return torch.full((len(self.train_dataset),), -1, dtype=torch.long)
        return torch.as_tensor(orbit, dtype=torch.long)

    def active_frame_indices(self, num_active_orbits: int) -> List[int]:
        """Training frames whose orbit has entered (orbits beyond ``orbit_fractions`` count as entered)."""
        orbits = self.frame_orbits()
        in_schedule = (orbits >= 0) & (orbits < len(self.config.orbit_fractions))
        active = ~in_schedule | (orbits < num_active_orbits)
        return torch.nonzero(active).flatten().tolist()

    def sample_train_cameras(self) -> List[int]:
        """A shuffled pass over the active frames (nerfstudio's random strategy, restricted to them)."""
        num_active = self.num_active_orbits
        indices = self.active_frame_indices(num_active)
        if not indices:
            raise ValueError(
                f"no training frame belongs to the first {num_active} orbit(s) of {self.config.data}; check the "
                "'orbit' keys of transforms.json or set --pipeline.datamanager.orbit-fractions"
            )
        self.random_generator.shuffle(indices)
        return indices

    def next_train(self, step: int) -> Tuple[Cameras, Dict]:
        """The next active frame; camera intrinsics and label scaled to the step's resolution."""
        total_steps = self.schedule_length()
        num_active = num_active_orbits_at(step, total_steps, self.config.orbit_fractions)
        if num_active != self.num_active_orbits:
            self.num_active_orbits = num_active
            self.train_unseen_cameras = self.sample_train_cameras()
        camera, data = super().next_train(step)
        scale = resolution_scale_at(step, total_steps, self.config.resolution_fractions, self.config.resolution_scales)
        if not math.isclose(scale, 1.0):
            camera.rescale_output_resolution(scale, scale_rounding_mode="round")
            height, width = int(camera.height.item()), int(camera.width.item())
            data["image"] = resize_area(data["image"], height, width)
            if "mask" in data:
                data["mask"] = resize_area(data["mask"].float(), height, width) > 0.5
        return camera, data
