"""Where the volumes' samples are: the spatial grid, its projection into a view, and a view's frustum points.

Conventions of the released code, kept exactly (they decide which features land where):

- The spatial volume is a V^3 grid over [-L, L]^3 with samples *on* the faces (``linspace(-L, L, V)``), indexed
  [z, y, x]; it is sampled with ``grid_sample(align_corners=True)`` at ``xyz / L``.
- Projection uses ``diag(r, r, 1) K [R|t]`` with r = feature size / image size and maps pixel coordinates to
  [-1, 1] with ``align_corners=True`` (``u / ((w - 1) / 2) - 1``); depths below 1e-4 are clamped.
- A frustum volume's pixel grid has integer pixel coordinates (no +0.5), D depths ``linspace(near, far)``.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

MIN_DEPTH = 1e-4
"""Depths below this are clamped before the perspective divide (points behind the camera)."""


def spatial_grid(size: int, half_length: float, device=None) -> Float[Tensor, "3 V V V"]:
    """World points of the V^3 grid: ``[:, z, y, x] = (x, y, z)``, each axis ``linspace(-L, L, V)``."""
    axis = torch.linspace(-half_length, half_length, size, dtype=torch.float32, device=device)
    z, y, x = torch.meshgrid(axis, axis, axis, indexing="ij")
    return torch.stack([x, y, z], 0)


def projection_matrix(
    ratio: float, Ks: Float[Tensor, "B 3 3"], poses: Float[Tensor, "B 3 4"]
) -> Float[Tensor, "B 4 4"]:
    """``[[diag(r, r, 1) K [R|t]], [0, 0, 0, 1]]``: world points to pixels of an image ``r`` times the K's size."""
    scale = torch.diag(torch.tensor([ratio, ratio, 1.0], dtype=torch.float32, device=Ks.device))
    projection = scale[None] @ Ks @ poses
    bottom = torch.zeros(Ks.shape[0], 1, 4, dtype=torch.float32, device=Ks.device)
    bottom[:, :, 3] = 1.0
    return torch.cat([projection, bottom], 1)


def project_to_grid(
    points: Float[Tensor, "B 3 P"], projection: Float[Tensor, "B 4 4"], feature_size: int
) -> Float[Tensor, "B P 2"]:
    """Pixel positions of world points as ``grid_sample`` coordinates in [-1, 1] (``align_corners=True``)."""
    camera = projection[:, :3, :3] @ points + projection[:, :3, 3:]
    depth = camera[:, 2:].clamp(min=MIN_DEPTH)
    pixels = camera[:, :2] / depth
    return (pixels / ((feature_size - 1) / 2) - 1).permute(0, 2, 1)


def frustum_points(
    size: int,
    depth: int,
    near: float,
    far: float,
    image_size: int,
    Ks: Float[Tensor, "B 3 3"],
    poses: Float[Tensor, "B 3 4"],
) -> Float[Tensor, "B 3 D S S"]:
    """World points of each view's frustum volume: pixel (x, y) of an S x S feature map at D depths.

    Args:
        size: S, the feature map's size (the latent's).
        depth: D, depth samples ``linspace(near, far, D)`` along each pixel's ray (z in the camera).
        near, far: depth range.
        image_size: the image size the intrinsics ``Ks`` are given at.
        Ks, poses: intrinsics and OpenCV world-to-camera poses of the B views.
    """
    B = poses.shape[0]
    device = poses.device
    depths = torch.linspace(0, 1, depth, dtype=torch.float32, device=device) * (far - near) + near  # D
    coords = torch.arange(size, dtype=torch.float32, device=device)
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    pixels = torch.stack([x.reshape(-1), y.reshape(-1), torch.ones(size * size, device=device)], 0)  # 3, S*S
    rays = pixels[None, :, None, :] * depths[None, None, :, None]  # 1, 3, D, S*S
    inverse = torch.inverse(projection_matrix(size / image_size, Ks, poses))  # B, 4, 4
    points = inverse[:, :3, :3] @ rays.expand(B, 3, depth, size * size).reshape(B, 3, -1) + inverse[:, :3, 3:]
    return points.reshape(B, 3, depth, size, size)
