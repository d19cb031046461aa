"""SyncDreamer-T's synchronized multi-view DDIM loop (Efficient4D's ``SyncDDIMSampler``), on diffusers' scheduler.

Every step rebuilds each frame's spatial volume from all 16 noisy views, smooths the volumes over time (eq. 8;
SyncDreamer-T), then predicts the noise of every view from its frustum volume, in batches of frames and views.
All frames start from one shared initial noise; the per-step DDIM noise (eta > 0) is drawn per frame and view.
Random draws come from one CPU generator in the released order, so CPU runs reproduce the released sampler.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Optional

import torch
from diffusers import DDIMScheduler
from jaxtyping import Float
from torch import Tensor
from tqdm import tqdm

from datagen.generators.syncdreamer.model import SyncDreamerModel
from datagen.generators.syncdreamer.time_sync import smooth_volumes

TRAIN_TIMESTEPS = 1000


def make_scheduler() -> Any:
    """DDIM as the released sampler: SD's scaled-linear betas, timesteps ``range(0, 1000, 1000 / S) + 1``,
    ``alpha_prev = alphas_cumprod[0]`` at the last step, no x0 clipping."""
    return DDIMScheduler(
        num_train_timesteps=TRAIN_TIMESTEPS,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        timestep_spacing="leading",
    )


@dataclass(frozen=True)
class SamplingOptions:
    """How to sample (defaults: the released Efficient4D run)."""

    steps: int = 50
    """DDIM steps; must divide 1000 (the released timesteps)."""
    eta: float = 1.0
    """DDIM eta (the released sampler's default 1: stochastic)."""
    guidance: str = "decomposed"
    """``"decomposed"`` (Efficient4D's run) or ``"cfg"``."""
    scales: tuple[float, ...] = (2.0, 1.0)
    """Guidance scales: (s1, s2) for decomposed guidance, (s,) for CFG."""
    frames_per_batch: int = 4
    """Frames whose views go through the noise predictor together."""
    views_per_batch: int = 16
    """Views per noise-predictor call."""
    autocast: bool = True
    """On CUDA, run the frustum volumes and the UNet in float16 autocast, as Efficient4D does."""
    progress: bool = True
    """Show a progress bar over the steps."""


def check_steps(steps: int) -> None:
    if steps < 1 or TRAIN_TIMESTEPS % steps:
        raise ValueError(f"steps={steps}: must divide {TRAIN_TIMESTEPS} (e.g. 10, 20, 25, 50, 100, 200)")


def smoothed_volumes(
    model: SyncDreamerModel,
    x_t: Float[Tensor, "B N 4 h w"],
    t_embed: Tensor,
    v_embed: Tensor,
    weights: Optional[Tensor],
    frames_per_batch: int,
) -> Float[Tensor, "B C V V V"]:
    """All frames' spatial volumes (built ``frames_per_batch`` at a time), then smoothed over time if ``weights``."""
    chunks = [
        model.spatial_volumes(
            x_t[i : i + frames_per_batch], t_embed[i : i + frames_per_batch], v_embed[i : i + frames_per_batch]
        )
        for i in range(0, x_t.shape[0], frames_per_batch)
    ]
    volumes = torch.cat(chunks, 0)
    return volumes if weights is None else smooth_volumes(volumes, weights)


@torch.no_grad()
def sample_latents(
    model: SyncDreamerModel,
    x_input: Float[Tensor, "B 4 h w"],
    clip_embed: Float[Tensor, "B 1 E"],
    elevation: Float[Tensor, " B"],
    generator: torch.Generator,
    options: SamplingOptions,
    smoothing: Optional[Float[Tensor, "B B"]] = None,
) -> Float[Tensor, "B N 4 h w"]:
    """Denoise the N views of B frames together.

    Args:
        x_input: each frame's input-view latent (scaled by 0.18215).
        clip_embed: each frame's CLIP image embedding.
        elevation: each frame's input elevation in radians.
        generator: CPU generator for the initial noise and the per-step noise.
        smoothing: [B, B] time-synchronous weights (``time_sync.smoothing_weights``), or None for independent
            frames.
    """
    check_steps(options.steps)
    device = x_input.device
    B, N = x_input.shape[0], model.config.view_num
    h = x_input.shape[-1]
    scheduler = make_scheduler()
    scheduler.set_timesteps(options.steps)
    # Efficient4D: one initial noise for all frames (SyncDreamer drew one per sample)
    x = torch.randn((1, N, 4, h, h), generator=generator).expand(B, N, 4, h, h).to(device)
    v_embed = model.viewpoint_embedding(elevation)
    autocast = (
        torch.autocast(device_type="cuda", dtype=torch.float16)
        if options.autocast and device.type == "cuda"
        else nullcontext()
    )
    timesteps = scheduler.timesteps
    for step, t in enumerate(tqdm(timesteps, desc="SyncDreamer-T DDIM", disable=not options.progress)):
        t_batch = torch.full((B,), int(t), dtype=torch.long, device=device)
        t_embed = model.embed_time(t_batch)
        volumes = smoothed_volumes(model, x, t_embed, v_embed, smoothing, options.frames_per_batch)
        eps = torch.empty_like(x)
        for f in range(0, B, options.frames_per_batch):
            frames = slice(f, f + options.frames_per_batch)
            for v in range(0, N, options.views_per_batch):
                views = torch.arange(v, min(v + options.views_per_batch, N), device=device)
                with autocast:
                    eps[frames, views] = model.predict_noise(
                        x[frames, views],
                        t_batch[frames],
                        volumes[frames],
                        t_embed[frames],
                        v_embed[frames],
                        clip_embed[frames],
                        x_input[frames],
                        views,
                        options.guidance,
                        options.scales,
                    ).float()
        # the released sampler adds no noise at its last step; diffusers would add sigma_0 z
        last = step == len(timesteps) - 1
        noise = torch.zeros_like(x) if last else torch.randn(x.shape, generator=generator).to(device)
        x = scheduler.step(eps, t, x, eta=options.eta, variance_noise=noise).prev_sample
    return x
