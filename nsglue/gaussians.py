"""Initial Gaussian parameters and optimizer plumbing shared by the Gaussian methods (no nerfstudio imports).

Parameters follow splatfacto's storage convention: ``means`` [N, 3] world, ``scales`` [N, 3] log, ``quats`` [N, 4]
wxyz (unnormalised), ``features_dc`` [N, 3], ``features_rest`` [N, K-1, 3], ``opacities`` [N, 1] logit.
"""

from __future__ import annotations

import math
from typing import Dict, Mapping, Optional

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor, nn

from splatcore.sh import SH_C0

GAUSSIAN_KEYS = ("means", "scales", "quats", "features_dc", "features_rest", "opacities")
"""Per-Gaussian parameter names, as splatfacto, its exporter and gsplat's strategy ops expect them."""


def random_quats(num: int, generator: torch.Generator) -> Float[Tensor, "N 4"]:
    """Uniformly distributed unit quaternions (wxyz), Shoemake's method."""
    u, v, w = torch.rand(3, num, generator=generator)
    return torch.stack(
        [
            torch.sqrt(1 - u) * torch.sin(2 * math.pi * v),
            torch.sqrt(1 - u) * torch.cos(2 * math.pi * v),
            torch.sqrt(u) * torch.sin(2 * math.pi * w),
            torch.sqrt(u) * torch.cos(2 * math.pi * w),
        ],
        dim=-1,
    )


def knn_mean_distance(points: Float[Tensor, "N 3"], k: int = 3) -> Float[Tensor, "N"]:
    """Mean distance of each point to its ``k`` nearest neighbours (3DGS's initial scale)."""
    from sklearn.neighbors import NearestNeighbors

    x = points.detach().cpu().numpy()
    k_eff = min(k, len(x) - 1)
    if k_eff < 1:
        return torch.full((len(x),), 0.01)
    distances, _ = NearestNeighbors(n_neighbors=k_eff + 1).fit(x).kneighbors(x)
    return torch.from_numpy(distances[:, 1:].mean(axis=1).astype(np.float32)).clamp_min(1e-7)


def initial_gaussian_params(
    num_random: int,
    random_scale: float,
    sh_degree: int,
    generator: torch.Generator,
    seed_points: Optional[tuple[Tensor, Tensor]] = None,
    box: Optional[Float[Tensor, "2 3"]] = None,
) -> Dict[str, nn.Parameter]:
    """Initial parameters: seed points when given (colours in 0..255), else uniform in a cube.

    Args:
        num_random: number of Gaussians for random initialisation.
        random_scale: side of the cube centred at the origin that random means are drawn from.
        sh_degree: maximum SH degree (``features_rest`` gets ``(sh_degree + 1) ** 2 - 1`` rows).
        generator: CPU random generator; two sets built from different seeds differ everywhere.
        seed_points: optional ``(xyz [M, 3], rgb [M, 3] in 0..255)``.
        box: optional ``[min, max]`` corners; random means are drawn in it instead of the ``random_scale`` cube.

    Returns:
        CPU parameters keyed by :data:`GAUSSIAN_KEYS`.
    """
    dim_sh = (sh_degree + 1) ** 2
    if seed_points is not None and len(seed_points[0]) > 0:
        means = seed_points[0].detach().float().cpu()
        rgb = seed_points[1].detach().float().cpu() / 255.0
    else:
        unit = torch.rand(num_random, 3, generator=generator)
        if box is None:
            means = (unit - 0.5) * random_scale
        else:
            lo, hi = box.detach().float().cpu()
            means = lo + unit * (hi - lo)
        rgb = None
    num = means.shape[0]
    if rgb is not None and len(rgb) == num:
        # SH degree 0 is stored as a sigmoid logit (splatfacto's convention), higher degrees as SH coefficients.
        features_dc = (rgb - 0.5) / SH_C0 if sh_degree > 0 else torch.logit(rgb, eps=1e-10)
    else:
        features_dc = torch.rand(num, 3, generator=generator)
    params = {
        "means": means,
        "scales": torch.log(knn_mean_distance(means))[:, None].repeat(1, 3),
        "quats": random_quats(num, generator),
        "features_dc": features_dc,
        "features_rest": torch.zeros(num, dim_sh - 1, 3),
        "opacities": torch.logit(torch.full((num, 1), 0.1)),
    }
    return {k: nn.Parameter(v.contiguous()) for k, v in params.items()}


def rebind_optimizers(
    params: Mapping[str, nn.Parameter] | nn.ParameterDict, optimizers: Mapping[str, torch.optim.Optimizer]
) -> None:
    """Point each one-group optimizer at the current parameter object of the same key, keeping its state.

    After ``load_state_dict`` resizes a Gaussian set the optimizers built earlier still hold the old parameter
    objects (and, on resume, the checkpoint's moments keyed by them); training would then update orphans.
    """
    for key, param in params.items():
        optimizer = optimizers[key]
        group = optimizer.param_groups[0]
        old = group["params"][0]
        if old is param:
            continue
        group["params"] = [param]
        state = optimizer.state.pop(old, None)
        if state is not None and all(
            not torch.is_tensor(v) or v.ndim == 0 or v.shape == param.shape for v in state.values()
        ):
            optimizer.state[param] = {k: v.to(param.device) if torch.is_tensor(v) else v for k, v in state.items()}
