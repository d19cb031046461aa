"""Preset values of rigi-splat / rigi-splat-cpu against 3DGS's settings, and the extent reaching the strategy."""

import math

import pytest
import torch
from nerfstudio.data.scene_box import SceneBox

from rigi_ns.config import POSITION_LR_DECAY_STEPS, SCENE_EXTENT, cpu_trainer_config, rigi_splat, rigi_splat_cpu


def _position_lr_at(config, step: int) -> float:
    """The means learning rate nerfstudio's scheduler gives at ``step``."""
    entry = config.optimizers["means"]
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = entry["optimizer"].setup(params=[param])
    scheduler = entry["scheduler"].setup().get_scheduler(optimizer=optimizer, lr_init=entry["optimizer"].lr)
    for _ in range(step):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


def test_paper_preset_keeps_3dgs_absolute_step_counts():
    config = rigi_splat.config
    model = config.pipeline.model
    assert config.max_num_iterations == 5000
    assert (model.warmup_length, model.refine_every, model.stop_split_at) == (500, 100, 15000)
    assert model.reset_alpha_every * model.refine_every == 3000 and model.pause_refine_after_reset == 0
    assert (model.densify_grad_thresh, model.densify_size_thresh, model.cull_scale_thresh) == (0.0002, 0.01, 0.1)
    assert model.scene_extent == SCENE_EXTENT == pytest.approx(1.1 * 4.0)
    for key in ("means", "means_2"):
        scheduler = config.optimizers[key]["scheduler"]
        assert scheduler.max_steps == POSITION_LR_DECAY_STEPS == 30000
        assert config.optimizers[key]["optimizer"].lr == pytest.approx(1.6e-4 * SCENE_EXTENT)
        assert scheduler.lr_final == pytest.approx(1.6e-6 * SCENE_EXTENT)


def test_paper_preset_position_lr_at_the_end_is_3dgs_value_at_step_5000():
    config = rigi_splat.config
    start = config.optimizers["means"]["optimizer"].lr
    # 3DGS's log-linear decay from 1.6e-4 to 1.6e-6 over 30,000 steps, evaluated at 5,000
    assert _position_lr_at(config, 5000) / start == pytest.approx(math.exp(5000 / 30000 * math.log(0.01)), rel=1e-3)


def test_cpu_preset_compresses_the_schedule_with_its_length():
    config = cpu_trainer_config(300)
    model = config.pipeline.model
    assert (model.warmup_length, model.refine_every, model.stop_split_at) == (30, 15, 150)
    assert config.optimizers["means"]["scheduler"].max_steps == 1800  # 6x the run, as 5,000 of 30,000
    assert model.scene_extent == SCENE_EXTENT


@pytest.mark.parametrize("steps", [300, 1000, 1234])
def test_cpu_preset_never_resets_opacities(steps):
    """The first reset step lies at or past the end of densification, where gsplat's strategy no longer acts."""
    model = cpu_trainer_config(steps).pipeline.model
    assert model.reset_alpha_every * model.refine_every > model.stop_split_at


def test_cpu_preset_default_is_sized_for_128_px_labels():
    config = rigi_splat_cpu.config
    model = config.pipeline.model
    assert config.max_num_iterations == 1000 and model.num_random == 3000
    assert model.densify_grad_thresh == 0.0002  # 3DGS's threshold for plain (not absolute) gradients
    assert model.lpips_lambda == 0.0 and model.background_color == "random"


@pytest.mark.parametrize("extent, survivors", [(1.0, 10), (SCENE_EXTENT, 20)])
def test_size_pruning_scales_with_the_scene_extent(extent, survivors):
    """3DGS prunes Gaussians wider than 0.1 x extent: with the SV3D extent 4.4 a 0.3-wide Gaussian stays."""
    from rigi_ns.model import RigiSplatModelConfig
    from tests.rigi_ns.test_model import _camera

    config = RigiSplatModelConfig(
        num_random=20,
        dual_model=False,
        lpips_lambda=0.0,
        scene_extent=extent,
        warmup_length=0,
        refine_every=1,
        reset_alpha_every=1,
        densify_grad_thresh=1e9,
    )
    model = config.setup(scene_box=SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=4)
    assert model.strategy_state["scene_scale"] == extent
    with torch.no_grad():
        model.gauss_params["scales"][:] = math.log(0.05)
        model.gauss_params["scales"][:10] = math.log(0.3)
        model.gauss_params["opacities"][:] = 3.0
    from nerfstudio.engine.optimizers import Optimizers

    from rigi_ns.config import rigi_optimizers

    optimizers = Optimizers(rigi_optimizers(), model.get_param_groups())
    model.train()
    model.step_cb(optimizers, 2)
    outputs = model.get_outputs(_camera())
    outputs["rgb"].sum().backward()
    model.step_post_backward(2)
    assert model.gauss_params["means"].shape[0] == survivors


def test_twin_strategy_gets_the_scene_extent_too():
    from rigi_ns.model import RigiSplatModelConfig

    config = RigiSplatModelConfig(num_random=10, lpips_lambda=0.0, scene_extent=SCENE_EXTENT)
    model = config.setup(scene_box=SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=4)
    assert model.strategy_state["scene_scale"] == model.strategy_state_2["scene_scale"] == SCENE_EXTENT
