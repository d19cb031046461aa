"""The released checkpoint's key names mapped onto this package's modules (tiny upstream checkpoint)."""

import pytest
import torch

from datagen.generators.syncdreamer.clip_image import map_openai_clip_visual
from datagen.generators.syncdreamer.generator import SyncDreamerTGenerator
from datagen.generators.syncdreamer.loading import released_networks, vae_config
from datagen.generators.syncdreamer.model import SyncDreamerConfig, SyncDreamerModel
from datagen.generators.syncdreamer.settings import SyncDreamerSettings
from datagen.generators.syncdreamer.weights import CLIP_PREFIX, IGNORED, map_syncdreamer_state
from tests.generators.syncdreamer_fixture import fixture, fixture_networks, mapped, upstream_state


def test_every_key_lands_in_a_module():
    state = upstream_state()
    weights = mapped()
    model = SyncDreamerModel(SyncDreamerConfig.tiny())
    assert set(weights.model) == set(model.state_dict())
    depth = [k for k in state if "_conditions." in k]
    assert depth and all("noise_predictor." + k[len("model.diffusion_model.") :] in weights.model for k in depth)
    unet = [k for k in state if k.startswith("model.diffusion_model.") and "_conditions." not in k]
    assert len([k for k in weights.model if k.startswith("noise_predictor.unet.")]) == len(unet)
    assert len(weights.vae) == len([k for k in state if k.startswith("first_stage_model.")])
    visual = [k for k in state if k.startswith(CLIP_PREFIX + "visual.")]
    assert len(weights.clip) == len(visual) + 4 * 1  # in_proj weight/bias split into q, k, v (1 layer)
    torch.testing.assert_close(
        weights.model["spatial_volume.target_encoder.init_conv.weight"],
        state["spatial_volume.target_encoder.init_conv.weight"],
    )


def test_ignored_buffers_and_unknown_keys():
    config = SyncDreamerConfig.tiny()
    state = dict(upstream_state())
    for name in IGNORED:
        state.setdefault(name, torch.zeros(3))
    map_syncdreamer_state(state, config.unet.diffusers_config(), vae_config(config))
    state["cond_stage_model.transformer.x"] = torch.zeros(1)
    with pytest.raises(KeyError, match="cond_stage_model"):
        map_syncdreamer_state(state, config.unet.diffusers_config(), None)


def test_clip_qkv_split():
    state = upstream_state()
    visual = {k[len(CLIP_PREFIX) :]: v for k, v in state.items() if k.startswith(CLIP_PREFIX)}
    out = map_openai_clip_visual(visual)
    in_proj = visual["visual.transformer.resblocks.0.attn.in_proj_weight"]
    width = in_proj.shape[1]
    torch.testing.assert_close(out["vision_model.encoder.layers.0.self_attn.k_proj.weight"], in_proj[width : 2 * width])
    torch.testing.assert_close(out["visual_projection.weight"], visual["visual.proj"].t())


def test_files_load_like_the_released_ones(tmp_path):
    """A Lightning-style checkpoint and an OpenAI-style CLIP file through the file-loading path."""
    state = upstream_state()
    ckpt, clip = tmp_path / "syncdreamer-pretrain.ckpt", tmp_path / "ViT-L-14.pt"
    torch.save({"state_dict": state, "epoch": 3}, ckpt)
    torch.save({k[len(CLIP_PREFIX) :]: v for k, v in state.items() if k.startswith(CLIP_PREFIX)}, clip)
    networks = released_networks(ckpt, clip, SyncDreamerConfig.tiny())
    reference = fixture_networks()
    for ours, theirs in zip(networks.model.state_dict().values(), reference.model.state_dict().values(), strict=True):
        assert torch.equal(ours, theirs)
    tensors, cfg = fixture()
    settings = SyncDreamerSettings(str(ckpt), str(clip), steps=2, elevation_deg=10.0, eta=0.0, progress=False)
    images = (tensors["in.pixels"].float() / 127.5 - 1).permute(0, 3, 1, 2)
    latents = SyncDreamerTGenerator(networks, settings, torch.device("cpu")).sample(images, cfg["sample_seed"])
    assert (latents - tensors["ref.sample_eta0"]).abs().max() < 1e-4
