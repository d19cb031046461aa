"""Densification and pruning of 4D Gaussians with gsplat's `DefaultStrategy` machinery.

The parameters keep gsplat's names for the spatial part (`means` [N, 3], `scales` [N, 3] log, `quats` [N, 4] = the
left quaternion, `opacities` [N, 1] logit, colour features) and add the temporal part under their own keys
(`times` [N, 1], `scales_t` [N, 1] log, `quats_r` [N, 4], `features_time` [N, B, 3]); gsplat's `duplicate`,
`remove` and `reset_opa` resize those like any other per-Gaussian tensor, optimizer state included.

Two things differ from 3D:

- split samples the children in 4D, x ~ N(μ, R S² Rᵀ) over (x, y, z, t) as 4DGS does, so a split also spreads the
  children in time and they move like their parent; all four scales shrink by 1.6;
- only the Gaussians alive at the rendered time (p(t) ≥ 0.05) are rasterized, so the renderer's `means2d`/`radii`
  cover a subset; ``info["slice_ids"]`` maps them back to rows of the parameter tensors.
"""

from typing import Any, Dict

import torch
from gsplat.strategy.ops import _update_param_with_optimizer, duplicate
from jaxtyping import Float
from torch import Tensor

from efficient4d_ns.gaussians4d import rotation_scale_4d
from nsglue.strategy import NoInitialResetStrategy

TEMPORAL_KEYS = ("times", "scales_t", "quats_r", "features_time")
"""Per-Gaussian parameters of the time dimension, beside splatfacto's `GAUSSIAN_KEYS`."""

SPLIT_SCALE_DIVISOR = 1.6
"""Children's standard deviations are the parent's divided by this (0.8 · N for N = 2 children, as 3DGS/4DGS)."""


def sample_split_offsets(
    log_scales: Float[Tensor, "N 3"],
    log_scales_t: Float[Tensor, "N 1"],
    quats_l: Float[Tensor, "N 4"],
    quats_r: Float[Tensor, "N 4"],
    noise: Float[Tensor, "2 N 4"],
) -> Float[Tensor, "2 N 4"]:
    """Offsets R · diag(s) · ε of two children per Gaussian in (x, y, z, t), given standard-normal noise ε."""
    return torch.einsum("nij,bnj->bni", rotation_scale_4d(log_scales, log_scales_t, quats_l, quats_r), noise)


@torch.no_grad()
def split_4d(
    params: Dict[str, torch.nn.Parameter],
    optimizers: Dict[str, torch.optim.Optimizer],
    state: Dict[str, Any],
    mask: Tensor,
    noise: Tensor | None = None,
) -> None:
    """Replace every Gaussian in `mask` by two children sampled from its 4D distribution (in place).

    Args:
        params: per-Gaussian parameters (spatial keys as gsplat, plus `times`, `scales_t`, `quats_r`).
        optimizers: one single-group optimizer per key of `params`.
        state: strategy running state; its tensors are resized like the parameters.
        mask: [N] bool, the Gaussians to split.
        noise: optional [2, M, 4] standard-normal samples (M = mask.sum()); drawn when None (tests pass their own).
    """
    sel = torch.where(mask)[0]
    rest = torch.where(~mask)[0]
    if noise is None:
        noise = torch.randn(2, len(sel), 4, device=mask.device, dtype=params["means"].dtype)
    offsets = sample_split_offsets(
        params["scales"][sel], params["scales_t"][sel], params["quats"][sel], params["quats_r"][sel], noise
    )

    def param_fn(name: str, p: Tensor) -> Tensor:
        if name == "means":
            children = (p[sel] + offsets[..., :3]).reshape(-1, 3)
        elif name == "times":
            children = (p[sel] + offsets[..., 3:]).reshape(-1, 1)
        elif name in ("scales", "scales_t"):
            children = (p[sel] - torch.log(torch.tensor(SPLIT_SCALE_DIVISOR))).repeat(2, *[1] * (p.dim() - 1))
        else:
            children = p[sel].repeat(2, *[1] * (p.dim() - 1))
        return torch.nn.Parameter(torch.cat([p[rest], children]))

    def optimizer_fn(key: str, v: Tensor) -> Tensor:
        return torch.cat([v[rest], torch.zeros((2 * len(sel), *v.shape[1:]), device=v.device, dtype=v.dtype)])

    _update_param_with_optimizer(param_fn, optimizer_fn, params, optimizers)
    for key, value in state.items():
        if isinstance(value, Tensor):
            state[key] = torch.cat([value[rest], value[sel].repeat(2, *[1] * (value.dim() - 1))])


class Temporal4DStrategy(NoInitialResetStrategy):
    """gsplat's default densification for 4D Gaussians: 4D split, and statistics of the time slice mapped back."""

    def _update_state(self, params, state, info, packed: bool = False) -> None:
        """Accumulate screen-space gradient norms of the rasterized slice onto the full parameter rows."""
        slice_ids = info.get("slice_ids")
        if slice_ids is None:
            return super()._update_state(params, state, info, packed=packed)
        grads = info[self.key_for_gradient].grad
        if grads is None:  # nothing visible this step
            return None
        grads = grads.clone()
        grads[..., 0] *= info["width"] / 2.0 * info["n_cameras"]
        grads[..., 1] *= info["height"] / 2.0 * info["n_cameras"]
        n_gaussians = len(params["means"])
        for key in ("grad2d", "count"):
            if state[key] is None:
                state[key] = torch.zeros(n_gaussians, device=grads.device)
        if self.refine_scale2d_stop_iter > 0 and state["radii"] is None:
            state["radii"] = torch.zeros(n_gaussians, device=grads.device)
        visible = info["radii"] > 0  # [C, M]
        ids = slice_ids[torch.where(visible)[1]]
        state["grad2d"].index_add_(0, ids, grads[visible].norm(dim=-1))
        state["count"].index_add_(0, ids, torch.ones_like(ids, dtype=torch.float32))
        if self.refine_scale2d_stop_iter > 0:
            radii = info["radii"][visible].float() / float(max(info["width"], info["height"]))
            state["radii"][ids] = torch.maximum(state["radii"][ids], radii)
        return None

    @torch.no_grad()
    def _grow_gs(self, params, optimizers, state, step: int) -> tuple[int, int]:
        """Clone small Gaussians with large gradients, split large ones in 4D (3DGS's rule on spatial scales)."""
        grads = state["grad2d"] / state["count"].clamp_min(1)
        high_grad = grads > self.grow_grad2d
        small = torch.exp(params["scales"]).max(dim=-1).values <= self.grow_scale3d * state["scene_scale"]
        to_clone = high_grad & small
        to_split = high_grad & ~small
        if step < self.refine_scale2d_stop_iter:
            to_split |= state["radii"] > self.grow_scale2d
        n_clone, n_split = int(to_clone.sum()), int(to_split.sum())
        if n_clone > 0:
            duplicate(params=params, optimizers=optimizers, state=state, mask=to_clone)
        # clones are appended at the end and are never split in the same step
        to_split = torch.cat([to_split, torch.zeros(n_clone, dtype=torch.bool, device=to_split.device)])
        if n_split > 0:
            split_4d(params, optimizers, state, to_split)
        return n_clone, n_split
