"""The tiny upstream fixture (see tests/fixtures/syncdreamer/regenerate.py) loaded onto this package's modules."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from safetensors import safe_open
from safetensors.torch import load_file

from datagen.generators.syncdreamer.clip_image import ClipImageEmbedder, vision_config_from_openai
from datagen.generators.syncdreamer.loading import Networks, vae_config
from datagen.generators.syncdreamer.model import SyncDreamerConfig, SyncDreamerModel
from datagen.generators.syncdreamer.weights import CLIP_PREFIX, MappedWeights, map_syncdreamer_state

FIXTURE = Path(__file__).parents[1] / "fixtures" / "syncdreamer" / "tiny_parity.safetensors"


@lru_cache(maxsize=1)
def fixture() -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, config); parameters stored in half precision are float16-exact and returned as float32."""
    tensors = {k: (v.float() if v.dtype == torch.float16 else v) for k, v in load_file(str(FIXTURE)).items()}
    with safe_open(str(FIXTURE), "pt") as f:
        config = json.loads(f.metadata()["config"])
    return tensors, config


def upstream_state() -> dict[str, torch.Tensor]:
    """The upstream model's state dict with its real key names."""
    tensors, _ = fixture()
    return {k[len("state.") :]: v for k, v in tensors.items() if k.startswith("state.")}


def mapped() -> MappedWeights:
    config = SyncDreamerConfig.tiny()
    return map_syncdreamer_state(upstream_state(), config.unet.diffusers_config(), vae_config(config))


def fixture_networks() -> Networks:
    config = SyncDreamerConfig.tiny()
    weights = mapped()
    model = SyncDreamerModel(config)
    model.load_state_dict(weights.model)
    vae = AutoencoderKL(**vae_config(config))
    vae.load_state_dict(weights.vae)
    state = upstream_state()
    clip_state = {k[len(CLIP_PREFIX) :]: v for k, v in state.items() if k.startswith(CLIP_PREFIX)}
    clip = ClipImageEmbedder(vision_config_from_openai(clip_state))
    clip.model.load_state_dict(weights.clip)
    return Networks(model.eval(), vae.eval(), clip.eval())
