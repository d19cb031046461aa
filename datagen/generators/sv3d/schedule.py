"""SV3D's sampling numbers as pure functions: EDM noise levels, v-prediction scalings, the triangle guidance scale.

All follow Stability's reference (``sgm``: ``EDMDiscretization``, ``VScalingWithEDMcNoise``,
``TrianglePredictionGuider``), computed in float32 as sgm does, so a float32 run matches it step for step.
"""

from __future__ import annotations

import torch
from jaxtyping import Float

SIGMA_MIN = 0.002
SIGMA_MAX = 700.0
"""SV3D's largest noise level (``EDMDiscretization(sigma_max=700)``)."""
RHO = 7.0
MIN_GUIDANCE = 1.0
"""Classifier-free guidance at the first and last frame (the input view and its neighbour)."""
MAX_GUIDANCE = 2.5
"""Classifier-free guidance at the middle frame (the back view)."""


def edm_sigmas(steps: int) -> Float[torch.Tensor, " steps_plus_1"]:
    """Karras/EDM noise levels from 700 down to 0.002, then 0: ``steps + 1`` float32 values (sgm's, bit for bit)."""
    if steps < 1:
        raise ValueError(f"steps={steps}: need at least one sampling step")
    ramp = torch.linspace(0, 1, steps)
    min_inv_rho = SIGMA_MIN ** (1 / RHO)
    max_inv_rho = SIGMA_MAX ** (1 / RHO)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** RHO
    return torch.cat([sigmas, sigmas.new_zeros(1)])


def v_scalings(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """EDM preconditioning for v-prediction with sigma_data = 1: ``(c_skip, c_out, c_in, c_noise)``.

    ``D(x) = net(c_in x, c_noise) c_out + c_skip x``; same shape as ``sigma``.
    """
    c_skip = 1.0 / (sigma**2 + 1.0)
    c_out = -sigma / (sigma**2 + 1.0) ** 0.5
    c_in = 1.0 / (sigma**2 + 1.0) ** 0.5
    c_noise = 0.25 * sigma.log()
    return c_skip, c_out, c_in, c_noise


def triangle_guidance(
    frames: int, min_scale: float = MIN_GUIDANCE, max_scale: float = MAX_GUIDANCE
) -> Float[torch.Tensor, " frames"]:
    """Per-frame guidance scale: ``min`` at both ends of the orbit, ``max`` at the middle (21 frames: frame 10)."""
    values = torch.linspace(0, 1, frames)
    triangle = 2 * (values - torch.floor(values + 0.5)).abs()
    return triangle * (max_scale - min_scale) + min_scale
