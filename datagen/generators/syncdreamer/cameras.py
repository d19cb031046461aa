"""SyncDreamer's 16 cameras in the form its networks use: OpenCV world-to-camera ``[R|t]`` and pixel intrinsics.

The released code reads them from ``meta_info/camera-16.pkl``; here they are derived from the angles through
:mod:`datagen.cameras` (azimuth ``22.5 k`` deg counter-clockwise from +x, elevation 30 deg, radius 1.5, world z up,
focal 280 px at 256 px), so the dataset's poses and the network's agree by construction.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from datagen.cameras import SYNCDREAMER_FOV_DEG, c2w_gl_from_spherical, intrinsics_from_fov, syncdreamer_views

REFERENCE_IMAGE_SIZE = 256
"""Image size at which SyncDreamer's intrinsics are stated (focal 280 px)."""

GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
"""Flips camera y and z: OpenGL (y up, looking down -z) <-> OpenCV (y down, looking down +z)."""


def w2c_opencv_from_c2w_gl(c2w_gl: Float[np.ndarray, "*batch 4 4"]) -> Float[np.ndarray, "*batch 3 4"]:
    """OpenCV world-to-camera ``[R|t]`` (x right, y down, z forward) from an OpenGL camera-to-world pose.

    ``c2w_cv = c2w_gl @ diag(1, -1, -1, 1)``; the world-to-camera matrix is its rigid inverse ``[R^T | -R^T c]``.
    """
    c2w_cv = np.asarray(c2w_gl, dtype=np.float64) @ GL_TO_CV
    rotation = np.swapaxes(c2w_cv[..., :3, :3], -1, -2)
    translation = -rotation @ c2w_cv[..., :3, 3:4]
    return np.concatenate([rotation, translation], axis=-1)


def syncdreamer_cameras(
    image_size: int = REFERENCE_IMAGE_SIZE,
) -> tuple[Float[Tensor, "16 3 4"], Float[Tensor, "16 3 3"], Float[Tensor, "16"]]:
    """The 16 target cameras: OpenCV w2c poses, intrinsics at ``image_size`` px, and azimuths in radians.

    Azimuths are wrapped to [-pi, pi) as the released code does before the viewpoint embedding. Float32, as the
    released model's buffers.
    """
    views = syncdreamer_views()
    azimuth = np.array([v.azimuth_deg for v in views])
    c2w = c2w_gl_from_spherical(azimuth, [v.elevation_deg for v in views], [v.radius for v in views])
    poses = torch.from_numpy(w2c_opencv_from_c2w_gl(c2w).astype(np.float32))
    K = intrinsics_from_fov(SYNCDREAMER_FOV_DEG, image_size, image_size).K()
    Ks = torch.from_numpy(K.astype(np.float32)).expand(len(views), 3, 3).clone()
    radians = np.radians(azimuth)
    wrapped = (radians + math.pi) % (2 * math.pi) - math.pi
    return poses, Ks, torch.from_numpy(wrapped.astype(np.float32))
