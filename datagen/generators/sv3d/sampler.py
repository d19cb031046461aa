"""SV3D's sampler: Euler steps over EDM noise levels with per-frame classifier-free guidance and optional PAG.

Matches sgm's ``EulerEDMSampler`` (no churn: no noise after the initial draw) with ``Denoiser`` +
``VScalingWithEDMcNoise`` and ``TrianglePredictionGuider``: guidance is applied to the denoised estimate ``D`` per
frame, ``D = D_u + w_f (D_c - D_u) + s (D_c - D_p)``, where ``D_p`` is the PAG branch (``s = 0``: no PAG branch is run
at all). The loop runs in float32; only the UNet runs in its own dtype.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Optional

import torch
from jaxtyping import Float
from tqdm.auto import tqdm

from datagen.generators.sv3d.pag import perturbed_attention
from datagen.generators.sv3d.schedule import v_scalings


@dataclass
class Condition:
    """What the UNet is conditioned on for one orbit."""

    context: Float[torch.Tensor, "1 1 D"]
    """CLIP image embedding."""
    latent: Float[torch.Tensor, "1 4 h w"]
    """VAE latent of the noised input image (unscaled)."""
    camera: Float[torch.Tensor, "F 3"]
    """Per frame ``(cond_aug, polar_rad, azimuth_rad)``."""
    guidance: Float[torch.Tensor, " F"]
    """Per-frame classifier-free guidance scale."""


def denoise(
    unet,
    x: Float[torch.Tensor, "F 4 h w"],
    sigma: torch.Tensor,
    cond: Condition,
    pag_scale: float = 0.0,
) -> Float[torch.Tensor, "F 4 h w"]:
    """The guided denoised estimate ``D`` at noise level ``sigma`` (float32).

    The branches are stacked as whole blocks ``[uncond; cond]`` or ``[uncond; cond; perturbed]``: the unconditional
    one has zero CLIP embedding and zero image latent, but the same camera vector. With ``pag_scale`` the PAG
    processors must be installed on the UNet (``sample`` does it with ``pag.perturbed_attention``).
    """
    frames = x.shape[0]
    branches = 3 if pag_scale else 2
    dtype, device = unet.dtype, unet.device
    c_skip, c_out, c_in, c_noise = v_scalings(sigma)
    noisy = (x * c_in).to(device, dtype)[None].expand(branches, -1, -1, -1, -1)
    latent = cond.latent.to(device, dtype).expand(frames, -1, -1, -1)
    latents = torch.stack([torch.zeros_like(latent)] + [latent] * (branches - 1))
    context = cond.context.to(device, dtype)
    contexts = torch.cat([torch.zeros_like(context)] + [context] * (branches - 1))
    camera = cond.camera.to(device)[None].expand(branches, -1, -1)
    timestep = c_noise.to(device).expand(branches)
    out = unet(torch.cat([noisy, latents], dim=2), timestep, contexts, camera)[0].float().cpu()
    denoised = out * c_out + x[None] * c_skip
    w = cond.guidance[:, None, None, None]
    result = denoised[0] + w * (denoised[1] - denoised[0])
    if pag_scale:
        result = result + pag_scale * (denoised[1] - denoised[2])
    return result


def sample(
    unet,
    noise: Float[torch.Tensor, "F 4 h w"],
    sigmas: Float[torch.Tensor, " n1"],
    cond: Condition,
    pag_scale: float = 0.0,
    pag_layers: Optional[list[str]] = None,
    progress: Optional[tqdm] = None,
) -> Float[torch.Tensor, "F 4 h w"]:
    """Run the Euler EDM loop from ``noise`` (standard normal, float32 CPU); returns the final latents (float32 CPU).

    Args:
        sigmas: [steps + 1] noise levels ending in 0 (``schedule.edm_sigmas``).
        pag_scale: PAG strength ``s``; 0 runs the plain two-branch sampler.
        pag_layers: UNet module names that get the PAG processor (``pag.pag_layer_names``); needed when
            ``pag_scale`` is not 0.
        progress: a tqdm bar advanced once per step, or None.
    """
    if pag_scale and not pag_layers:
        raise ValueError("pag_scale is set but no PAG layers were given")
    x = noise.float() * torch.sqrt(1.0 + sigmas[0] ** 2.0)
    context = perturbed_attention(unet, pag_layers or []) if pag_scale else nullcontext()
    with context, torch.no_grad():
        for i in range(len(sigmas) - 1):
            sigma, next_sigma = sigmas[i], sigmas[i + 1]
            denoised = denoise(unet, x, sigma, cond, pag_scale)
            d = (x - denoised) / sigma
            x = x + (next_sigma - sigma) * d
            if progress is not None:
                progress.update(1)
    return x
