"""The shared 3DGS set-up: both methods' optimizer tables, and their checkpoints loading with weights_only=True."""

import pytest
import torch
from nerfstudio.engine.optimizers import Optimizers

from efficient4d_ns.config import efficient4d
from nsglue.presets import optimizers_3dgs
from rigi_ns.config import rigi_splat


@pytest.mark.parametrize("spec", [rigi_splat, efficient4d], ids=["rigi-splat", "efficient4d"])
def test_optimizer_and_scheduler_state_round_trips_through_a_safe_load(spec, tmp_path):
    """What the trainer saves and ns-viewer / ns-export reload (torch.load defaults to weights_only=True)."""
    config = spec.config.optimizers
    params = {name: [torch.nn.Parameter(torch.zeros(4, 3))] for name in config}
    optimizers = Optimizers(config, params)
    for step in range(3):
        for group in params.values():
            group[0].grad = torch.ones(4, 3)
        optimizers.optimizer_step_all()
        optimizers.scheduler_step_all(step)
    state = {
        "optimizers": {k: v.state_dict() for k, v in optimizers.optimizers.items()},
        "schedulers": {k: v.state_dict() for k, v in optimizers.schedulers.items()},
    }
    path = tmp_path / "step-3.ckpt"
    torch.save(state, path)
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    assert loaded["schedulers"]["means"]["last_epoch"] == 3
    lr = optimizers.optimizers["means"].param_groups[0]["lr"]
    assert loaded["optimizers"]["means"]["param_groups"][0]["lr"] == pytest.approx(lr)
    fresh = Optimizers(config, params)
    fresh.load_optimizers(loaded["optimizers"])
    fresh.load_schedulers(loaded["schedulers"])
    assert fresh.optimizers["means"].param_groups[0]["lr"] == pytest.approx(lr)


def test_both_methods_share_the_3dgs_table():
    shared = optimizers_3dgs(1.0)
    for spec in (rigi_splat, efficient4d):
        extent = spec.config.pipeline.model.scene_extent
        table = spec.config.optimizers
        for key, entry in optimizers_3dgs(extent).items():
            assert table[key]["optimizer"].lr == entry["optimizer"].lr and table[key]["optimizer"].eps == 1e-15
        assert table["means"]["optimizer"].lr == pytest.approx(shared["means"]["optimizer"].lr * extent)
