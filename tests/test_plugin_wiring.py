"""The plugin as nerfstudio sees it: entry points, CLI listing, config round-trip, optimizer keys."""

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
import yaml
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.plugins.types import MethodSpecification

METHODS = ("rigi-splat", "rigi-splat-cpu", "efficient4d", "efficient4d-cpu")
BIN = Path(sys.executable).parent


def _specs():
    eps = {ep.name: ep for ep in entry_points(group="nerfstudio.method_configs")}
    return {name: eps[name].load() for name in METHODS if name in eps}


def test_entry_points_load_method_specs_named_like_the_entry_point():
    specs = _specs()
    assert set(specs) == set(METHODS)
    for name, spec in specs.items():
        assert isinstance(spec, MethodSpecification), name
        assert spec.config.method_name == name  # nerfstudio keys methods by method_name, not the entry-point name


def test_ns_train_help_lists_the_methods():
    env = dict(os.environ, COLUMNS="200")
    out = subprocess.run(
        [str(BIN / "ns-train"), "--help"], capture_output=True, text=True, timeout=120, env=env, check=True
    ).stdout
    for name in METHODS:
        assert name in out, name


@pytest.mark.parametrize("name", ["rigi-splat", "rigi-splat-cpu"])
def test_rigi_trainer_config_survives_yaml_round_trip_and_defaults(name):
    config = _specs()[name].config
    restored = yaml.load(yaml.dump(config), Loader=yaml.Loader)  # how nerfstudio writes/reads config.yml
    assert restored == config
    from datagen.dataparser import GeneratedDataParserConfig

    assert isinstance(config.pipeline.datamanager.dataparser, GeneratedDataParserConfig)
    assert config.machine.device_type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert config.pipeline.datamanager.cache_images == "gpu"  # "cpu" pins memory, which fails without CUDA


@pytest.mark.parametrize("name", ["efficient4d", "efficient4d-cpu"])
def test_efficient4d_trainer_config_survives_yaml_round_trip_and_defaults(name):
    config = _specs()[name].config
    restored = yaml.load(yaml.dump(config), Loader=yaml.Loader)  # how nerfstudio writes/reads config.yml
    assert restored == config
    from efficient4d_ns.datamanager import E4DDataManagerConfig

    assert isinstance(restored.pipeline.datamanager, E4DDataManagerConfig)
    assert restored.optimizers.keys() == config.optimizers.keys() and "quats_r" in restored.optimizers
    assert config.machine.device_type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_paper_preset_defaults():
    model = _specs()["rigi-splat"].config.pipeline.model
    config = _specs()["rigi-splat"].config
    assert config.max_num_iterations == 5000 and model.sh_degree == 0
    assert (model.uncertainty_lambda, model.ssim_lambda, model.lpips_lambda) == (5.0, 0.2, 0.5)
    assert model.dual_model and model.detach_uncertainty and model.background_color == "random"
    dm = config.pipeline.datamanager
    assert dm.resolution_scales == (0.25, 0.5, 1.0) and dm.resolution_fractions == (0.2, 0.5)
    assert dm.orbit_fractions == (0.0, 0.5, 0.8)
    cpu = _specs()["rigi-splat-cpu"].config
    assert cpu.pipeline.model.lpips_lambda == 0.0 and cpu.max_num_iterations < config.max_num_iterations


@pytest.mark.parametrize("dual_model", [True, False])
def test_optimizer_keys_cover_exactly_the_param_groups(dual_model):
    config = _specs()["rigi-splat-cpu"].config
    model_config = config.pipeline.model
    model_config = type(model_config)(**{**model_config.__dict__, "num_random": 20, "dual_model": dual_model})
    model = model_config.setup(scene_box=SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3])), num_train_data=3)
    groups = set(model.get_param_groups())
    keys = set(config.optimizers)
    assert groups <= keys
    unused = keys - groups
    assert unused == {"camera_opt"} | ({k for k in keys if k.endswith("_2")} if not dual_model else set())
