"""The input image as SV3D's conditioning: the CLIP image embedding and the VAE latent of the (noised) image."""

from __future__ import annotations

import numpy as np
import torch
from jaxtyping import Float, UInt8

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CLIP_SIZE = 224
COND_AUG = 1e-5
"""Noise level added to the image before VAE encoding (SV3D's reference value)."""


def image_to_tensor(image: UInt8[np.ndarray, "S S 3"]) -> Float[torch.Tensor, "1 3 S S"]:
    """uint8 RGB -> float32 in [-1, 1], NCHW."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 127.5 - 1.0


def clip_pixels(image: Float[torch.Tensor, "1 3 S S"]) -> Float[torch.Tensor, "1 3 224 224"]:
    """sgm's OpenCLIP preprocessing: antialiased bicubic resize to 224 (corners aligned), [-1,1] -> CLIP-normalised."""
    from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
        _resize_with_antialiasing,
    )

    x = _resize_with_antialiasing(image, (CLIP_SIZE, CLIP_SIZE))
    x = (x + 1.0) / 2.0
    mean = torch.tensor(CLIP_MEAN, dtype=x.dtype, device=x.device)[:, None, None]
    std = torch.tensor(CLIP_STD, dtype=x.dtype, device=x.device)[:, None, None]
    return (x - mean) / std


def clip_embedding(image_encoder, image: Float[torch.Tensor, "1 3 S S"]) -> Float[torch.Tensor, "1 1 D"]:
    """The projected, pooled image embedding (SV3D's cross-attention context)."""
    pixels = clip_pixels(image.float()).to(image_encoder.device, image_encoder.dtype)
    return image_encoder(pixel_values=pixels).image_embeds[:, None]


def image_latent(vae, cond_frames: Float[torch.Tensor, "1 3 S S"]) -> Float[torch.Tensor, "1 4 h w"]:
    """The VAE posterior's mode of the noised image, unscaled (SV3D concatenates it to the UNet input as is)."""
    return vae.encode(cond_frames.to(vae.device, vae.dtype)).latent_dist.mode()
