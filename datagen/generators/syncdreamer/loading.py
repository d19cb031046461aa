"""Build SyncDreamer's three networks (denoiser, VAE, CLIP image encoder): from the released files, or tiny and
random for plumbing runs. Missing files are reported, all at once, before anything heavy is loaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL
from torch import nn
from transformers import CLIPVisionConfig

from datagen.generators.syncdreamer.clip_image import (
    ClipImageEmbedder,
    map_openai_clip_visual,
    vision_config_from_openai,
)
from datagen.generators.syncdreamer.model import SyncDreamerConfig, SyncDreamerModel
from datagen.generators.syncdreamer.weights import load_checkpoint_state, load_openai_clip_state, map_syncdreamer_state
from datagen.user_errors import UserError

LOG = logging.getLogger(__name__)


def vae_config(config: SyncDreamerConfig) -> dict:
    """diffusers ``AutoencoderKL`` config of SD's VAE (the released hard-coded ``ddconfig``) at ``config``'s sizes."""
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "block_out_channels": tuple(config.vae_channels),
        "layers_per_block": 2,
        "latent_channels": 4,
        "norm_num_groups": config.vae_norm_groups,
        "sample_size": config.image_size,
    }


TINY_CLIP = CLIPVisionConfig(
    hidden_size=64,
    intermediate_size=256,
    num_hidden_layers=1,
    num_attention_heads=1,
    image_size=28,
    patch_size=7,
    projection_dim=16,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
)
"""A tiny CLIP vision tower whose embedding fits ``SyncDreamerConfig.tiny()``'s context."""


@dataclass
class Networks:
    """What generation needs, on one device, in eval mode."""

    model: SyncDreamerModel
    vae: Any
    """diffusers ``AutoencoderKL`` (typed loosely: diffusers' lazy modules defeat mypy)."""
    clip: ClipImageEmbedder


def _randomise(module: nn.Module, seed: int) -> None:
    """Random weights everywhere (the released inits leave the UNet's and depth blocks' output convs at 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * p[0].numel() ** -0.5)
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


VIT_L_14 = CLIPVisionConfig(
    hidden_size=1024,
    intermediate_size=4096,
    num_hidden_layers=24,
    num_attention_heads=16,
    image_size=224,
    patch_size=14,
    projection_dim=768,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
)
"""OpenAI CLIP ViT-L/14's vision tower (what ``vision_config_from_openai`` infers from ``ViT-L-14.pt``)."""


def tiny_random_networks(seed: int = 0) -> Networks:
    """Tiny networks of the real classes with random weights: the views are noise; fast on a CPU."""
    LOG.warning("SyncDreamer-T with checkpoint=tiny-random: random tiny networks, the views are noise")
    return random_networks(SyncDreamerConfig.tiny(), TINY_CLIP, seed)


def random_networks(config: SyncDreamerConfig, clip_config: CLIPVisionConfig, seed: int = 0) -> Networks:
    """Networks of the given sizes with random weights (e.g. the released sizes, to time them without the files)."""
    vae: Any = AutoencoderKL(**vae_config(config))
    model, clip = SyncDreamerModel(config), ClipImageEmbedder(clip_config)
    modules: list[nn.Module] = [model, vae, clip]
    for i, module in enumerate(modules):
        _randomise(module, seed + i)
    return Networks(model.eval(), vae.eval(), clip.eval())


def released_networks(checkpoint: Path, clip_weights: Path, config: SyncDreamerConfig | None = None) -> Networks:
    """The released model: ``syncdreamer-pretrain.ckpt`` and OpenAI's ``ViT-L-14.pt``.

    As in the released code (which builds CLIP from ``ViT-L-14.pt`` and then loads the whole checkpoint strictly),
    CLIP weights stored in the checkpoint take precedence over the file's. ``config``: the networks' sizes (the
    released model's by default).
    """
    config = config or SyncDreamerConfig()
    clip_state = load_openai_clip_state(clip_weights)
    clip = ClipImageEmbedder(vision_config_from_openai(clip_state))
    clip.model.load_state_dict(map_openai_clip_visual(clip_state))
    mapped = map_syncdreamer_state(
        load_checkpoint_state(checkpoint), config.unet.diffusers_config(), vae_config(config)
    )
    if mapped.clip:
        LOG.info("using the CLIP weights stored in %s (as the released code's strict load does)", checkpoint)
        clip.model.load_state_dict(mapped.clip)
    if not mapped.vae:
        raise UserError(f"{checkpoint}: no first_stage_model.* (VAE) weights; is it syncdreamer-pretrain.ckpt?")
    model = SyncDreamerModel(config)
    model.load_state_dict(mapped.model)
    vae: Any = AutoencoderKL(**vae_config(config))
    vae.load_state_dict(mapped.vae)
    return Networks(model.eval(), vae.eval(), clip.eval())
