"""The SyncDreamer-T generator: a clip's K frames -> K x 16 views (time x view matrix) with SyncDreamer's cameras."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from jaxtyping import Float, UInt8
from torch import Tensor

from datagen.cameras import SYNCDREAMER_FOV_DEG, syncdreamer_views
from datagen.generators.base import GeneratedFrames, GeneratedView, MultiViewGenerator
from datagen.generators.syncdreamer.files import check_files
from datagen.generators.syncdreamer.loading import Networks, released_networks, tiny_random_networks
from datagen.generators.syncdreamer.model import LATENT_SCALE
from datagen.generators.syncdreamer.sampler import SamplingOptions, check_steps, sample_latents
from datagen.generators.syncdreamer.settings import TINY_RANDOM, SyncDreamerSettings
from datagen.generators.syncdreamer.time_sync import smoothing_weights
from datagen.images import key_background
from datagen.options import check_options
from datagen.user_errors import UserError

LOG = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def sampling_options(settings: SyncDreamerSettings) -> SamplingOptions:
    """The sampler's options from the settings (checked: guidance, scales, steps, batch sizes, eta)."""
    check_options(settings)  # the commands' rules (steps, eta, batch sizes, ...)
    if settings.guidance not in ("decomposed", "cfg"):
        raise UserError(f"--guidance {settings.guidance}: use decomposed or cfg")
    scales = (
        tuple(float(s) for s in settings.cfg_scales) if settings.guidance == "decomposed" else (settings.cfg_scale,)
    )
    if len(scales) != (2 if settings.guidance == "decomposed" else 1):
        scales_given = " ".join(str(s) for s in settings.cfg_scales)
        raise UserError(f"--cfg-scales {scales_given}: decomposed guidance takes two scales (image, volume)")
    try:
        check_steps(settings.steps)
    except ValueError as error:
        raise UserError(f"--steps: {error}") from None
    return SamplingOptions(
        steps=settings.steps,
        eta=settings.eta,
        guidance=settings.guidance,
        scales=scales,
        frames_per_batch=settings.frames_per_batch,
        views_per_batch=settings.views_per_batch,
        autocast=settings.autocast,
        progress=settings.progress,
    )


def to_uint8(images: Float[Tensor, "B 3 H W"]) -> UInt8[np.ndarray, "B H W 3"]:
    """[-1, 1] -> uint8 as the released code (clip, scale, truncate)."""
    x = (images.clamp(-1, 1).permute(0, 2, 3, 1).float().cpu().numpy() * 0.5 + 0.5) * 255
    return x.astype(np.uint8)


