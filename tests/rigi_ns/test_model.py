"""RigiSplatModel on CPU: both sets train, densify with their own states, reload, export the chosen set."""

import functools
import math

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.engine.optimizers import Optimizers

from nsglue.gaussians import GAUSSIAN_KEYS
from rigi_ns.config import rigi_optimizers
from rigi_ns.model import RigiSplatModelConfig
from splatcore.lpips import MissingWeightsError, random_lpips_for_tests

SIDE = 24


def _camera() -> Cameras:
    """One camera at (4, 0, 0) looking at the origin, world +z up (OpenGL c2w: x right, y up, z back)."""
    c2w = torch.tensor([[0.0, 0.0, 1.0, 4.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    focal = 0.5 * SIDE / math.tan(math.radians(33.8) / 2)
    return Cameras(camera_to_worlds=c2w[None], fx=focal, fy=focal, cx=SIDE / 2, cy=SIDE / 2, width=SIDE, height=SIDE)


@functools.lru_cache(maxsize=1)
def _random_lpips():
    return random_lpips_for_tests()  # frozen, so one instance serves every model


def _model(**overrides):
    kwargs = dict(num_random=150, lpips_lambda=0.5)
    kwargs.update(overrides)
    config = RigiSplatModelConfig(**kwargs)
    scene_box = SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3]))
    return config.setup(scene_box=scene_box, num_train_data=4, lpips_net=_random_lpips())


def _batch(channels=4):
    g = torch.Generator().manual_seed(5)
    return {"image": torch.rand(SIDE, SIDE, channels, generator=g)}


def _train_step(model, optimizers, step, batch=None):
    model.train()
    model.step_cb(optimizers, step)
    outputs = model.get_outputs(_camera())
    loss_dict = model.get_loss_dict(outputs, batch or _batch())
    loss = sum(loss_dict.values())
    optimizers.zero_grad_all()
    loss.backward()
    return outputs, loss_dict


def test_param_groups_match_optimizer_config_and_twins_differ():
    model = _model()
    groups = model.get_param_groups()
    twin_keys = {k + "_2" for k in GAUSSIAN_KEYS}
    assert set(groups) == set(GAUSSIAN_KEYS) | twin_keys
    assert set(rigi_optimizers(100)) - set(groups) == {"camera_opt"}  # used only when pose optimisation is on
    assert not torch.allclose(model.gauss_params["means"], model.gauss_params_2["means"])
    single = _model(dual_model=False)
    assert set(single.get_param_groups()) == set(GAUSSIAN_KEYS)


def test_both_sets_get_gradients_and_outputs_for_viewer():
    model = _model()
    optimizers = Optimizers(rigi_optimizers(100), model.get_param_groups())
    outputs, loss_dict = _train_step(model, optimizers, 1)
    assert set(loss_dict) >= {"uncertainty_l1", "dssim", "lpips"}
    for key in GAUSSIAN_KEYS[:4] + ("opacities",):
        assert model.gauss_params[key].grad.abs().sum() > 0, key
        assert model.gauss_params_2[key].grad.abs().sum() > 0, key
    assert outputs["rgb_2"].shape == (SIDE, SIDE, 3)
    u = outputs["uncertainty"]
    assert u.shape == (SIDE, SIDE, 1) and 0 <= u.min() and u.max() < 1 and u.max() > 0


def test_uncertainty_zero_when_twins_identical():
    model = _model()
    with torch.no_grad():
        for key in GAUSSIAN_KEYS:
            model.gauss_params_2[key] = torch.nn.Parameter(model.gauss_params[key].clone())
    model.eval()
    outputs = model.get_outputs(_camera())
    torch.testing.assert_close(outputs["rgb_2"], outputs["rgb"])
    assert torch.count_nonzero(outputs["uncertainty"]) == 0


def test_single_model_loss_is_plain_l1_plus_dssim():
    model = _model(dual_model=False, lpips_lambda=0.0)
    model.train()
    model.step_cb(Optimizers(rigi_optimizers(100), model.get_param_groups()), 1)
    outputs = model.get_outputs(_camera())
    assert "rgb_2" not in outputs
    batch = _batch()
    loss_dict = model.get_loss_dict(outputs, batch)
    gt = model.composite_with_background(batch["image"], outputs["background"])
    torch.testing.assert_close(loss_dict["uncertainty_l1"], 0.8 * (gt - outputs["rgb"]).abs().mean())


def test_densification_runs_per_set_with_own_state():
    model = _model(
        warmup_length=0,
        refine_every=1,
        densify_grad_thresh=0.0,
        stop_split_at=100,
        lpips_lambda=0.0,
        pause_refine_after_reset=0,
    )
    with torch.no_grad():  # move the twin behind the camera: nothing of it is visible, so it must not grow
        model.gauss_params_2["means"][:, 0] += 10.0
    optimizers = Optimizers(rigi_optimizers(100), model.get_param_groups())
    n1, n2 = model.gauss_params["means"].shape[0], model.gauss_params_2["means"].shape[0]
    _train_step(model, optimizers, 1)
    optimizers.optimizer_step_all()
    model.step_post_backward(1)
    assert model.strategy_state is not model.strategy_state_2
    assert model.gauss_params["means"].shape[0] > n1
    assert model.gauss_params_2["means"].shape[0] <= n2
    # the optimizers follow the resized parameters (gsplat's ops update them through the views)
    assert optimizers.optimizers["means"].param_groups[0]["params"][0] is model.gauss_params["means"]
    assert optimizers.optimizers["means_2"].param_groups[0]["params"][0] is model.gauss_params_2["means"]
    _train_step(model, optimizers, 2)  # still trains after resizing
    optimizers.optimizer_step_all()


