"""Exponential learning-rate decay whose learning rates stay Python floats.

nerfstudio's `ExponentialDecayScheduler` computes its factor with numpy, so `LambdaLR` stores numpy scalars in the
optimizer and scheduler state; torch ≥ 2.6 loads checkpoints with `weights_only=True`, which rejects them, and
`ns-viewer` / `ns-export` / `e4d-export` then cannot load the run. Same schedule, plain floats.
"""

import math
from dataclasses import dataclass, field
from typing import Type

from nerfstudio.engine.schedulers import Scheduler, SchedulerConfig
from torch.optim import Optimizer, lr_scheduler


@dataclass
class FloatExponentialDecaySchedulerConfig(SchedulerConfig):
    """Exponential decay from the optimizer's learning rate to `lr_final` over `max_steps` steps."""

    _target: Type = field(default_factory=lambda: FloatExponentialDecayScheduler)
    lr_final: float = 1.6e-6
    """Learning rate reached at `max_steps` (kept afterwards)."""
    max_steps: int = 1500
    """Steps over which the rate decays."""


class FloatExponentialDecayScheduler(Scheduler):
    """lr(step) = lr_init^(1−s) · lr_final^s with s = min(step / max_steps, 1)."""

    config: FloatExponentialDecaySchedulerConfig

    def get_scheduler(self, optimizer: Optimizer, lr_init: float) -> lr_scheduler.LRScheduler:
        log_ratio = math.log(self.config.lr_final) - math.log(lr_init)
        max_steps = max(self.config.max_steps, 1)

        def factor(step: int) -> float:
            return math.exp(min(step / max_steps, 1.0) * log_ratio)

        return lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)
