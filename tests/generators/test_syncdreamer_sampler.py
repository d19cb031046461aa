"""SyncDreamer-T's sampler: the time-synchronous smoothing hook, shared initial noise, batching, the scheduler."""

import numpy as np
import pytest
import torch

from datagen.generators.syncdreamer.model import SyncDreamerModel
from datagen.generators.syncdreamer.sampler import SamplingOptions, make_scheduler, sample_latents, smoothed_volumes
from datagen.generators.syncdreamer.time_sync import smoothing_weights
from tests.generators.syncdreamer_fixture import fixture, fixture_networks


@pytest.fixture(scope="module")
def model() -> SyncDreamerModel:
    return fixture_networks().model


def conditions(model, x_t, t=401):
    B = x_t.shape[0]
    with torch.no_grad():
        return model.embed_time(torch.full((B,), t)), model.viewpoint_embedding(torch.zeros(B))


def volumes(model, x_t, weights, frames_per_batch=4):
    t_embed, v_embed = conditions(model, x_t)
    with torch.no_grad():
        return smoothed_volumes(model, x_t, t_embed, v_embed, weights, frames_per_batch)


def noisy(frames, seed=0):
    return torch.randn(frames, 16, 4, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_constant_sequence_is_unchanged(model):
    x_t = noisy(1).expand(5, -1, -1, -1, -1)
    raw = volumes(model, x_t, None)
    smoothed = volumes(model, x_t, smoothing_weights(5))
    torch.testing.assert_close(smoothed, raw, atol=1e-5, rtol=0)


def test_temporal_variance_is_reduced_and_ends_use_existing_frames(model):
    x_t = noisy(7)
    raw = volumes(model, x_t, None, frames_per_batch=3)
    smoothed = volumes(model, x_t, smoothing_weights(7), frames_per_batch=3)
    assert smoothed.var(0).mean() < 0.5 * raw.var(0).mean()
    torch.testing.assert_close(smoothed[0], (6 * raw[0] + raw[1] + raw[2] + raw[3]) / 9, atol=1e-5, rtol=0)
    torch.testing.assert_close(smoothed[3], (6 * raw[3] + raw[[0, 1, 2, 4, 5, 6]].sum(0)) / 12, atol=1e-5, rtol=0)
    cyclic = volumes(model, x_t, smoothing_weights(7, cyclic=True), frames_per_batch=3)
    torch.testing.assert_close(cyclic[0], (5 * raw[0] + raw.sum(0)) / 12, atol=1e-5, rtol=0)


def test_two_frames_use_eq_9(model):
    x_t = noisy(2)
    raw = volumes(model, x_t, None)
    smoothed = volumes(model, x_t, smoothing_weights(2))
    torch.testing.assert_close(smoothed[1], 0.25 * raw[0] + 0.75 * raw[1], atol=1e-5, rtol=0)


def run(model, x_input, clip, seed=3, smoothing=None, **options):
    defaults = dict(steps=2, eta=0.0, progress=False)
    defaults.update(options)
    generator = torch.Generator().manual_seed(seed)
    return sample_latents(
        model, x_input, clip, torch.zeros(x_input.shape[0]), generator, SamplingOptions(**defaults), smoothing
    )


def test_sampler_smooths_every_step_before_the_frustum_volumes(model, monkeypatch):
    """The volumes the noise predictor sees are the smoothed volumes of all frames, at every step."""
    built, seen = [], []
    spatial, predict = model.spatial_volumes, model.predict_noise

    def spy_spatial(x_t, t_embed, v_embed):
        built.append(spatial(x_t, t_embed, v_embed))
        return built[-1]

    def spy_predict(x_t, t, volume, *args):
        seen.append(volume.clone())
        return predict(x_t, t, volume, *args)

    monkeypatch.setattr(model, "spatial_volumes", spy_spatial)
    monkeypatch.setattr(model, "predict_noise", spy_predict)
    weights = smoothing_weights(3)
    x_input, clip = torch.randn(3, 4, 8, 8), torch.randn(3, 1, 16)
    run(model, x_input, clip, smoothing=weights, steps=4, frames_per_batch=2)
    assert len(built) == 4 * 2 and len(seen) == 4 * 2  # 4 steps, frames in batches of 2 and 1
    for step in range(4):
        every_frame = torch.cat(built[2 * step : 2 * step + 2])
        expected = torch.einsum("ij,j...->i...", weights.float(), every_frame)
        torch.testing.assert_close(torch.cat(seen[2 * step : 2 * step + 2]), expected, atol=1e-5, rtol=0)


def test_shared_initial_noise_gives_identical_frames_at_eta_0(model):
    x_input = torch.randn(1, 4, 8, 8).expand(3, -1, -1, -1)
    clip = torch.randn(1, 1, 16).expand(3, -1, -1)
    latents = run(model, x_input, clip, smoothing=smoothing_weights(3), steps=4)
    assert (latents[1:] - latents[0]).abs().max() < 1e-4  # float32 batch-size rounding only
    assert latents.std() > 0.1
    stochastic = run(model, x_input, clip, smoothing=smoothing_weights(3), steps=4, eta=1.0)
    assert (stochastic[1] - stochastic[0]).abs().max() > 0.01  # eta 1: step noise is drawn per frame


def test_batching_and_seed(model):
    x_input, clip = torch.randn(3, 4, 8, 8), torch.randn(3, 1, 16)
    weights = smoothing_weights(3)
    a = run(model, x_input, clip, smoothing=weights, eta=1.0, frames_per_batch=3, views_per_batch=16)
    b = run(model, x_input, clip, smoothing=weights, eta=1.0, frames_per_batch=1, views_per_batch=5)
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    c = run(model, x_input, clip, seed=4, smoothing=weights, eta=1.0)
    assert (a - c).abs().max() > 0.1
    unsmoothed = run(model, x_input, clip, smoothing=None, eta=1.0)
    assert (a - unsmoothed).abs().max() > 1e-3


def test_scheduler_is_the_released_one():
    scheduler = make_scheduler()
    scheduler.set_timesteps(50)
    assert scheduler.timesteps.tolist() == list(range(981, 0, -20))
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float32) ** 2
    assert torch.equal(scheduler.alphas_cumprod, torch.cumprod(1 - betas, 0))
    assert scheduler.final_alpha_cumprod == scheduler.alphas_cumprod[0]


@pytest.mark.parametrize("steps", [3, 7, 0])
def test_steps_must_divide_1000(model, steps):
    with pytest.raises(ValueError, match="must divide 1000"):
        run(model, torch.randn(1, 4, 8, 8), torch.randn(1, 1, 16), steps=steps)


def test_fixture_inputs_are_what_the_sampler_expects():
    tensors, cfg = fixture()
    assert tensors["in.x_noisy"].shape == (cfg["frames"], 16, 4, 8, 8)
    assert np.isclose(float(tensors["in.elevation"][0, 0]), np.radians(cfg["elevation_deg"]))