def test_checkpoint_reload_restores_both_counts_and_values():
    trained = _model()
    with torch.no_grad():
        for key in GAUSSIAN_KEYS:
            trained.gauss_params[key] = torch.nn.Parameter(trained.gauss_params[key][:97].clone())
            trained.gauss_params_2[key] = torch.nn.Parameter(trained.gauss_params_2[key][:61].clone())
    state = trained.state_dict()
    fresh = _model(num_random=150)
    fresh.load_state_dict(dict(state))
    assert fresh.gauss_params["means"].shape[0] == 97 and fresh.gauss_params_2["means"].shape[0] == 61
    torch.testing.assert_close(fresh.gauss_params_2["scales"], trained.gauss_params_2["scales"])
    # resuming: optimizers built before the load are re-pointed at the loaded parameters
    optimizers = Optimizers(rigi_optimizers(100), _model().get_param_groups())
    fresh.step_cb(optimizers, 0)
    assert optimizers.optimizers["quats_2"].param_groups[0]["params"][0] is fresh.gauss_params_2["quats"]


def test_export_model_switch_picks_the_set():
    model = _model(export_model=2)
    assert model.means is model.gauss_params_2["means"]
    assert model.num_points == model.gauss_params_2["means"].shape[0]
    default = _model()
    assert default.means is default.gauss_params["means"]


def test_missing_lpips_weights_stop_setup_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    config = RigiSplatModelConfig(num_random=50, lpips_lambda=0.5)
    with pytest.raises(MissingWeightsError, match="lpips-lambda 0"):
        config.setup(scene_box=SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=1)
    # without the LPIPS loss the model builds, and the eval metric is simply omitted
    model = RigiSplatModelConfig(num_random=50, lpips_lambda=0.0).setup(
        scene_box=SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=1
    )
    model.eval()
    outputs = model.get_outputs(_camera())
    metrics, images = model.get_image_metrics_and_images(outputs, _batch())
    assert set(metrics) == {"psnr", "ssim"} and images["img"].shape == (SIDE, 2 * SIDE, 3)


def _set1_densification_statistic(dual_model: bool, **overrides) -> float:
    model = _model(dual_model=dual_model, lpips_lambda=0.0, warmup_length=1000, **overrides)
    optimizers = Optimizers(rigi_optimizers(100), model.get_param_groups())
    torch.manual_seed(0)  # the same random background for every variant compared
    _train_step(model, optimizers, 1, _batch(3))
    model.step_post_backward(1)
    state = model.strategy_state
    return float(state["grad2d"].sum() / state["count"].clamp_min(1).sum())


def test_dual_model_does_not_inflate_set_1_densification_statistic():
    """Uncertainty weighting scales residual gradients by exp(-lambda U) <= 1, so set 1 accumulates no more
    screen-space gradient than the same set trained alone; a gradient through U inflated it several-fold."""
    single = _set1_densification_statistic(False)
    assert _set1_densification_statistic(True) <= single
    assert _set1_densification_statistic(True, detach_uncertainty=False) > 2 * single


def _rgb_on_white_label_and_renders(background):
    """An RGB label (red square on white, no alpha) and two renders on ``background`` [3]: one that shows the
    square over a transparent surrounding, one that also paints the surrounding opaque white (a white floater)."""
    inside = torch.zeros(SIDE, SIDE, 1)
    inside[8:16, 8:16] = 1.0
    red = torch.tensor([1.0, 0.0, 0.0])
    label = inside * red + (1 - inside) * torch.ones(3)
    clean = {"rgb": inside * red + (1 - inside) * background, "accumulation": inside}
    floater = {"rgb": label.clone(), "accumulation": torch.ones(SIDE, SIDE, 1)}
    return label, clean, floater


def test_random_background_reaches_rgb_on_white_labels():
    """A label without alpha keyed from white makes an opaque white surrounding cost loss under a random
    background; taken as opaque on white (the default) the floater is exactly as good as the clean render."""
    background = torch.tensor([0.2, 0.5, 0.8])
    label, clean, floater = _rgb_on_white_label_and_renders(background)

    def losses(model):
        model.train()
        out = {}
        for name, render in (("clean", clean), ("floater", floater)):
            outputs = {**render, "rgb_2": render["rgb"], "accumulation_2": render["accumulation"]}
            outputs["background"] = background
            out[name] = float(sum(model.get_loss_dict(outputs, {"image": label}).values()))
        return out

    keyed = losses(_model(lpips_lambda=0.0, key_rgb_labels=True))
    assert keyed["clean"] < 1e-3
    # the floater's white surrounding against the keyed label on the random background: |1 - bg| over 8/9 of
    # the pixels, times (1 - ssim_lambda) for each of the two renders, plus their D-SSIM
    assert keyed["floater"] > 0.5
    on_white = losses(_model(lpips_lambda=0.0))
    assert on_white["clean"] < 1e-3 and on_white["floater"] < 1e-3


def test_rgb_labels_get_keyed_alpha_for_loss_and_eval():
    label, _, _ = _rgb_on_white_label_and_renders(torch.zeros(3))
    model = _model(lpips_lambda=0.0, key_rgb_labels=True)
    gt = model.get_gt_img((label * 255).round().to(torch.uint8))
    assert gt.shape == (SIDE, SIDE, 4)
    assert gt[0, 0, 3] == 0.0 and gt[12, 12, 3] == 1.0
    torch.testing.assert_close(gt[12, 12, :3], torch.tensor([1.0, 0.0, 0.0]))
    rgba = torch.cat([label, torch.ones(SIDE, SIDE, 1)], dim=-1)
    torch.testing.assert_close(model.get_gt_img(rgba), rgba)  # a label with alpha keeps its own
    assert _model(lpips_lambda=0.0).get_gt_img(label).shape == (SIDE, SIDE, 3)  # off by default
