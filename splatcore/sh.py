"""Real spherical harmonics in gsplat's basis and sign convention (degrees 0..4).

The colour of a Gaussian seen along ``dirs`` is ``eval_sh(degree, coeffs, dirs)``; gsplat's ``rasterization`` then
adds 0.5 and clamps at 0 (that offset is not applied here). The basis is the one of Sloan, "Efficient Spherical
Harmonic Evaluation" (JCGT 2013), which gsplat's CUDA kernel and its PyTorch reference both use.
"""

from __future__ import annotations

import torch
from torch import Tensor

MAX_SH_DEGREE = 4

SH_C0 = 0.28209479177387814
"""The degree-0 basis value 1 / (2 sqrt(pi)): colour = 0.5 + SH_C0 * DC coefficient (3DGS files, splatfacto)."""


def num_sh_bases(degree: int) -> int:
    """Number of SH coefficients for a degree: ``(degree + 1) ** 2``."""
    return (degree + 1) ** 2


def sh_bases(degree: int, dirs_unit: Tensor) -> Tensor:
    """SH basis values at unit directions.

    Args:
        degree: highest band, 0..4.
        dirs_unit: [..., 3] unit directions (x, y, z).

    Returns:
        [..., (degree + 1) ** 2] basis values, in gsplat's coefficient order.
    """
    if not 0 <= degree <= MAX_SH_DEGREE:
        raise ValueError(f"sh degree must be in 0..{MAX_SH_DEGREE}, got {degree}")
    out = [torch.full_like(dirs_unit[..., 0], SH_C0)]
    if degree == 0:
        return torch.stack(out, dim=-1)
    x, y, z = dirs_unit.unbind(-1)
    c1 = 0.48860251190292
    out += [-c1 * y, c1 * z, -c1 * x]
    if degree >= 2:
        z2 = z * z
        fc1 = x * x - y * y
        fs1 = 2.0 * x * y
        tmp_b = -1.092548430592079 * z
        out += [
            0.5462742152960395 * fs1,
            tmp_b * y,
            0.9461746957575601 * z2 - 0.3153915652525201,
            tmp_b * x,
            0.5462742152960395 * fc1,
        ]
    if degree >= 3:
        tmp_c = -2.285228997322329 * z2 + 0.4570457994644658
        tmp_b = 1.445305721320277 * z
        fc2 = x * fc1 - y * fs1
        fs2 = x * fs1 + y * fc1
        out += [
            -0.5900435899266435 * fs2,
            tmp_b * fs1,
            tmp_c * y,
            z * (1.865881662950577 * z2 - 1.119528997770346),
            tmp_c * x,
            tmp_b * fc1,
            -0.5900435899266435 * fc2,
        ]
    if degree >= 4:
        tmp_d = z * (-4.683325804901025 * z2 + 2.007139630671868)
        tmp_c = 3.31161143515146 * z2 - 0.47308734787878
        tmp_b = -1.770130769779931 * z
        fc3 = x * fc2 - y * fs2
        fs3 = x * fs2 + y * fc2
        band2_m0 = 0.9461746957575601 * z2 - 0.3153915652525201
        band3_m0 = z * (1.865881662950577 * z2 - 1.119528997770346)
        out += [
            0.6258357354491763 * fs3,
            tmp_b * fs2,
            tmp_c * fs1,
            tmp_d * y,
            1.984313483298443 * z * band3_m0 - 1.006230589874905 * band2_m0,
            tmp_d * x,
            tmp_c * fc1,
            tmp_b * fc2,
            0.6258357354491763 * fc3,
        ]
    return torch.stack(out, dim=-1)


def eval_sh(degree: int, coeffs: Tensor, dirs: Tensor) -> Tensor:
    """Evaluate SH colours along view directions.

    Args:
        degree: SH degree to use, 0..4; only the first ``(degree + 1) ** 2`` coefficients are read, so a partially
            activated set (as during splatfacto's degree warm-up) is fine.
        coeffs: [..., K, 3] coefficients with ``K >= (degree + 1) ** 2``.
        dirs: [..., 3] view directions (Gaussian centre minus camera centre); normalised here, any length > 0.

    Returns:
        [..., 3] colour before gsplat's ``+ 0.5`` offset and clamp.
    """
    n_bases = num_sh_bases(degree)
    if coeffs.shape[-1] != 3 or coeffs.shape[-2] < n_bases:
        raise ValueError(f"coeffs must be [..., K>={n_bases}, 3] for degree {degree}, got {tuple(coeffs.shape)}")
    if dirs.shape[-1] != 3:
        raise ValueError(f"dirs must be [..., 3], got {tuple(dirs.shape)}")
    dirs_unit = torch.nn.functional.normalize(dirs, p=2, dim=-1)
    bases = sh_bases(degree, dirs_unit)  # [..., n_bases]
    return (bases[..., None] * coeffs[..., :n_bases, :]).sum(dim=-2)
