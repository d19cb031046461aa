"""Camera-matrix conventions: OpenGL camera-to-world (nerfstudio, transforms.json) vs OpenCV world-to-camera (gsplat).

OpenGL camera axes are x right, y up, z back; OpenCV camera axes are x right, y down, z forward. Converting flips
the camera's y and z axes (columns 1 and 2 of the camera-to-world rotation), then inverts, as splatfacto does.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

# diag(1, -1, -1): right-multiplying a camera-to-world matrix flips its camera y and z axes.
_GL_CV_FLIP = (1.0, -1.0, -1.0)


def _as_homogeneous(mat: Tensor, name: str) -> Tensor:
    if mat.dim() != 3 or mat.shape[-1] != 4 or mat.shape[-2] not in (3, 4):
        raise ValueError(f"{name} must be [C, 3, 4] or [C, 4, 4], got {tuple(mat.shape)}")
    if mat.shape[-2] == 4:
        return mat
    bottom = torch.zeros_like(mat[:, :1, :])
    bottom[:, 0, 3] = 1.0
    return torch.cat([mat, bottom], dim=1)


def _rigid_inverse(mat: Tensor) -> Tensor:
    """Inverse of rigid [C, 4, 4] transforms via the transpose of the rotation (exact for orthonormal R)."""
    rot_t = mat[:, :3, :3].transpose(1, 2)
    out = torch.zeros_like(mat)
    out[:, :3, :3] = rot_t
    out[:, :3, 3] = -(rot_t @ mat[:, :3, 3:4])[..., 0]
    out[:, 3, 3] = 1.0
    return out


def viewmat_from_c2w_gl(c2w_gl: Float[Tensor, "C R 4"]) -> Float[Tensor, "C 4 4"]:
    """World-to-camera OpenCV view matrices from OpenGL camera-to-world poses.

    Args:
        c2w_gl: [C, 3, 4] or [C, 4, 4] camera-to-world, OpenGL camera axes, rigid (rotation + translation).

    Returns:
        [C, 4, 4] ``w2c_cv`` as gsplat's ``viewmats``.
    """
    c2w_gl = _as_homogeneous(c2w_gl, "c2w_gl")
    flip = torch.tensor(_GL_CV_FLIP, dtype=c2w_gl.dtype, device=c2w_gl.device)
    c2w_cv = c2w_gl.clone()
    c2w_cv[:, :3, :3] = c2w_gl[:, :3, :3] * flip
    return _rigid_inverse(c2w_cv)


def c2w_gl_from_viewmat(w2c_cv: Float[Tensor, "C 4 4"]) -> Float[Tensor, "C 4 4"]:
    """Inverse of :func:`viewmat_from_c2w_gl`: OpenGL camera-to-world from OpenCV world-to-camera.

    Args:
        w2c_cv: [C, 4, 4] (or [C, 3, 4]) rigid world-to-camera matrices, OpenCV camera axes.

    Returns:
        [C, 4, 4] ``c2w_gl``.
    """
    c2w_cv = _rigid_inverse(_as_homogeneous(w2c_cv, "w2c_cv"))
    flip = torch.tensor(_GL_CV_FLIP, dtype=c2w_cv.dtype, device=c2w_cv.device)
    c2w_cv[:, :3, :3] = c2w_cv[:, :3, :3] * flip
    return c2w_cv


def camera_centers(w2c_cv: Float[Tensor, "C 4 4"]) -> Float[Tensor, "C 3"]:
    """Camera centres in world coordinates, ``-R^T t``, for rigid world-to-camera matrices."""
    rot = w2c_cv[:, :3, :3]
    return -(rot.transpose(1, 2) @ w2c_cv[:, :3, 3:4])[..., 0]
