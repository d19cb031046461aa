"""4D Gaussian math: rotation, covariance, slicing at time t, colour bands, covariance decomposition."""

import math

import pytest
import torch

from efficient4d_ns import gaussians4d as g4


def _random_params(n: int, dtype=torch.float64):
    gen = torch.Generator().manual_seed(1)
    return (
        torch.randn(n, 3, generator=gen, dtype=dtype),  # means
        torch.rand(n, 1, generator=gen, dtype=dtype),  # times
        torch.randn(n, 3, generator=gen, dtype=dtype) * 0.3 - 1.0,  # log_scales
        torch.randn(n, 1, generator=gen, dtype=dtype) * 0.3 - 1.0,  # log_scales_t
        torch.randn(n, 4, generator=gen, dtype=dtype),  # quats_l
        torch.randn(n, 4, generator=gen, dtype=dtype),  # quats_r
    )


def test_identity_quaternions_give_identity_rotation():
    q = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(g4.rotation_4d(q, q), torch.eye(4)[None])


def test_rotation_is_orthonormal_with_det_one():
    *_, ql, qr = _random_params(50)
    rot = g4.rotation_4d(ql, qr)
    torch.testing.assert_close(rot @ rot.transpose(-1, -2), torch.eye(4, dtype=rot.dtype).expand(50, 4, 4))
    torch.testing.assert_close(torch.linalg.det(rot), torch.ones(50, dtype=rot.dtype))


def test_spatial_only_rotation_keeps_time_axis():
    # Equal left and right quaternions rotate only (x, y, z): here by 45° about x, the t row/column = e_t.
    half = math.pi / 8
    q = torch.tensor([[math.cos(half), 0.0, 0.0, math.sin(half)]], dtype=torch.float64)
    rot = g4.rotation_4d(q, q)
    c = math.sqrt(0.5)
    expected = torch.tensor([[1, 0, 0, 0], [0, c, c, 0], [0, -c, c, 0], [0, 0, 0, 1]], dtype=torch.float64)
    torch.testing.assert_close(rot[0], expected)


def test_conjugate_right_quaternion_rotates_x_into_time():
    # q_r = conj(q_l) gives a rotation in the (x, t) plane: the Gaussian's long axis tilts into time.
    half = math.pi / 8
    q = torch.tensor([[math.cos(half), 0.0, 0.0, math.sin(half)]], dtype=torch.float64)
    rot = g4.rotation_4d(q, q * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))
    c = math.sqrt(0.5)
    expected = torch.tensor([[c, 0, 0, c], [0, 1, 0, 0], [0, 0, 1, 0], [-c, 0, 0, c]], dtype=torch.float64)
    torch.testing.assert_close(rot[0], expected)


def test_uncorrelated_gaussian_is_static_with_bell_shaped_opacity():
    means = torch.tensor([[0.1, -0.2, 0.3]])
    times = torch.tensor([[0.4]])
    log_s = torch.log(torch.tensor([[0.1, 0.2, 0.3]]))
    log_st = torch.log(torch.tensor([[0.2]]))
    q = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    cov4 = g4.covariance_4d(log_s, log_st, q, q)
    for t in (0.0, 0.4, 0.7):
        m, c, p = g4.slice_at_time(means, times, cov4, t)
        torch.testing.assert_close(m, means)
        torch.testing.assert_close(c, torch.diag(torch.tensor([0.01, 0.04, 0.09]))[None])
        torch.testing.assert_close(p, torch.tensor([math.exp(-0.5 * (t - 0.4) ** 2 / 0.04)]))


