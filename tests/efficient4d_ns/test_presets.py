"""Preset values of efficient4d / efficient4d-cpu against 4DGS's settings."""

import math

import pytest

from efficient4d_ns.config import POSITION_LR_DECAY_STEPS, SCENE_EXTENT, efficient4d, efficient4d_cpu
from tests.rigi_ns.test_presets import _position_lr_at


def test_paper_preset_keeps_4dgs_absolute_step_counts():
    config = efficient4d.config
    model = config.pipeline.model
    assert config.max_num_iterations == 1500 and model.num_random == 5000
    assert (model.warmup_length, model.refine_every, model.stop_split_at) == (500, 100, 15000)
    assert model.reset_alpha_every * model.refine_every == 3000 and model.pause_refine_after_reset == 0
    assert model.scene_extent == SCENE_EXTENT == pytest.approx(1.1 * 1.5)
    scheduler = config.optimizers["means"]["scheduler"]
    assert scheduler.max_steps == POSITION_LR_DECAY_STEPS == 30000
    assert config.optimizers["times"]["scheduler"] is None  # 4DGS does not schedule the temporal mean
    start = config.optimizers["means"]["optimizer"].lr
    assert _position_lr_at(config, 1500) / start == pytest.approx(math.exp(1500 / 30000 * math.log(0.01)), rel=1e-3)


def test_cpu_preset_compresses_the_schedule():
    config = efficient4d_cpu.config
    model = config.pipeline.model
    assert config.max_num_iterations == 300
    assert (model.warmup_length, model.refine_every, model.stop_split_at) == (25, 25, 200)
    assert config.optimizers["means"]["scheduler"].max_steps == 6000  # 300 of 6,000 = 1,500 of 30,000
    assert model.scene_extent == SCENE_EXTENT
