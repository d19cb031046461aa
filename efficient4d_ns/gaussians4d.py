"""4D Gaussians (Yang et al., ICLR 2024, "4D Gaussian splatting") sliced into 3D Gaussians at a time t.

Pure tensor functions, no nerfstudio. Coordinates are ordered (x, y, z, t). Every Gaussian has a 4D mean
(`means` [N, 3] and `times` [N, 1]), a 4D log standard deviation (`log_scales` [N, 3] and `log_scales_t` [N, 1]) and
two quaternions (wxyz) `quats_l`, `quats_r` giving a 4D rotation R (left and right isoclinic rotations). The 4D
covariance is Σ = R S Sᵀ Rᵀ with S = diag(exp(log-scales)). Conditioning on time gives a 3D Gaussian

    μ_{x|t} = μ_x + Σ_{x,t} Σ_t⁻¹ (t − μ_t),   Σ_{x|t} = Σ_x − Σ_{x,t} Σ_t⁻¹ Σ_{t,x},

and the temporal marginal p(t) = exp(−½ (t − μ_t)² / Σ_t) multiplies its opacity (no 1/sqrt(2πΣ_t) factor, as in
the authors' code, so a Gaussian is fully opaque at its own time).
"""

import math
from typing import Mapping, NamedTuple

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

MARGINAL_CULL_THRESHOLD = 0.05
"""Gaussians whose temporal marginal p(t) is below this are dropped before rasterization (4DGS's CUDA cull)."""


def left_isoclinic_matrix(quats_l: Float[Tensor, "*N 4"]) -> Float[Tensor, "*N 4 4"]:
    """Left-multiplication matrix M_l of a unit quaternion (a, b, c, d): M_l p = q ⊗ p."""
    a, b, c, d = F.normalize(quats_l, dim=-1).unbind(-1)
    rows = [
        torch.stack([a, -b, -c, -d], -1),
        torch.stack([b, a, -d, c], -1),
        torch.stack([c, d, a, -b], -1),
        torch.stack([d, -c, b, a], -1),
    ]
    return torch.stack(rows, -2)


def right_isoclinic_matrix(quats_r: Float[Tensor, "*N 4"]) -> Float[Tensor, "*N 4 4"]:
    """Right-multiplication matrix M_r of a unit quaternion (p, q, r, s), in 4DGS's sign convention."""
    p, q, r, s = F.normalize(quats_r, dim=-1).unbind(-1)
    rows = [
        torch.stack([p, q, r, s], -1),
        torch.stack([-q, p, -s, r], -1),
        torch.stack([-r, s, p, -q], -1),
        torch.stack([-s, -r, q, p], -1),
    ]
    return torch.stack(rows, -2)


def rotation_4d(quats_l: Float[Tensor, "*N 4"], quats_r: Float[Tensor, "*N 4"]) -> Float[Tensor, "*N 4 4"]:
    """4D rotation R = flip(M_l M_r) for (x, y, z, t) coordinates.

    The product M_l M_r acts on (w, x, y, z)-ordered quaternion space; reversing both row and column order (as the
    4DGS authors do) makes the quaternions' real parts act on the time axis, so identity quaternions give R = I and
    a pure spatial rotation keeps t fixed. Quaternions need not be normalised.

    Args:
        quats_l: [..., 4] left quaternions, wxyz.
        quats_r: [..., 4] right quaternions, wxyz.

    Returns:
        [..., 4, 4] orthonormal matrices with determinant +1.
    """
    return (left_isoclinic_matrix(quats_l) @ right_isoclinic_matrix(quats_r)).flip(-1, -2)


def rotation_scale_4d(
    log_scales: Float[Tensor, "*N 3"],
    log_scales_t: Float[Tensor, "*N 1"],
    quats_l: Float[Tensor, "*N 4"],
    quats_r: Float[Tensor, "*N 4"],
) -> Float[Tensor, "*N 4 4"]:
    """R S with S = diag(exp(log_scales), exp(log_scales_t)): maps standard-normal samples to the 4D Gaussian."""
    scales = torch.exp(torch.cat([log_scales, log_scales_t], dim=-1))  # [..., 4]
    return rotation_4d(quats_l, quats_r) * scales[..., None, :]


