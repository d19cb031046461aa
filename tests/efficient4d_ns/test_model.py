"""Efficient4DModel on CPU: slicing at the camera's time, culling by p(t), gradients, loss, export properties."""

import math

import numpy as np
import pytest
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.data.scene_box import SceneBox

from datagen.cameras import c2w_gl_from_spherical
from efficient4d_ns.model import Efficient4DModelConfig


def _camera(t: float | None, size: int = 16) -> Cameras:
    c2w = torch.from_numpy(c2w_gl_from_spherical(30.0, 20.0, 1.5)[None, :3, :4]).float()
    return Cameras(
        camera_to_worlds=c2w,
        fx=torch.tensor([[20.0]]),
        fy=torch.tensor([[20.0]]),
        cx=torch.tensor([[size / 2]]),
        cy=torch.tensor([[size / 2]]),
        width=torch.tensor([[size]]),
        height=torch.tensor([[size]]),
        camera_type=CameraType.PERSPECTIVE,
        times=None if t is None else torch.tensor([[t]]),
    )


def _model(metadata=None, **overrides):
    config = Efficient4DModelConfig(num_random=64, eval_lpips_net="none", **overrides)
    model = config.setup(
        scene_box=SceneBox(aabb=torch.tensor([[-1.0, -1, -1], [1, 1, 1]])), num_train_data=4, metadata=metadata or {}
    )
    model.optimizers = {k: torch.optim.Adam([p], lr=1e-3) for k, p in model.gauss_params.items()}
    return model


def test_initialisation_follows_the_paper():
    model = _model()
    p = model.gauss_params
    assert p["means"].shape == (64, 3) and torch.all(p["means"].norm(dim=-1) <= 0.5 + 1e-6)
    assert torch.all((p["times"] >= -0.1) & (p["times"] <= 1.1))
    torch.testing.assert_close(p["quats"], torch.tensor([1.0, 0, 0, 0]).repeat(64, 1))
    torch.testing.assert_close(p["quats_r"], p["quats"])
    assert set(model.get_gaussian_param_groups()) == set(p.keys())


def test_gradients_reach_temporal_parameters_and_culling_by_marginal():
    model = _model()
    with torch.no_grad():
        model.gauss_params["times"][:32] = 5.0  # far from t = 0.5: culled
        model.gauss_params["quats_r"][32:] += 0.05 * torch.randn(32, 4)  # some space–time correlation
    model.train()
    outputs = model.get_outputs(_camera(0.5))
    slice_ids = model.info["slice_ids"]
    assert torch.all(slice_ids >= 32) and len(slice_ids) == 32
    assert model.info["means2d"].shape[-2] == 32
    batch = {"image": torch.rand(16, 16, 3), "conf_rgb": torch.full((16, 16, 1), 255, dtype=torch.uint8)}
    batch["conf_ssim"] = batch["conf_rgb"]
    loss = sum(model.get_loss_dict(outputs, batch).values())
    loss.backward()
    for key in ("times", "scales_t", "quats_r", "means", "opacities"):
        grad = model.gauss_params[key].grad
        assert grad is not None and grad[32:].abs().sum() > 0, key
        assert grad[:32].abs().sum() == 0, key  # culled Gaussians get no gradient


def test_render_changes_with_time_and_eval_outputs():
    model = _model()
    model.eval()
    out_a = model.get_outputs_for_camera(_camera(0.0))
    out_b = model.get_outputs_for_camera(_camera(1.0))
    assert out_a["rgb"].shape == (16, 16, 3) and out_a["depth"].shape == (16, 16, 1)
    assert (out_a["rgb"] - out_b["rgb"]).abs().max() > 1e-3
    # a camera without time renders the export_time slice
    model.config.export_time = 1.0
    torch.testing.assert_close(model.get_outputs_for_camera(_camera(None))["rgb"], out_b["rgb"])


def test_confidence_weights_the_loss_and_ablation_ignores_it():
    model = _model()
    model.train()
    outputs = model.get_outputs(_camera(0.3))
    batch = {"image": torch.rand(16, 16, 3), "conf_rgb": torch.zeros(16, 16, 1, dtype=torch.uint8)}
    batch["conf_ssim"] = batch["conf_rgb"]
    weighted = model.get_loss_dict(outputs, batch)
    assert weighted["rgb_loss"].item() == 0.0 and weighted["ssim_loss"].item() == 0.0
    model.config.use_confidence = False
    plain = model.get_loss_dict(outputs, batch)
    assert plain["rgb_loss"].item() > 0 and plain["ssim_loss"].item() > 0
    l1 = (outputs["rgb"] - batch["image"]).abs().mean().item()
    assert plain["rgb_loss"].item() == pytest.approx(0.8 * l1, rel=1e-5)


