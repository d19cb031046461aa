"""The SV3D multi-view generator: one framed image on white -> RIGI's orbits of SV3D frames with cameras."""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Optional

import numpy as np
import torch
from jaxtyping import Float, UInt8
from tqdm.auto import tqdm

from datagen.cameras import SV3D_FOV_DEG
from datagen.generators.base import GeneratedFrames, GeneratedView, MultiViewGenerator
from datagen.generators.sv3d.components import SV3DComponents
from datagen.generators.sv3d.conditioning import COND_AUG, clip_embedding, image_latent, image_to_tensor
from datagen.generators.sv3d.orbits import SV3D_AZIMUTH_SIGN, orbit_frames
from datagen.generators.sv3d.pag import pag_layer_names
from datagen.generators.sv3d.sampler import Condition, sample
from datagen.generators.sv3d.schedule import MAX_GUIDANCE, MIN_GUIDANCE, SIGMA_MAX, edm_sigmas, triangle_guidance
from datagen.generators.sv3d.settings import SV3DSettings
from datagen.images import drop_alpha_on, key_background


@contextmanager
def placed(module: torch.nn.Module, device: torch.device, offload: bool) -> Iterator[torch.nn.Module]:
    """``module`` on ``device`` for the block; with ``offload`` it goes back to the CPU afterwards."""
    module.to(device)
    try:
        yield module
    finally:
        if offload and device.type != "cpu":
            module.to("cpu")
            torch.cuda.empty_cache()


def decode(vae, latents: Float[torch.Tensor, "F 4 h w"], chunk: int) -> Float[torch.Tensor, "F 3 H W"]:
    """VAE-decode ``latents / scaling_factor`` in chunks of ``chunk`` frames; float32 CPU in about [-1, 1]."""
    out = []
    for start in range(0, latents.shape[0], max(1, chunk)):
        z = latents[start : start + chunk] / vae.config.scaling_factor
        out.append(vae.decode(z.to(vae.device, vae.dtype)).sample.float().cpu())
    return torch.cat(out)


def to_uint8(frames: Float[torch.Tensor, "F 3 H W"]) -> UInt8[np.ndarray, "F H W 3"]:
    """[-1, 1] NCHW -> uint8 NHWC (clamped, rounded)."""
    pixels = torch.clamp((frames + 1.0) / 2.0, 0.0, 1.0).permute(0, 2, 3, 1).numpy()
    return np.round(pixels * 255.0).astype(np.uint8)


