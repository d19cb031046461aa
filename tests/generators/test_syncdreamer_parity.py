"""Parity with the released SyncDreamer / Efficient4D code: a tiny upstream model with random weights (fixture made by
tests/fixtures/syncdreamer/regenerate.py) mapped onto this package's modules, outputs compared in float32."""

import dataclasses
import typing

import pytest
import torch

from datagen.generators.syncdreamer.cameras import syncdreamer_cameras
from datagen.generators.syncdreamer.generator import SyncDreamerTGenerator
from datagen.generators.syncdreamer.model import SyncDreamerConfig
from datagen.generators.syncdreamer.settings import SyncDreamerSettings
from datagen.generators.syncdreamer.time_sync import smooth_volumes, smoothing_weights
from tests.generators.syncdreamer_fixture import fixture, fixture_networks

TOL = 1e-4


def max_diff(a, b):
    return (a.float() - b.float()).abs().max().item()


@pytest.fixture(scope="module")
def nets():
    return fixture_networks()


@pytest.fixture(scope="module")
def ref():
    return fixture()[0]


@pytest.fixture(scope="module")
def cfg():
    return fixture()[1]


@pytest.fixture(scope="module")
def conditions(nets, ref, cfg):
    model = nets.model
    t = torch.full((cfg["frames"],), cfg["timestep"])
    with torch.no_grad():
        return t, model.embed_time(t), model.viewpoint_embedding(ref["in.elevation"][:, 0])


def test_fixture_matches_the_tiny_configuration(cfg):
    tiny = SyncDreamerConfig.tiny()
    assert tiny.image_size == cfg["image_size"] and tiny.time_embed_dim == cfg["time_embed_dim"]
    assert tiny.spatial_volume_size == cfg["spatial_volume_size"]
    assert tiny.frustum_volume_depth == cfg["frustum_volume_depth"]
    assert tiny.view_feature_dim == cfg["view_feature_dim"] and tiny.view_run_dim == cfg["view_run_dim"]
    assert tiny.unet.model_channels == cfg["model_channels"] and tiny.unet.context_dim == cfg["context_dim"]
    assert list(tiny.unet.channel_mult) == cfg["channel_mult"] and list(tiny.unet.volume_dims) == cfg["volume_dims"]
    assert tiny.unet.norm_groups == cfg["norm_groups"] and tiny.unet.num_heads == cfg["num_heads"]
    assert tiny.vae_channels == (cfg["vae_channels"],) * 4 and tiny.vae_norm_groups == cfg["vae_norm_groups"]


def test_cameras_match_the_released_pickle(ref):
    poses, Ks, azimuth = syncdreamer_cameras(256)
    assert max_diff(poses.double(), ref["pickle.poses"]) < 1e-6
    torch.testing.assert_close(Ks[0].double(), ref["pickle.K"])
    wrapped = (ref["pickle.azimuths"] + torch.pi) % (2 * torch.pi) - torch.pi
    assert max_diff(azimuth.double(), wrapped) < 1e-6
    torch.testing.assert_close(ref["pickle.elevations"], torch.full((16,), torch.pi / 6, dtype=torch.float64))
    torch.testing.assert_close(ref["pickle.distances"], torch.full((16,), 1.5, dtype=torch.float64))


def test_clip_embedding_and_vae(nets, ref):
    images = (ref["in.pixels"].float() / 127.5 - 1).permute(0, 3, 1, 2)
    with torch.no_grad():
        assert max_diff(nets.clip(images), ref["ref.clip_embed"]) < TOL
        posterior = nets.vae.encode(images).latent_dist
        assert max_diff(posterior.mean, ref["ref.vae_mean"]) < TOL
        assert max_diff(posterior.std, ref["ref.vae_std"]) < TOL
        decoded = nets.vae.decode(ref["in.decode_latent"] / 0.18215).sample
        assert max_diff(decoded, ref["ref.vae_decode"]) < TOL


def test_embeddings_volumes_and_smoothing(nets, ref, conditions):
    _, t_embed, v_embed = conditions
    assert max_diff(v_embed, ref["ref.v_embed"]) < 1e-6
    assert max_diff(t_embed, ref["ref.t_embed"]) < 1e-6
    with torch.no_grad():
        volume = nets.model.spatial_volumes(ref["in.x_noisy"], t_embed, v_embed)
    assert max_diff(volume, ref["ref.spatial_volume"]) < TOL
    smoothed = smooth_volumes(volume, smoothing_weights(2))  # N = 2: paper and released code agree
    assert max_diff(smoothed, ref["ref.spatial_volume_smoothed"]) < TOL
    assert max_diff(smoothed, volume) > 0.1  # the smoothing did something


def test_frustum_volumes(nets, ref, cfg, conditions):
    _, t_embed, v_embed = conditions
    views = torch.tensor(cfg["frustum_views"]).view(-1, 1)
    model = nets.model
    with torch.no_grad():
        frustum = model.spatial_volume.construct_view_frustum_volume(
            ref["ref.spatial_volume_smoothed"], t_embed, v_embed, model.poses, model.Ks, views
        )
    assert sorted(frustum) == [1, 2, 4, 8]
    for width, feats in frustum.items():
        assert max_diff(feats, ref[f"ref.frustum.{width}"]) < TOL


@pytest.mark.parametrize(("guidance", "scales"), [("cfg", (2.0,)), ("decomposed", (2.0, 1.0))])
def test_noise_prediction(nets, ref, conditions, guidance, scales):
    t, t_embed, v_embed = conditions
    with torch.no_grad():
        eps = nets.model.predict_noise(
            ref["in.x_noisy"],
            t,
            ref["ref.spatial_volume_smoothed"],
            t_embed,
            v_embed,
            ref["ref.clip_embed"],
            ref["in.x_input"],
            torch.arange(16),
            guidance,
            scales,
        )
    expected = ref[f"ref.eps_{guidance}"]
    assert expected.abs().max() > 1.0  # random non-zero weights: a real comparison
    assert max_diff(eps, expected) < TOL


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_fixed_seed_sampling_run(nets, ref, cfg, eta):
    """Images -> VAE posterior sample -> shared initial noise -> 2 DDIM steps with smoothing and decomposed guidance."""
    settings = SyncDreamerSettings(
        "tiny-random",
        steps=cfg["sample_steps"],
        elevation_deg=cfg["elevation_deg"],
        eta=eta,
        cfg_scales=tuple(cfg["cfg_scales"]),
        frames_per_batch=1,  # batching does not change the result
        views_per_batch=8,
        progress=False,
    )
    generator = SyncDreamerTGenerator(nets, settings, torch.device("cpu"))
    images = (ref["in.pixels"].float() / 127.5 - 1).permute(0, 3, 1, 2)
    latents = generator.sample(images, seed=cfg["sample_seed"])
    assert max_diff(latents, ref[f"ref.sample_eta{int(eta)}"]) < TOL
    if eta == 1.0:
        other = generator.sample(images, seed=cfg["sample_seed"] + 1)
        assert max_diff(other, latents) > 0.1  # eta 1: the step noise matters, so the seed was matched


def test_settings_are_plain_types():
    hints = typing.get_type_hints(SyncDreamerSettings)
    for f in dataclasses.fields(SyncDreamerSettings):
        kind = hints[f.name]
        choice = typing.get_origin(kind) is typing.Literal and all(isinstance(a, str) for a in typing.get_args(kind))
        assert choice or kind in (str, int, float, bool, tuple[float, ...]), f.name