def covariance_4d(
    log_scales: Float[Tensor, "*N 3"],
    log_scales_t: Float[Tensor, "*N 1"],
    quats_l: Float[Tensor, "*N 4"],
    quats_r: Float[Tensor, "*N 4"],
) -> Float[Tensor, "*N 4 4"]:
    """Σ = R S Sᵀ Rᵀ with S = diag(exp(log_scales), exp(log_scales_t)) (log standard deviations)."""
    half = rotation_scale_4d(log_scales, log_scales_t, quats_l, quats_r)
    return half @ half.transpose(-1, -2)


def slice_at_time(
    means: Float[Tensor, "*N 3"],
    times: Float[Tensor, "*N 1"],
    cov4: Float[Tensor, "*N 4 4"],
    t: float | Tensor,
) -> tuple[Float[Tensor, "*N 3"], Float[Tensor, "*N 3 3"], Float[Tensor, "*N"]]:
    """Condition 4D Gaussians on time t.

    Args:
        means: [..., 3] spatial means μ_x.
        times: [..., 1] temporal means μ_t.
        cov4: [..., 4, 4] 4D covariances (x, y, z, t).
        t: query time (scalar or broadcastable tensor).

    Returns:
        means_t [..., 3] = μ_x + Σ_{x,t}/Σ_t (t − μ_t); covars_t [..., 3, 3] = Σ_x − Σ_{x,t}Σ_{t,x}/Σ_t;
        marginal [...] = exp(−½ (t − μ_t)² / Σ_t).
    """
    cov_xx = cov4[..., :3, :3]
    cov_xt = cov4[..., :3, 3]  # [..., 3]
    var_t = cov4[..., 3, 3]  # [...]
    dt = t - times[..., 0]  # [...]
    means_t = means + cov_xt * (dt / var_t)[..., None]
    covars_t = cov_xx - cov_xt[..., :, None] * cov_xt[..., None, :] / var_t[..., None, None]
    marginal = torch.exp(-0.5 * dt * dt / var_t)
    return means_t, covars_t, marginal


def velocity(cov4: Float[Tensor, "*N 4 4"]) -> Float[Tensor, "*N 3"]:
    """Constant velocity of the sliced mean, dμ_{x|t}/dt = Σ_{x,t} / Σ_t."""
    return cov4[..., :3, 3] / cov4[..., 3, 3, None]


def time_varying_dc(
    features_dc: Float[Tensor, "N 3"],
    features_time: Float[Tensor, "N B 3"] | None,
    times: Float[Tensor, "N 1"],
    t: float | Tensor,
    duration: float = 1.0,
) -> Float[Tensor, "N 3"]:
    """4DGS's time-varying colour bands: dc(t) = dc + Σ_{k=1..B} cos(2πk (μ_t − t)/T) · band_k.

    Args:
        features_dc: [N, 3] base (degree-0) colour coefficients.
        features_time: [N, B, 3] band coefficients, or None/empty for a time-constant colour.
        times: [N, 1] temporal means μ_t.
        t: query time.
        duration: the period T (the time span of the sequence).
    """
    if features_time is None or features_time.shape[1] == 0:
        return features_dc
    k = torch.arange(1, features_time.shape[1] + 1, device=times.device, dtype=times.dtype)  # [B]
    phase = torch.cos(2.0 * math.pi * k * (times - t) / duration)  # [N, B]
    return features_dc + (phase[..., None] * features_time).sum(dim=1)


class Slice3D(NamedTuple):
    """4D Gaussians conditioned on a time t: one row per Gaussian (none culled)."""

    means: Float[Tensor, "N 3"]
    """μ_{x|t}."""
    covars: Float[Tensor, "N 3 3"]
    """Σ_{x|t}."""
    opacities: Float[Tensor, "N"]
    """σ(o)·p(t), activated."""
    features_dc: Float[Tensor, "N 3"]
    """Degree-0 colour coefficients at t (time-varying bands applied)."""
    marginal: Float[Tensor, "N"]
    """Temporal marginal p(t), for culling."""