class SV3DGenerator(MultiViewGenerator):
    """SV3D ``sv3d_p`` with perturbed-attention guidance, sampling RIGI's orbits (3 x 21 views by default)."""

    name = "sv3d"

    def __init__(self, components: SV3DComponents, settings: SV3DSettings):
        self.components = components
        self.settings = settings
        wanted = settings.device
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(wanted)
        self.pag_layers = pag_layer_names(components.unet, settings.pag_layers) if settings.pag_scale else []

    def condition(
        self, image: Float[torch.Tensor, "1 3 S S"], generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """CLIP embedding [1, 1, D] and image latent [1, 4, h, w] (float32 CPU); draws the cond_aug noise."""
        noise = torch.randn(image.shape, generator=generator)
        cond_frames = image + COND_AUG * noise
        offload = self.settings.cpu_offload
        with torch.no_grad():
            with placed(self.components.image_encoder, self.device, offload) as encoder:
                context = clip_embedding(encoder, image.to(self.device)).float().cpu()
            with placed(self.components.vae, self.device, offload) as vae:
                latent = image_latent(vae, cond_frames.to(self.device)).float().cpu()
        return context, latent

    def sample_orbit(
        self,
        context: torch.Tensor,
        latent: torch.Tensor,
        polars_rad: list[float],
        azimuths_rad: list[float],
        generator: torch.Generator,
        progress: Optional[tqdm] = None,
    ) -> Float[torch.Tensor, "F 4 h w"]:
        """Sample one orbit's latents (float32 CPU); draws the initial noise from ``generator``."""
        frames = len(polars_rad)
        camera = torch.stack(
            [
                torch.full((frames,), COND_AUG),
                torch.tensor(polars_rad, dtype=torch.float64).float(),
                torch.tensor(azimuths_rad, dtype=torch.float64).float(),
            ],
            dim=1,
        )
        cond = Condition(context, latent, camera, triangle_guidance(frames))
        noise = torch.randn((frames, *latent.shape[1:]), generator=generator)
        with placed(self.components.unet, self.device, self.settings.cpu_offload) as unet:
            return sample(
                unet, noise, edm_sigmas(self.settings.steps), cond, self.settings.pag_scale, self.pag_layers, progress
            )

    def decode(self, latents: torch.Tensor) -> Float[torch.Tensor, "F 3 H W"]:
        """Decoded frames (float32 CPU, about [-1, 1])."""
        with torch.no_grad(), placed(self.components.vae, self.device, self.settings.cpu_offload) as vae:
            return decode(vae, latents, self.settings.decode_chunk_size)

    def generate(self, inputs: UInt8[np.ndarray, "S S C"], *, seed: int) -> GeneratedFrames:
        """Generate every orbit from one framed ``[S, S, 3]`` uint8 image on white, or ``[S, S, 4]`` RGBA (``S`` = the
        resolution). SV3D is conditioned on the image on white; the input view of each orbit is the input itself,
        with its own alpha when it has one (keying the white back out would also remove white parts of the object
        that touch the border), else keyed from white like the generated frames.

        Random draws, from one CPU generator seeded with ``seed``: the conditioning noise, then each orbit's initial
        latent in turn (so orbit 0 uses the draws of Stability's sampling script for that seed).
        """
        framed = self._checked(inputs)
        image = drop_alpha_on(framed)  # RGB stays as it is
        input_rgba = framed if framed.shape[-1] == 4 else key_background(framed)
        settings = self.settings
        generator = torch.Generator().manual_seed(int(seed))
        tensor = image_to_tensor(image)
        context, latent = self.condition(tensor, generator)
        orbits = orbit_frames(tuple(settings.amplitudes_deg), settings.frames_per_orbit)
        views: list[GeneratedView] = []
        bars = not settings.progress
        for index, orbit in enumerate(tqdm(orbits, desc="SV3D orbits", disable=bars)):
            with tqdm(total=settings.steps, desc=f"orbit {index} steps", leave=False, disable=bars) as steps:
                latents = self.sample_orbit(
                    context,
                    latent,
                    [f.polar_rad for f in orbit],
                    [f.azimuth_rad for f in orbit],
                    generator,
                    steps,
                )
            pixels = to_uint8(self.decode(latents))
            for frame, rgb in zip(orbit, pixels, strict=True):
                is_input = abs(math.sin(frame.azimuth_rad / 2.0)) < 1e-9
                # The reference script shows the input as the input view.
                rgba = input_rgba if is_input else key_background(rgb)
                view = frame.view
                views.append(
                    GeneratedView(
                        rgba,
                        view.azimuth_deg,
                        view.elevation_deg,
                        view.radius,
                        orbit=view.orbit,
                        extra={"input_view": is_input},
                    )
                )
        views.sort(key=lambda v: (v.orbit, (v.azimuth_deg - 1e-9) % 360.0))
        return GeneratedFrames(views, SV3D_FOV_DEG, self.record(seed))

    def record(self, seed: int) -> dict:
        """The dataset's ``generator`` record."""
        s = self.settings
        return {
            "name": self.name,
            "model": "sv3d_p",
            "weights": self.components.weights,
            "seed": int(seed),
            "steps": s.steps,
            "sampler": "euler-edm",
            "sigma_max": SIGMA_MAX,
            "cond_aug": COND_AUG,
            "guidance_min": MIN_GUIDANCE,
            "guidance_max": MAX_GUIDANCE,
            "pag_scale": s.pag_scale,
            "pag_layers": s.pag_layers if s.pag_scale else None,
            "frames_per_orbit": s.frames_per_orbit,
            "amplitudes_deg": [float(a) for a in s.amplitudes_deg],
            "resolution": s.resolution,
            "azimuth_sign": SV3D_AZIMUTH_SIGN,
            "handedness": "counter-clockwise seen from +z" if SV3D_AZIMUTH_SIGN > 0 else "clockwise seen from +z",
        }

    def _checked(self, image) -> UInt8[np.ndarray, "S S C"]:
        size = self.settings.resolution
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.shape not in ((size, size, 3), (size, size, 4)):
            raise ValueError(
                f"SV3D input: got {array.dtype} {array.shape}, expected a framed uint8 image of shape "
                f"({size}, {size}, 3) on white or ({size}, {size}, 4) RGBA (resolution={size})"
            )
        factor = self.components.latent_factor
        if size % factor:
            raise ValueError(f"SV3D resolution={size}: must be a multiple of {factor} (the VAE's downsampling)")
        return array
