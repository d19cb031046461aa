"""Turn a Gaussian asset so that the dataset's up axis (+z) becomes the up axis a viewer expects.

Conventions (`UpAxis`):
    "z"   nerfstudio, Blender, our datasets: the asset as trained.
    "y"   three.js, PlayCanvas, glTF: +z is turned onto +y (a −90° turn about x).
    "-y"  INRIA/COLMAP, gsplat.js, SuperSplat, the `.splat` ecosystem: +z is turned onto −y (+90° about x).

A rotation R moves centres (x → R x), Gaussian frames (q → q_R ⊗ q) and view-dependent colour together: SH band l
(l ≥ 1) is mixed by its rotation matrix D_l(R), so the colour seen from direction R d after the turn is the colour
seen from d before it. D_l is found exactly, by least squares on the project's own real-SH basis (`splatcore.sh`)
at directions in general position: band l is a rotation-invariant space of dimension 2l + 1, so the fit has no
residual beyond rounding, and no sign or ordering convention has to be transcribed from elsewhere.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from splatcore.ply import SplatPly
from splatcore.sh import MAX_SH_DEGREE, sh_bases

UpAxis = Literal["z", "y", "-y"]
UP_AXES: tuple[str, ...] = ("z", "y", "-y")
_TURN_ABOUT_X_DEG = {"z": 0.0, "y": -90.0, "-y": 90.0}


def _check_up(up: str) -> None:
    if up not in _TURN_ABOUT_X_DEG:
        raise ValueError(f"up axis must be one of {UP_AXES}, got {up!r}")


def up_rotation(up: UpAxis) -> np.ndarray:
    """[3, 3] rotation taking the dataset's +z onto the `up` axis (float64; entries exactly 0, ±1)."""
    _check_up(up)
    angle = math.radians(_TURN_ABOUT_X_DEG[up])
    c, s = round(math.cos(angle)), round(math.sin(angle))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def up_quaternion(up: UpAxis) -> np.ndarray:
    """[4] unit wxyz quaternion of `up_rotation(up)`."""
    _check_up(up)
    half = math.radians(_TURN_ABOUT_X_DEG[up]) / 2.0
    return np.array([math.cos(half), math.sin(half), 0.0, 0.0])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b of wxyz quaternions (broadcast over leading axes)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def _fibonacci_directions(count: int) -> np.ndarray:
    """[count, 3] unit directions spread over the sphere (deterministic, in general position)."""
    i = np.arange(count) + 0.5
    z = 1.0 - 2.0 * i / count
    phi = math.pi * (3.0 - math.sqrt(5.0)) * i
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def sh_band_rotations(rotation: np.ndarray, degree: int) -> list[np.ndarray]:
    """Matrices D_l(R) for bands l = 1..degree, each [2l + 1, 2l + 1], in `splatcore.sh`'s coefficient order.

    With coefficients c_l of band l ([2l + 1, 3]), `D_l @ c_l` are the coefficients of the turned colour function:
    Σ_k (D_l c_l)_k B_k(R d) = Σ_k (c_l)_k B_k(d) for every direction d.
    """
    if not 0 <= degree <= MAX_SH_DEGREE:
        raise ValueError(f"SH degree must be in 0..{MAX_SH_DEGREE}, got {degree}")
    rotation = np.asarray(rotation, np.float64)
    if rotation.shape != (3, 3) or not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-9):
        raise ValueError(f"rotation must be a [3, 3] orthonormal matrix, got {rotation!r}")
    dirs = _fibonacci_directions(64)
    before = sh_bases(degree, torch.from_numpy(dirs)).numpy()
    after = sh_bases(degree, torch.from_numpy(dirs @ rotation.T)).numpy()
    out = []
    for band in range(1, degree + 1):
        cols = slice(band * band, (band + 1) * (band + 1))
        solution, *_ = np.linalg.lstsq(after[:, cols], before[:, cols], rcond=None)
        out.append(solution)
    return out


def rotate_sh_rest(sh_rest: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Turn higher-order SH coefficients [N, K, 3] (K = (degree + 1)² − 1, bands 1..degree) by `rotation`."""
    sh_rest = np.asarray(sh_rest)
    k = sh_rest.shape[1]
    degree = math.isqrt(k + 1) - 1
    if (degree + 1) ** 2 - 1 != k:
        raise ValueError(f"sh_rest has {k} coefficients per channel; expected (degree + 1)² − 1 (3, 8, 15 or 24)")
    out = np.empty(sh_rest.shape, np.float64)
    for band, matrix in enumerate(sh_band_rotations(rotation, degree), start=1):
        cols = slice(band * band - 1, (band + 1) * (band + 1) - 1)
        out[:, cols] = np.einsum("ij,njc->nic", matrix, sh_rest[:, cols].astype(np.float64))
    return out.astype(sh_rest.dtype)


def rotate_splats(splats: SplatPly, rotation: np.ndarray, quaternion: np.ndarray) -> SplatPly:
    """The asset turned by `rotation` ([3, 3]; `quaternion` [4] wxyz is the same turn); scales, opacities unchanged."""
    quats = quat_multiply(np.asarray(quaternion, np.float64)[None], np.asarray(splats.quats, np.float64))
    return SplatPly(
        means=(np.asarray(splats.means, np.float64) @ np.asarray(rotation, np.float64).T).astype(np.float32),
        sh_dc=splats.sh_dc,
        sh_rest=rotate_sh_rest(splats.sh_rest, rotation).astype(np.float32),
        opacity_logits=splats.opacity_logits,
        log_scales=splats.log_scales,
        quats=quats.astype(np.float32),
    )


def orient_splats(splats: SplatPly, up: UpAxis) -> SplatPly:
    """The same asset turned so that its +z points along `up`; scales and opacities are unchanged."""
    return reorient_splats(splats, "z", up)


def reorient_splats(splats: SplatPly, from_up: UpAxis, to_up: UpAxis) -> SplatPly:
    """An asset whose up axis is `from_up` turned so that it points along `to_up` (the dataset frame in between)."""
    _check_up(from_up)
    _check_up(to_up)
    if from_up == to_up:
        return splats
    rotation = up_rotation(to_up) @ up_rotation(from_up).T
    inverse_from = up_quaternion(from_up) * np.array([1.0, -1.0, -1.0, -1.0])  # conjugate: the turn back to +z
    return rotate_splats(splats, rotation, quat_multiply(up_quaternion(to_up), inverse_from))