def slice_params(params: Mapping[str, Tensor], t: float | Tensor, duration: float = 1.0) -> Slice3D:
    """4D covariance → condition on t → time-varying colour, for parameters in Efficient4DModel's storage.

    Args:
        params: `means` [N, 3], `scales` [N, 3] log, `quats` [N, 4], `opacities` [N, 1] logit, `features_dc`
            [N, 3], `times` [N, 1], `scales_t` [N, 1] log, `quats_r` [N, 4], `features_time` [N, B, 3]
            (see efficient4d_ns.strategy).
        t: the time to slice at.
        duration: the time range T (period of the colour bands).
    """
    cov4 = covariance_4d(params["scales"], params["scales_t"], params["quats"], params["quats_r"])
    means_t, covars_t, marginal = slice_at_time(params["means"], params["times"], cov4, t)
    features_dc = time_varying_dc(params["features_dc"], params["features_time"], params["times"], t, duration)
    opacities = torch.sigmoid(params["opacities"][:, 0]) * marginal
    return Slice3D(means_t, covars_t, opacities, features_dc, marginal)


def rotmat_to_quat(rotmats: Float[Tensor, "*N 3 3"]) -> Float[Tensor, "*N 4"]:
    """Rotation matrices (det +1) to unit quaternions wxyz with w ≥ 0 (Shepperd's method, branch per element)."""
    m = rotmats
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    candidates = torch.stack(
        [
            torch.stack(
                [1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1
            ),
            torch.stack(
                [
                    m[..., 2, 1] - m[..., 1, 2],
                    1 + m00 - m11 - m22,
                    m[..., 0, 1] + m[..., 1, 0],
                    m[..., 0, 2] + m[..., 2, 0],
                ],
                -1,
            ),
            torch.stack(
                [
                    m[..., 0, 2] - m[..., 2, 0],
                    m[..., 0, 1] + m[..., 1, 0],
                    1 - m00 + m11 - m22,
                    m[..., 1, 2] + m[..., 2, 1],
                ],
                -1,
            ),
            torch.stack(
                [
                    m[..., 1, 0] - m[..., 0, 1],
                    m[..., 0, 2] + m[..., 2, 0],
                    m[..., 1, 2] + m[..., 2, 1],
                    1 - m00 - m11 + m22,
                ],
                -1,
            ),
        ],
        -2,
    )  # [..., 4 (branch), 4 (wxyz)]; branch i has its i-th component = 4·q_i², the best-conditioned is the largest
    best = torch.stack([1 + trace, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1).argmax(-1)
    quats = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    quats = F.normalize(quats, dim=-1)
    return torch.where(quats[..., :1] < 0, -quats, quats)


def covariance_to_scale_quat(
    covars: Float[Tensor, "*N 3 3"], min_scale: float = 1e-8
) -> tuple[Float[Tensor, "*N 3"], Float[Tensor, "*N 4"]]:
    """Decompose symmetric PSD covariances into standard deviations and a rotation: Σ = R diag(s²) Rᵀ.

    Args:
        covars: [..., 3, 3] symmetric positive semi-definite matrices.
        min_scale: floor for the standard deviations (numerically zero eigenvalues).

    Returns:
        scales [..., 3] (linear standard deviations, eigenvalue order ascending) and quats [..., 4] wxyz.
    """
    sym = 0.5 * (covars + covars.transpose(-1, -2))
    eigvals, eigvecs = torch.linalg.eigh(sym)
    # eigh may return a reflection; flipping one eigenvector keeps the same covariance with det +1.
    det = torch.linalg.det(eigvecs)
    eigvecs = torch.cat([eigvecs[..., :2], eigvecs[..., 2:] * det.sign()[..., None, None]], dim=-1)
    scales = eigvals.clamp_min(min_scale**2).sqrt()
    return scales, rotmat_to_quat(eigvecs)
