"""4D densification: split through the 4D rotation, temporal keys resized with optimizer state, sliced stats."""

import math

import pytest
import torch

from efficient4d_ns.strategy import Temporal4DStrategy, split_4d


def _params(n: int):
    gen = torch.Generator().manual_seed(0)
    values = {
        "means": torch.randn(n, 3, generator=gen),
        "scales": torch.full((n, 3), math.log(0.01)),
        "quats": torch.tensor([1.0, 0, 0, 0]).repeat(n, 1),
        "features_dc": torch.rand(n, 3, generator=gen),
        "features_rest": torch.zeros(n, 0, 3),
        "opacities": torch.zeros(n, 1),
        "times": torch.rand(n, 1, generator=gen),
        "scales_t": torch.full((n, 1), math.log(0.3)),
        "quats_r": torch.tensor([1.0, 0, 0, 0]).repeat(n, 1),
        "features_time": torch.zeros(n, 2, 3),
    }
    params = {k: torch.nn.Parameter(v) for k, v in values.items()}
    optimizers = {k: torch.optim.Adam([p], lr=1e-3) for k, p in params.items()}
    # one step so every optimizer holds exp_avg / exp_avg_sq of the current size
    sum(p.sum() for p in params.values()).backward()
    for opt in optimizers.values():
        opt.step()
    return params, optimizers


def test_split_samples_children_through_the_4d_rotation():
    params, optimizers = _params(3)
    half = math.pi / 8  # x–t rotation by 45°: q_r = conj(q_l)
    with torch.no_grad():
        params["quats"][1] = torch.tensor([math.cos(half), 0, 0, math.sin(half)])
        params["quats_r"][1] = torch.tensor([math.cos(half), 0, 0, -math.sin(half)])
        params["scales"][1] = torch.log(torch.tensor([0.2, 0.05, 0.05]))
        params["scales_t"][1] = math.log(0.1)
    parent_mean, parent_time = params["means"][1].clone(), params["times"][1].clone()
    mask = torch.tensor([False, True, False])
    noise = torch.zeros(2, 1, 4)
    noise[0, 0, 0], noise[1, 0, 3] = 1.0, 1.0  # child A along local x, child B along local t
    state = {"grad2d": torch.tensor([1.0, 2.0, 3.0]), "count": torch.ones(3), "scene_scale": 1.0}
    split_4d(params, optimizers, state, mask, noise=noise)
    c = math.sqrt(0.5)
    # R = [[c,0,0,c],[0,1,0,0],[0,0,1,0],[-c,0,0,c]]: local x -> (c, 0, 0, -c), local t -> (c, 0, 0, c)
    torch.testing.assert_close(params["means"][2], parent_mean + torch.tensor([0.2 * c, 0, 0]))
    torch.testing.assert_close(params["times"][2], parent_time - 0.2 * c)
    torch.testing.assert_close(params["means"][3], parent_mean + torch.tensor([0.1 * c, 0, 0]))
    torch.testing.assert_close(params["times"][3], parent_time + 0.1 * c)
    torch.testing.assert_close(torch.exp(params["scales"][2]), torch.tensor([0.2, 0.05, 0.05]) / 1.6)
    torch.testing.assert_close(torch.exp(params["scales_t"][3]), torch.tensor([0.1 / 1.6]))
    torch.testing.assert_close(params["quats_r"][3], params["quats_r"][2])
    for key, p in params.items():
        assert p.shape[0] == 4, key
        assert optimizers[key].param_groups[0]["params"][0] is p
        assert optimizers[key].state[p]["exp_avg"].shape == p.shape, key
    torch.testing.assert_close(state["grad2d"], torch.tensor([1.0, 3.0, 2.0, 2.0]))


def test_grow_and_prune_resize_temporal_keys_with_optimizer_state():
    params, optimizers = _params(6)
    strategy = Temporal4DStrategy(grow_grad2d=0.5, grow_scale3d=0.05, prune_opa=0.3, verbose=False)
    state = strategy.initialize_state()
    state["grad2d"] = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    state["count"] = torch.ones(6)
    with torch.no_grad():
        params["scales"][1] = math.log(0.2)  # large: split; Gaussian 0 is small: clone
        params["opacities"][5] = -5.0  # pruned
    n_clone, n_split = strategy._grow_gs(params, optimizers, state, step=100)
    assert (n_clone, n_split) == (1, 1)
    assert len(params["means"]) == 6 - 1 + 1 + 2
    n_prune = strategy._prune_gs(params, optimizers, state, step=100)
    assert n_prune == 1
    for key, p in params.items():
        assert p.shape[0] == 7, key
        assert optimizers[key].state[p]["exp_avg"].shape == p.shape, key
    assert state["grad2d"].shape == (7,)


def test_statistics_of_a_time_slice_land_on_the_right_rows():
    params, _ = _params(5)
    strategy = Temporal4DStrategy(verbose=False)
    state = strategy.initialize_state()
    means2d = torch.zeros(1, 2, 2, requires_grad=True)
    (means2d * torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])).sum().backward()
    info = {
        "means2d": means2d,
        "radii": torch.tensor([[3, 0]], dtype=torch.int32),
        "width": 4,
        "height": 4,
        "n_cameras": 1,
        "gaussian_ids": None,
        "slice_ids": torch.tensor([3, 1]),
    }
    strategy._update_state(params, state, info)
    # grad of row 0 (x: 1 → ×2 for width/2) goes to Gaussian 3; row 1 is not visible (radius 0)
    torch.testing.assert_close(state["grad2d"], torch.tensor([0.0, 0.0, 0.0, 2.0, 0.0]))
    torch.testing.assert_close(state["count"], torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0]))


@pytest.mark.parametrize("n", [1, 4])
def test_split_preserves_the_mean_in_expectation(n):
    params, optimizers = _params(n)
    state = {"scene_scale": 1.0}
    torch.manual_seed(0)
    before = params["means"][0].clone()
    mask = torch.zeros(n, dtype=torch.bool)
    mask[0] = True
    split_4d(params, optimizers, state, mask, noise=torch.stack([torch.ones(1, 4), -torch.ones(1, 4)]))
    torch.testing.assert_close(params["means"][-2:].mean(0), before)


def test_the_strategy_imports_without_nerfstudio():
    import subprocess
    import sys

    code = "import sys, efficient4d_ns.strategy; print(any(m.startswith('nerfstudio') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
