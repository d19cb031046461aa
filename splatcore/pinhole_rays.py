"""Recover the pinhole camera that a grid of rays was generated from.

nerfstudio's exporters (`ns-export tsdf`) hand a model the rays of a camera (`Cameras.generate_rays`), not the
camera: one origin and, for the pixel centre (u, v) = (j + 0.5, i + 0.5) of row i, column j, the direction
``R · ((u − cx)/fx, −(v − cy)/fy, −1)`` (OpenGL camera axes: x right, y up, z back), normalised, with its norm kept
as ``directions_norm``. A rasterizer renders cameras, so this inverts that map. The unnormalised direction is
affine in (u, v):

    d(u, v) = a·u + b·v + c,   a = R_x / fx,   b = −R_y / fy,   c = −R_z − cx·a − cy·b,

so a least-squares fit over the grid gives R, fx, fy, cx and cy exactly, and the fit's residual tells whether the
rays came from a pinhole camera at all (texture-baking rays, for instance, start on a surface and do not).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from jaxtyping import Float
from torch import Tensor


class NotPinholeError(ValueError):
    """The rays are not the pixel grid of one pinhole camera."""


class PinholeFit(NamedTuple):
    """A pinhole camera in nerfstudio's convention."""

    c2w_gl: Float[Tensor, "3 4"]
    """Camera-to-world pose, OpenGL camera axes (x right, y up, z back)."""
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int


def pinhole_from_rays(
    origins: Float[Tensor, "H W 3"],
    directions: Float[Tensor, "H W 3"],
    directions_norm: Float[Tensor, "H W 1"],
    tolerance: float = 1e-4,
) -> PinholeFit:
    """The pinhole camera whose `Cameras.generate_rays` gives these rays (pixel centres at +0.5).

    Args:
        origins: ray origins; all equal for a pinhole camera.
        directions: unit ray directions, world frame.
        directions_norm: norms of the directions before normalisation (z component −1 in camera axes).
        tolerance: largest deviation, in units of the unnormalised direction, still accepted as a pinhole grid.

    Returns:
        The camera, on the rays' device, pose in float32.

    Raises:
        NotPinholeError: the rays are not a pixel grid of one pinhole camera (shape, origins, or fit residual).
    """
    if origins.ndim != 3 or origins.shape[-1] != 3 or directions.shape != origins.shape:
        raise NotPinholeError(
            f"expected an image-shaped ray bundle [H, W, 3], got origins {tuple(origins.shape)} and directions "
            f"{tuple(directions.shape)}"
        )
    height, width = origins.shape[:2]
    if height < 2 or width < 2:
        raise NotPinholeError(f"a {height}×{width} grid of rays is too small to recover a camera")
    o = origins.detach().double().reshape(-1, 3)
    centre = o[0]
    if float((o - centre).abs().max()) > tolerance * (1.0 + float(centre.abs().max())):
        raise NotPinholeError("the rays start at different points (not one camera centre)")
    d = (directions.detach().double() * directions_norm.detach().double()).reshape(-1, 3)
    v, u = torch.meshgrid(
        torch.arange(height, dtype=torch.float64, device=d.device) + 0.5,
        torch.arange(width, dtype=torch.float64, device=d.device) + 0.5,
        indexing="ij",
    )
    design = torch.stack([u.reshape(-1), v.reshape(-1), torch.ones_like(u).reshape(-1)], dim=-1)  # [HW, 3]
    coef = torch.linalg.lstsq(design, d).solution  # rows: a, b, c
    if float((design @ coef - d).abs().max()) > tolerance:
        raise NotPinholeError("the ray directions are not an affine pixel grid (not a pinhole camera)")
    a, b, c = coef[0], coef[1], coef[2]
    fx, fy = 1.0 / float(a.norm()), 1.0 / float(b.norm())
    right, up = a * fx, -b * fy
    back = torch.linalg.cross(right, up)
    if abs(float(right @ up)) > 1e-3 or abs(float(c @ back) + 1.0) > 1e-3:
        raise NotPinholeError("the ray grid is skewed or not at unit depth (not a pinhole camera)")
    cx, cy = -float(c @ right) * fx, float(c @ up) * fy
    c2w = torch.cat([torch.stack([right, up, back], dim=-1), centre[:, None]], dim=-1)
    return PinholeFit(c2w.float(), fx, fy, cx, cy, int(width), int(height))