def test_sheared_gaussian_moves_with_velocity_cov_xt_over_cov_t():
    # Hand-built 4D covariance with x–t correlation: Σ_xt = 0.02, Σ_t = 0.04 → velocity 0.5 along x.
    cov4 = torch.diag(torch.tensor([0.05, 0.01, 0.01, 0.04], dtype=torch.float64))
    cov4[0, 3] = cov4[3, 0] = 0.02
    means = torch.zeros(1, 3, dtype=torch.float64)
    times = torch.full((1, 1), 0.5, dtype=torch.float64)
    m0, c0, _ = g4.slice_at_time(means, times, cov4[None], 0.5)
    m1, c1, _ = g4.slice_at_time(means, times, cov4[None], 0.7)
    torch.testing.assert_close(m1 - m0, torch.tensor([[0.1, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(g4.velocity(cov4[None]), torch.tensor([[0.5, 0.0, 0.0]], dtype=torch.float64))
    # conditional variance along x: 0.05 − 0.02²/0.04 = 0.04, independent of t
    assert c0[0, 0, 0].item() == pytest.approx(0.04)
    torch.testing.assert_close(c0, c1)


def test_slice_matches_schur_complement_reference():
    means, times, ls, lst, ql, qr = _random_params(20)
    cov4 = g4.covariance_4d(ls, lst, ql, qr)
    m, c, p = g4.slice_at_time(means, times, cov4, 0.3)
    for i in range(20):
        s = cov4[i]
        ref_c = s[:3, :3] - torch.outer(s[:3, 3], s[3, :3]) / s[3, 3]
        ref_m = means[i] + s[:3, 3] / s[3, 3] * (0.3 - times[i, 0])
        torch.testing.assert_close(c[i], ref_c)
        torch.testing.assert_close(m[i], ref_m)
    assert torch.all(torch.linalg.eigvalsh(c) > 0)
    assert torch.all((p > 0) & (p <= 1))


def test_gradcheck_slice_pipeline():
    means, times, ls, lst, ql, qr = _random_params(3)
    inputs = tuple(x.clone().requires_grad_(True) for x in (means, times, ls, lst, ql, qr))

    def fn(means, times, ls, lst, ql, qr):
        cov4 = g4.covariance_4d(ls, lst, ql, qr)
        return g4.slice_at_time(means, times, cov4, 0.37)

    assert torch.autograd.gradcheck(fn, inputs)


def test_time_varying_dc_bands():
    dc = torch.tensor([[0.5, 0.0, -0.5]])
    bands = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]])
    times = torch.tensor([[0.25]])
    out = g4.time_varying_dc(dc, bands, times, 0.5, duration=1.0)
    # Δt = −0.25: cos(−π/2) = 0 for k=1, cos(−π) = −1 for k=2
    torch.testing.assert_close(out, torch.tensor([[0.5, -2.0, -0.5]]))
    torch.testing.assert_close(g4.time_varying_dc(dc, None, times, 0.5), dc)


def test_covariance_to_scale_quat_round_trip():
    *_, ls, _, ql, _ = _random_params(30)
    rot = g4.rotation_4d(ql, ql)  # equal quaternions: a pure spatial rotation
    scales = torch.exp(ls)
    covars = (rot[:, :3, :3] * scales[:, None, :] ** 2) @ rot[:, :3, :3].transpose(-1, -2)
    s, q = g4.covariance_to_scale_quat(covars)
    # rebuild with the standard quaternion→matrix formula
    w, x, y, z = q.unbind(-1)
    r = torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )
    rebuilt = (r * s[:, None, :] ** 2) @ r.transpose(-1, -2)
    torch.testing.assert_close(rebuilt, covars)
    torch.testing.assert_close(s.sort(-1).values, scales.sort(-1).values)


def test_slice_params_conditions_a_static_gaussian_and_scales_its_opacity():
    # one axis-aligned Gaussian at t = 0.25 with temporal std 0.5 and one colour band
    params = {
        "means": torch.tensor([[1.0, 2.0, 3.0]]),
        "scales": torch.log(torch.tensor([[0.1, 0.2, 0.3]])),
        "quats": torch.tensor([[1.0, 0.0, 0.0, 0.0]]),
        "quats_r": torch.tensor([[1.0, 0.0, 0.0, 0.0]]),
        "times": torch.tensor([[0.25]]),
        "scales_t": torch.log(torch.tensor([[0.5]])),
        "opacities": torch.logit(torch.tensor([[0.8]])),
        "features_dc": torch.tensor([[0.1, 0.2, 0.3]]),
        "features_time": torch.tensor([[[1.0, 0.0, -1.0]]]),
    }
    s = g4.slice_params(params, t=0.75, duration=2.0)
    marginal = math.exp(-0.5 * 0.5**2 / 0.5**2)
    torch.testing.assert_close(s.means, params["means"])
    torch.testing.assert_close(s.covars, torch.diag(torch.tensor([0.01, 0.04, 0.09]))[None])
    torch.testing.assert_close(s.marginal, torch.tensor([marginal]))
    torch.testing.assert_close(s.opacities, torch.tensor([0.8 * marginal]))
    band = math.cos(2 * math.pi * (0.25 - 0.75) / 2.0)
    torch.testing.assert_close(s.features_dc, torch.tensor([[0.1 + band, 0.2, 0.3 - band]]))
