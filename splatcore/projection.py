"""EWA projection of 3D Gaussians onto pinhole images, as gsplat 1.4.0's ``fully_fused_projection`` (classic).

Pure tensor math with autograd; every camera/Gaussian pair is processed at once ([C, N] layout, "unpacked").
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from jaxtyping import Float, Int
from torch import Tensor


class Projection(NamedTuple):
    """Per camera/Gaussian screen-space quantities; entries with ``radii == 0`` are culled (values meaningless)."""

    radii: Int[Tensor, "C N"]
    """int32 pixel radius of the 3-sigma extent, 0 where culled."""
    means2d: Float[Tensor, "C N 2"]
    """projected centres in pixels (pixel centres at +0.5)."""
    depths: Float[Tensor, "C N"]
    """camera-space z."""
    conics: Float[Tensor, "C N 3"]
    """upper triangle (a, b, c) of the inverse dilated 2D covariance."""
    compensations: Optional[Float[Tensor, "C N"]]
    """sqrt(det(cov2d) / det(cov2d + eps2d I)) for the antialiased mode, else None."""


def quat_to_rotmat(quats: Float[Tensor, "N 4"]) -> Float[Tensor, "N 3 3"]:
    """Rotation matrices from wxyz quaternions (normalised here; unnormalised input is fine)."""
    w, x, y, z = torch.nn.functional.normalize(quats, p=2, dim=-1).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z),
        2 * (x * y - w * z),
        2 * (x * z + w * y),
        2 * (x * y + w * z),
        1 - 2 * (x * x + z * z),
        2 * (y * z - w * x),
        2 * (x * z - w * y),
        2 * (y * z + w * x),
        1 - 2 * (x * x + y * y),
    ]
    return torch.stack(rows, dim=-1).reshape(quats.shape[:-1] + (3, 3))


def covars_from_quat_scale(quats: Float[Tensor, "N 4"], scales: Float[Tensor, "N 3"]) -> Float[Tensor, "N 3 3"]:
    """World covariances ``R S S R^T`` from wxyz quaternions and linear scales."""
    rs = quat_to_rotmat(quats) * scales[..., None, :]
    return rs @ rs.transpose(-1, -2)


def symmetric_from_upper(covars: Float[Tensor, "N 3 3"]) -> Float[Tensor, "N 3 3"]:
    """Symmetric matrix built from the upper triangle only, as gsplat reads covariances."""
    upper = torch.triu(covars)
    return upper + torch.triu(covars, diagonal=1).transpose(-1, -2)


def project_gaussians(
    means: Float[Tensor, "N 3"],
    covars: Float[Tensor, "N 3 3"],
    viewmats: Float[Tensor, "C 4 4"],
    Ks: Float[Tensor, "C 3 3"],
    width: int,
    height: int,
    eps2d: float = 0.3,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    radius_clip: float = 0.0,
    calc_compensations: bool = False,
) -> Projection:
    """Project Gaussians with the local affine (EWA) approximation of the pinhole camera.

    Follows gsplat 1.4.0's ``persp_proj``: the Jacobian is evaluated at the centre with x/z and y/z clamped to the
    image extent plus 30% of the half-FOV tangent (keeps off-screen Gaussians from exploding); the 2D covariance is
    dilated by ``eps2d`` pixels^2; the radius is ``ceil(3 sqrt(largest eigenvalue))``. Culled: depth outside
    [near, far], non-positive determinant, radius <= radius_clip, or the radius box entirely outside the image.

    Args:
        means: [N, 3] world centres.
        covars: [N, 3, 3] symmetric world covariances.
        viewmats: [C, 4, 4] world-to-camera, OpenCV axes.
        Ks: [C, 3, 3] pinhole intrinsics.
        width: image width in pixels.
        height: image height in pixels.
        eps2d: dilation added to the 2D covariance diagonal.
        near_plane: cull centres with camera z below this.
        far_plane: cull centres with camera z above this.
        radius_clip: cull Gaussians whose pixel radius is not above this.
        calc_compensations: also return the antialiasing opacity compensation.

    Returns:
        :class:`Projection` with [C, N] layout.
    """
    rot = viewmats[:, None, :3, :3]  # [C, 1, 3, 3]
    trans = viewmats[:, None, :3, 3]  # [C, 1, 3]
    means_c = (rot @ means[None, :, :, None])[..., 0] + trans  # [C, N, 3]
    covars_c = rot @ covars[None] @ rot.transpose(-1, -2)  # [C, N, 3, 3]

    fx, fy = Ks[:, 0, 0, None], Ks[:, 1, 1, None]  # [C, 1]
    cx, cy = Ks[:, 0, 2, None], Ks[:, 1, 2, None]
    x, y, z = means_c.unbind(-1)  # [C, N]
    tan_fovx = 0.5 * width / fx
    tan_fovy = 0.5 * height / fy
    lim_x_pos = (width - cx) / fx + 0.3 * tan_fovx
    lim_x_neg = cx / fx + 0.3 * tan_fovx
    lim_y_pos = (height - cy) / fy + 0.3 * tan_fovy
    lim_y_neg = cy / fy + 0.3 * tan_fovy
    # Culled entries may have z <= 0; keep the division finite there so no NaN reaches the gradients.
    in_depth = (z >= near_plane) & (z <= far_plane)
    z_safe = torch.where(in_depth, z, torch.ones_like(z))
    rz = 1.0 / z_safe
    tx = z_safe * torch.minimum(lim_x_pos, torch.maximum(-lim_x_neg, x * rz))
    ty = z_safe * torch.minimum(lim_y_pos, torch.maximum(-lim_y_neg, y * rz))
    zeros = torch.zeros_like(z)
    jac = torch.stack(
        [fx * rz, zeros, -fx * tx * rz * rz, zeros, fy * rz, -fy * ty * rz * rz],
        dim=-1,
    ).reshape(z.shape + (2, 3))  # [C, N, 2, 3]
    cov2d = jac @ covars_c @ jac.transpose(-1, -2)  # [C, N, 2, 2]
    means2d = torch.stack([fx * x * rz + cx, fy * y * rz + cy], dim=-1)  # [C, N, 2]

    a = cov2d[..., 0, 0] + eps2d
    b = 0.5 * (cov2d[..., 0, 1] + cov2d[..., 1, 0])
    c = cov2d[..., 1, 1] + eps2d
    det = a * c - b * b
    valid = in_depth & (det > 0)
    det_safe = torch.where(valid, det, torch.ones_like(det))
    conics = torch.stack([c / det_safe, -b / det_safe, a / det_safe], dim=-1)
    compensations = None
    if calc_compensations:
        det_orig = cov2d[..., 0, 0] * cov2d[..., 1, 1] - cov2d[..., 0, 1] * cov2d[..., 1, 0]
        compensations = torch.sqrt(torch.clamp(det_orig / det_safe, min=0.0))

    with torch.no_grad():
        half_trace = 0.5 * (a + c)
        lambda_max = half_trace + torch.sqrt(torch.clamp(half_trace * half_trace - det, min=0.01))
        radius = torch.ceil(3.0 * torch.sqrt(torch.clamp(lambda_max, min=0.0)))
        mx, my = means2d[..., 0], means2d[..., 1]
        on_image = (mx + radius > 0) & (mx - radius < width) & (my + radius > 0) & (my - radius < height)
        keep = valid & (radius > radius_clip) & on_image & torch.isfinite(radius)
        # int32 like gsplat; bounded so a huge Gaussian cannot overflow the cast.
        radius = torch.clamp(radius, max=float(2**30))
        radii = torch.where(keep, radius, torch.zeros_like(radius)).to(torch.int32)
    return Projection(radii, means2d, z, conics, compensations)
