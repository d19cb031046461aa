"""The tiny upstream fixture (see tests/fixtures/syncdreamer/regenerate.py) loaded onto this package's modules."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load

from datagen.generators.syncdreamer.clip_image import ClipImageEmbedder, vision_config_from_openai
from datagen.generators.syncdreamer.loading import Networks, vae_config
from datagen.generators.syncdreamer.model import SyncDreamerConfig, SyncDreamerModel
from datagen.generators.syncdreamer.weights import CLIP_PREFIX, MappedWeights, map_syncdreamer_state

FIXTURE = Path(__file__).parents[1] / "fixtures" / "syncdreamer" / "tiny_parity.safetensors.gz"


@lru_cache(maxsize=1)
def fixture() -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, config); the parameters, stored as float8 (the values were drawn float8-exact), as float32."""
    data = gzip.decompress(FIXTURE.read_bytes())
    tensors = {k: (v.float() if v.dtype == torch.float8_e4m3fn else v) for k, v in load(data).items()}
    header_size = int.from_bytes(data[:8], "little")  # safetensors: u64 header size, then the JSON header
    config = json.loads(json.loads(data[8 : 8 + header_size])["__metadata__"]["config"])
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
