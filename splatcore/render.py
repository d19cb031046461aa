"""From Gaussians in splatfacto's storage convention to a composited image: activation, colours, background.

Pure functions over tensors (no nerfstudio): the models decide *which* Gaussians to draw (a crop, a time slice), this
module draws them through :func:`splatcore.rasterize` the same way for every method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Literal, Mapping, NamedTuple, Optional

import torch
from jaxtyping import Float
from torch import Tensor

from splatcore.rasterize import rasterize


class RenderResult(NamedTuple):
    """Output of :func:`render_splats` for C cameras."""

    rgb: Float[Tensor, "C H W 3"]
    """Colour composited onto the background, clamped to [0, 1]."""
    alpha: Float[Tensor, "C H W 1"]
    """Accumulated opacity."""
    depth: Optional[Float[Tensor, "C H W 1"]]
    """Expected depth where alpha > 0 (max depth elsewhere), or None unless requested."""
    info: Dict
    """Rasterizer meta (``means2d``, ``radii``, ...) for the densification strategy."""


@dataclass
class Splats:
    """The 3D Gaussians to rasterize for one camera, activated: linear scales, opacities in [0, 1].

    Either ``quats`` and ``scales`` or ``covars`` are set. Colours stay in the storage convention and are turned
    into what the rasterizer takes by :func:`splat_colors` at render time (the SH degree depends on the step).
    """

    means: Float[Tensor, "N 3"]
    opacities: Float[Tensor, "N"]
    features_dc: Float[Tensor, "N 3"]
    features_rest: Float[Tensor, "N K 3"]
    quats: Optional[Float[Tensor, "N 4"]] = None
    """wxyz, unnormalised."""
    scales: Optional[Float[Tensor, "N 3"]] = None
    """Linear standard deviations."""
    covars: Optional[Float[Tensor, "N 3 3"]] = None
    """Explicit world-space covariances (instead of quats and scales)."""
    ids: Optional[Tensor] = None
    """[N] rows of the parameter tensors these splats come from, when they are a subset (for the strategy)."""


def splats_from_params(params: Mapping[str, Tensor]) -> Splats:
    """:class:`Splats` of one Gaussian set stored in splatfacto's convention (log scales, logit opacities).

    Args:
        params: tensors keyed by ``means``, ``scales``, ``quats``, ``features_dc``, ``features_rest``, ``opacities`` (cropped or not).
    """
    return Splats(
        means=params["means"],
        opacities=torch.sigmoid(params["opacities"]).squeeze(-1),
        features_dc=params["features_dc"],
        features_rest=params["features_rest"],
        quats=params["quats"],
        scales=torch.exp(params["scales"]),
    )


def render_splats(
    splats: Splats,
    w2c_cv: Float[Tensor, "C 4 4"],
    K: Float[Tensor, "C 3 3"],
    width: int,
    height: int,
    background: Float[Tensor, "3"],
    sh_degree_to_use: Optional[int],
    with_depth: bool = False,
    absgrad: bool = False,
    rasterize_mode: Literal["classic", "antialiased"] = "classic",
) -> RenderResult:
    """Rasterize splats and composite them over the background.

    Args:
        splats: the Gaussians to draw (quats and scales, or covariances).
        w2c_cv: world-to-camera OpenCV view matrices.
        K: pinhole intrinsics at the render resolution.
        width: render width in pixels.
        height: render height in pixels.
        background: colour composited behind the Gaussians.
        sh_degree_to_use: SH degree to evaluate; None means ``features_dc`` are sigmoid logits (SH degree 0).
        with_depth: also return expected depth.
        absgrad: ask gsplat (CUDA) for absolute screen-space gradients.
        rasterize_mode: "classic" or "antialiased".
    """
    render, alpha, info = rasterize(
        splats.means,
        splats.quats,
        splats.scales,
        splats.opacities,
        splat_colors(splats.features_dc, splats.features_rest, sh_degree_to_use),
        w2c_cv,
        K,
        width,
        height,
        sh_degree=sh_degree_to_use,
        render_mode="RGB+ED" if with_depth else "RGB",
        covars=splats.covars,
        packed=False,
        absgrad=absgrad,
        rasterize_mode=rasterize_mode,
    )
    return composite_render(render, alpha, background, with_depth, info)


def splat_colors(
    features_dc: Float[Tensor, "N 3"], features_rest: Float[Tensor, "N K 3"], sh_degree_to_use: Optional[int]
) -> Tensor:
    """What `rasterize` takes as colours: sigmoid RGB [N, 3] at SH degree 0 (None), else SH coefficients [N, K+1, 3]."""
    if sh_degree_to_use is None:
        return torch.sigmoid(features_dc)
    return torch.cat([features_dc[:, None, :], features_rest], dim=1)


def composite_render(
    render: Float[Tensor, "C H W D"],
    alpha: Float[Tensor, "C H W 1"],
    background: Float[Tensor, "3"],
    with_depth: bool,
    info: dict,
) -> RenderResult:
    """Composite the rasterized colour over `background`; expected depth (last channel) where requested.

    Empty pixels get the farthest rendered depth (detached) rather than 0, so depth maps do not show holes as "near".
    """
    rgb = torch.clamp(render[..., :3] + (1.0 - alpha) * background, 0.0, 1.0)
    depth = None
    if with_depth:
        depth = render[..., 3:4]
        depth = torch.where(alpha > 0, depth, depth.detach().max())
    return RenderResult(rgb, alpha, depth, info)