class SyncDreamerTGenerator(MultiViewGenerator):
    """SyncDreamer with Efficient4D's time-synchronous spatial volumes and shared initial noise."""

    name = "syncdreamer-t"

    def __init__(self, networks: Networks, settings: SyncDreamerSettings, device: torch.device):
        self.networks = networks
        self.settings = settings
        self.device = device
        self.options = sampling_options(settings)
        self.image_size = networks.model.config.image_size

    def _images(self, frames: Sequence[np.ndarray]) -> Float[Tensor, "K 3 S S"]:
        if len(frames) < 1:
            raise ValueError("SyncDreamer-T needs at least one frame")
        out = []
        for index, frame in enumerate(frames):
            frame = np.asarray(frame)
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] != frame.shape[1]:
                raise ValueError(f"frame {index}: need a square [S, S, 3] uint8 image on white, got {frame.shape}")
            out.append(torch.from_numpy(frame).permute(2, 0, 1).float() / 127.5 - 1.0)
        images = torch.stack(out)
        if images.shape[-1] != self.image_size:  # only the tiny networks work at another size
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="area")
        return images.to(self.device)

    @torch.no_grad()
    def generate(self, inputs, *, seed: int) -> GeneratedFrames:
        """K framed ``[S, S, 3]`` uint8 frames on white -> K x 16 RGBA views (``time = k / (K - 1)``)."""
        latents = self.sample(self._images(list(inputs)), seed)
        K = latents.shape[0]
        times = [0.0] if K == 1 else [k / (K - 1) for k in range(K)]
        views = []
        for k in range(K):
            decoded = self.networks.vae.decode(latents[k] / LATENT_SCALE).sample
            for camera, rgb in zip(syncdreamer_views(), to_uint8(decoded), strict=True):
                views.append(
                    GeneratedView(
                        key_background(rgb),
                        camera.azimuth_deg,
                        camera.elevation_deg,
                        camera.radius,
                        orbit=0,
                        time=times[k],
                        view=camera.index,
                        extra={"input_view": camera.index == 0},
                    )
                )
        return GeneratedFrames(views, SYNCDREAMER_FOV_DEG, self.record(seed, K))

    @torch.no_grad()
    def sample(self, images: Float[Tensor, "K 3 S S"], seed: int) -> Float[Tensor, "K 16 4 h w"]:
        """The 16 views' latents of each frame (images in [-1, 1]); the same seed gives the same latents."""
        nets, options = self.networks, self.options
        K = images.shape[0]
        batch = options.frames_per_batch
        generator = torch.Generator().manual_seed(int(seed))
        # released order of random draws: VAE posterior of every frame, initial noise, per-step noise
        posteriors = [nets.vae.encode(images[i : i + batch]).latent_dist for i in range(0, K, batch)]
        mean = torch.cat([p.mean for p in posteriors])
        std = torch.cat([p.std for p in posteriors])
        x_input = (mean + std * torch.randn(mean.shape, generator=generator).to(self.device)) * LATENT_SCALE
        clip_embed = torch.cat([nets.clip(images[i : i + batch]) for i in range(0, K, batch)])
        elevation = torch.full((K,), float(np.radians(self.settings.elevation_deg)), device=self.device)
        # the paper's weights (eq. 9, 14); the released get_w differs for N = 3..6 (hand-written matrices, and the
        # 7-tap kernel for 5 and 6 through an `if` that should be `elif`); both agree for N = 1, 2 and N >= 7
        weights = smoothing_weights(K, self.settings.cyclic) if self.settings.smooth else None
        return sample_latents(nets.model, x_input, clip_embed, elevation, generator, options, weights)

    def record(self, seed: int, frames: int) -> dict:
        s = self.settings
        note = {"note": "tiny random networks: the views are noise"} if s.checkpoint == TINY_RANDOM else {}
        return {
            "name": self.name,
            "model": "SyncDreamer (Efficient4D SyncDreamer-T sampler)",
            "checkpoint": s.checkpoint,
            "clip_weights": s.clip_weights,
            "seed": int(seed),
            "frames": frames,
            "steps": s.steps,
            "guidance": s.guidance,
            "guidance_scales": list(self.options.scales),
            "eta": s.eta,
            "smoothing": "paper weights (Efficient4D eq. 8, 9, 14)" if s.smooth else "off",
            "cyclic": s.cyclic,
            "elevation_deg": s.elevation_deg,
            **note,
        }


def build_generator(settings: SyncDreamerSettings) -> SyncDreamerTGenerator:
    """The generator for ``settings`` (see ``load_syncdreamer_t_generator``)."""
    device = resolve_device(settings.device)
    sampling_options(settings)  # bad options fail before loading
    if settings.checkpoint == TINY_RANDOM:
        networks = tiny_random_networks()
    else:
        checkpoint, clip_weights = check_files(settings.checkpoint, settings.clip_weights)
        LOG.info("loading SyncDreamer from %s and CLIP from %s", checkpoint, clip_weights)
        networks = released_networks(checkpoint, clip_weights)
    modules: list[Any] = [networks.model, networks.vae, networks.clip]
    for module in modules:
        module.to(device)
    return SyncDreamerTGenerator(networks, settings, device)
