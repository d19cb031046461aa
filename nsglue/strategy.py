"""gsplat's densification strategy as the project's Gaussian methods use it (no nerfstudio imports)."""

from __future__ import annotations

from typing import Dict, Mapping

import torch
from gsplat.strategy import DefaultStrategy

from nsglue.gaussians import GAUSSIAN_KEYS


class NoInitialResetStrategy(DefaultStrategy):
    """gsplat 1.4.0's ``DefaultStrategy`` without its opacity reset at step 0 (``0 % reset_every == 0``).

    The step-0 reset clamps every opacity to ``2 * prune_opa`` before training starts (gsplat PR #735); with the
    3DGS threshold 0.005 that would drop the 0.1 initial opacity to 0.01.
    """

    def step_post_backward(self, params, optimizers, state, step, info, packed=False):  # noqa: D102
        if step == 0:
            self._update_state(params, state, info, packed=packed)
            return
        super().step_post_backward(params, optimizers, state, step, info, packed=packed)


def optimizer_view(optimizers: Mapping[str, torch.optim.Optimizer], suffix: str) -> Dict[str, torch.optim.Optimizer]:
    """The optimizers of one Gaussian set under the plain keys gsplat's strategy expects.

    nerfstudio keeps one global name -> optimizer map, so a second set registers ``means_2``, ``scales_2``, ...;
    gsplat's strategy indexes ``optimizers[key]`` for each key of the params dict it is given.
    """
    return {key: optimizers[key + suffix] for key in GAUSSIAN_KEYS}
