"""The released checkpoint's state dict -> this package's modules (one mapping), and the files' loading.

``syncdreamer-pretrain.ckpt`` holds ``state_dict`` with the LightningModule's keys:

- ``model.diffusion_model.*``: the LDM UNet (diffusers' ``convert_ldm_unet_checkpoint``) plus the depth attention
  blocks ``middle_conditions.*`` / ``output_conditions.*`` (same names here);
- ``spatial_volume.*``, ``time_embed.*``, ``cc_projection.*``: same names here;
- ``first_stage_model.*``: the SD VAE (diffusers' ``convert_ldm_vae_checkpoint``);
- ``clip_image_encoder.model.*``: OpenAI CLIP without its text transformer (mapped by ``clip_image``);
- buffers recomputed here and ignored: the noise schedule, ``poses``, ``Ks``, ``azimuth``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint
from torch import Tensor

from datagen.generators.syncdreamer.clip_image import map_openai_clip_visual

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = "clip_image_encoder.model."
DEPTH_BLOCKS = ("middle_conditions.", "output_conditions.")
SAME_NAMES = ("spatial_volume.", "time_embed.", "cc_projection.")
IGNORED = (
    "betas",
    "alphas",
    "alphas_cumprod",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "posterior_variance",
    "posterior_log_variance_clipped",
    "poses",
    "Ks",
    "azimuth",
)
"""Buffers of the released model that are recomputed here (schedule, cameras)."""


@dataclass
class MappedWeights:
    """The checkpoint split by destination module."""

    model: dict[str, Tensor]
    """``SyncDreamerModel`` state dict (UNet under ``noise_predictor.unet.``)."""
    vae: dict[str, Tensor]
    """diffusers ``AutoencoderKL`` state dict (empty if the checkpoint has no ``first_stage_model.*``)."""
    clip: dict[str, Tensor]
    """transformers ``CLIPVisionModelWithProjection`` state dict (empty if no ``clip_image_encoder.*``)."""


def map_syncdreamer_state(state: dict[str, Tensor], unet_config: dict, vae_config: dict | None) -> MappedWeights:
    """Split and rename the released model's state dict.

    Args:
        state: the checkpoint's ``state_dict``.
        unet_config: the ``UNet2DConditionModel`` config (``UNetSizes.diffusers_config()``).
        vae_config: the ``AutoencoderKL`` config, or None to skip the VAE.

    Raises:
        KeyError: a key that belongs to none of the modules (the file is not a SyncDreamer checkpoint).
    """
    model: dict[str, Tensor] = {}
    unet_ldm: dict[str, Tensor] = {}
    vae_ldm: dict[str, Tensor] = {}
    clip_openai: dict[str, Tensor] = {}
    unknown = []
    for key, value in state.items():
        if key.startswith(UNET_PREFIX):
            rest = key[len(UNET_PREFIX) :]
            if rest.startswith(DEPTH_BLOCKS):
                model["noise_predictor." + rest] = value
            else:
                unet_ldm[key] = value
        elif key.startswith(SAME_NAMES):
            model[key] = value
        elif key.startswith(VAE_PREFIX):
            vae_ldm[key] = value
        elif key.startswith(CLIP_PREFIX):
            clip_openai[key[len(CLIP_PREFIX) :]] = value
        elif key in IGNORED:
            continue
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f"not SyncDreamer weights: {len(unknown)} unexpected keys, e.g. {unknown[:3]}")
    for key, value in convert_ldm_unet_checkpoint(unet_ldm, unet_config).items():
        model["noise_predictor.unet." + key] = value
    vae = convert_ldm_vae_checkpoint(vae_ldm, vae_config) if vae_config is not None and vae_ldm else {}
    clip = map_openai_clip_visual(clip_openai) if "visual.proj" in clip_openai else {}
    return MappedWeights(model, vae, clip)


def load_checkpoint_state(path: Path) -> dict[str, Tensor]:
    """``state_dict`` of a Lightning checkpoint (``weights_only`` loading: tensors and plain containers only)."""
    loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: no state_dict in this file; is it syncdreamer-pretrain.ckpt?")
    return state


def load_openai_clip_state(path: Path) -> dict[str, Tensor]:
    """OpenAI CLIP weights from ``ViT-L-14.pt`` (a TorchScript archive) or a plain state dict file."""
    try:
        with warnings.catch_warnings():  # torch.jit.load is deprecated, but OpenAI's file is a TorchScript archive
            warnings.simplefilter("ignore", FutureWarning)
            return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except RuntimeError:
        return dict(torch.load(path, map_location="cpu", weights_only=True))