def test_viewer_confidence_output_is_the_nearest_training_map():
    maps = torch.zeros(2, 8, 8, dtype=torch.uint8)
    maps[1] = 255
    c2w = torch.from_numpy(np.stack([c2w_gl_from_spherical(a, 20.0, 1.5)[:3, :4] for a in (200.0, 30.0)])).float()
    model = _model(metadata={"confidence": {"conf_rgb": maps, "c2w": c2w, "times": torch.tensor([0.5, 0.5])}})
    model.eval()
    out = model.get_outputs_for_camera(_camera(0.5))
    assert out["confidence"].shape == (16, 16, 1)
    torch.testing.assert_close(out["confidence"], torch.ones(16, 16, 1))


def test_export_properties_slice_at_export_time():
    model = _model(export_time=0.5)
    with torch.no_grad():
        model.gauss_params["times"][:10] = 3.0
    assert model.means.shape == (64, 3) and model.quats.shape == (64, 4)
    assert torch.all(model.opacities[:10] == -20.0)
    expected = torch.logit(
        torch.sigmoid(model.gauss_params["opacities"][10:, 0])
        * torch.exp(
            -0.5
            * (0.5 - model.gauss_params["times"][10:, 0]) ** 2
            / torch.exp(model.gauss_params["scales_t"][10:, 0]) ** 2
        )
    )
    torch.testing.assert_close(model.opacities[10:, 0], expected, rtol=1e-4, atol=1e-4)
    assert model.num_points == 64


def test_asking_for_sds_fails_at_once_and_loads_no_diffusion_model(tmp_path, monkeypatch):
    import sys
    import types

    from efficient4d_ns.sds import SdsNotAvailableError

    loaded = []
    fake = types.ModuleType("diffusers")
    fake.DiffusionPipeline = types.SimpleNamespace(from_pretrained=lambda *a, **k: loaded.append(a))
    monkeypatch.setitem(sys.modules, "diffusers", fake)
    folder = tmp_path / "sds"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    message = "--pipeline.model.sds-lambda 1: the SDS term of Efficient4D is not implemented"
    with pytest.raises(SdsNotAvailableError, match=message):  # when the option is parsed
        Efficient4DModelConfig(sds_lambda=1.0, sds_model_path=folder)
    config = Efficient4DModelConfig(num_random=64, eval_lpips_net="none")
    config.sds_lambda = 1.0  # as a run's config.yml loads (no __init__)
    with pytest.raises(SdsNotAvailableError, match=message):
        config.setup(scene_box=SceneBox(aabb=torch.tensor([[-1.0, -1, -1], [1, 1, 1]])), num_train_data=4)
    assert loaded == []
    assert math.isfinite(Efficient4DModelConfig().lambda_rgb)


def test_training_render_without_grad_leaves_the_densification_state_alone():
    model = _model()
    model.train()
    calls = []
    model.strategy.step_pre_backward = lambda *args, **kwargs: calls.append(args)
    with torch.no_grad():
        model.get_outputs(_camera(0.5))
    assert calls == []
    model.get_outputs(_camera(0.5))
    assert len(calls) == 1 and torch.equal(calls[0][4]["slice_ids"], model.info["slice_ids"])


def test_export_slice_is_computed_once_per_parameter_state(monkeypatch):
    from efficient4d_ns import gaussians4d as g4

    model = _model(export_time=0.5)
    calls = []
    decompose = g4.covariance_to_scale_quat
    monkeypatch.setattr(g4, "covariance_to_scale_quat", lambda c: calls.append(1) or decompose(c))
    first = (model.means, model.scales, model.quats, model.opacities, model.features_dc)
    assert len(calls) == 1
    with torch.no_grad():
        model.gauss_params["times"][:] = 3.0  # every Gaussian far from t = 0.5
    assert torch.all(model.opacities == -20.0) and len(calls) == 2
    model.config.export_time = 3.0
    assert torch.all(model.opacities > -20.0) and len(calls) == 3
    assert model.means.shape == first[0].shape and len(calls) == 3
