"""The 3DGS training set-up both Gaussian methods keep: Adam learning rates and the densification schedule.

Both papers train with "the original 3DGS settings" (RIGI) or "all other 4DGS hyper-parameters" (Efficient4D), and
4DGS inherits 3DGS's values. 3DGS's train.py counts densification, opacity resets and the position learning-rate
decay in absolute steps, separately from the iteration count, so presets that stop early keep these step counts
instead of rescaling them (the paper presets stop at 5,000 or 1,500 steps, before most of them come into play).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

from nerfstudio.engine.optimizers import AdamOptimizerConfig
from nerfstudio.engine.schedulers import ExponentialDecaySchedulerConfig

from nsglue.base_model import CpuSafeSplatfactoModelConfig

POSITION_LR_DECAY_STEPS = 30000
"""3DGS's (and 4DGS's) position_lr_max_steps: the position learning rate decays 100x over 30,000 steps."""

POSITION_LR = 1.6e-4
"""3DGS's position_lr_init, per unit of scene extent."""

POSITION_LR_FINAL = 1.6e-6
"""3DGS's position_lr_final, per unit of scene extent."""


def adam(lr: float, decay_to: Optional[float] = None, max_steps: int = POSITION_LR_DECAY_STEPS) -> dict:
    """One nerfstudio optimizer entry: Adam (eps 1e-15, as 3DGS) with an optional exponential decay to `decay_to`.

    The decay's learning rates are numpy scalars in the checkpoint; ``nsglue.checkpoints`` lets them load.
    """
    scheduler = None if decay_to is None else ExponentialDecaySchedulerConfig(lr_final=decay_to, max_steps=max_steps)
    return {"optimizer": AdamOptimizerConfig(lr=lr, eps=1e-15), "scheduler": scheduler}


def optimizers_3dgs(scene_extent: float, lr_decay_steps: int = POSITION_LR_DECAY_STEPS) -> Dict[str, dict]:
    """3DGS learning rates for one Gaussian set (position lr x the extent, decaying 100x over lr_decay_steps)."""
    return {
        "means": adam(POSITION_LR * scene_extent, POSITION_LR_FINAL * scene_extent, lr_decay_steps),
        "features_dc": adam(0.0025),
        "features_rest": adam(0.0025 / 20),
        "opacities": adam(0.05),
        "scales": adam(0.005),
        "quats": adam(0.001),
    }


@dataclass
class Densification3DGSModelConfig(CpuSafeSplatfactoModelConfig):
    """The splatfacto base with 3DGS's densification schedule and thresholds (4DGS keeps the same values)."""

    warmup_length: int = 500
    """No densification before this step (3DGS densify_from_iter 500)."""
    refine_every: int = 100
    """Densify/prune every this many steps (3DGS densification_interval 100)."""
    stop_split_at: int = 15000
    """Stop densifying at this step (3DGS densify_until_iter 15,000)."""
    reset_alpha_every: int = 30
    """Opacity reset every this many refinements = 3,000 steps (3DGS opacity_reset_interval 3,000)."""
    pause_refine_after_reset: Optional[int] = 0
    """No pause in densification after an opacity reset (3DGS has none)."""
    cull_alpha_thresh: float = 0.005
    """Prune Gaussians whose opacity falls below this (3DGS: 0.005)."""
    densify_size_thresh: float = 0.01
    """Clone below / split above this spatial scale x scene_extent (3DGS: percent_dense 0.01)."""
    cull_scale_thresh: float = 0.1
    """Prune Gaussians larger than this x scene_extent (3DGS: 0.1 x cameras_extent)."""
    stop_screen_size_at: int = 0
    """No screen-size based split/prune (3DGS does not use it for object scenes)."""
