"""Export of a time slice: PLY values and counts, turntable camera poses."""

import math

import numpy as np
import pytest
import torch

from efficient4d_ns import gaussians4d as g4
from efficient4d_ns.export import SH_C0, look_at_origin_c2w_gl, splats_at_time
from splatcore.ply import read_splat_ply, write_splat_ply


def _params():
    n = 4
    identity = torch.tensor([1.0, 0, 0, 0]).repeat(n, 1)
    return {
        "means": torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [0, 0.2, 0], [0, 0, 0.3]]),
        "scales": torch.log(torch.tensor([[0.1, 0.2, 0.3]])).repeat(n, 1),
        "quats": identity.clone(),
        "features_dc": torch.zeros(n, 3),
        "features_rest": torch.zeros(n, 0, 3),
        "opacities": torch.zeros(n, 1),  # σ = 0.5
        "times": torch.tensor([[0.5], [0.5], [0.0], [1.0]]),
        "scales_t": torch.log(torch.full((n, 1), 0.1)),
        "quats_r": identity.clone(),
        "features_time": torch.zeros(n, 0, 3),
    }


def test_slice_export_round_trips_through_ply(tmp_path):
    params = _params()
    splats = splats_at_time(params, t=0.5)
    # Gaussians at t=0 and t=1 have p(0.5) = exp(−0.5·0.25/0.01) ≈ 4e-6 < 0.05: dropped
    assert splats.count == 2
    path = write_splat_ply(tmp_path / "frame.ply", splats)
    back = read_splat_ply(path)
    assert back.count == 2
    np.testing.assert_allclose(back.means, [[0, 0, 0], [0.1, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(np.sort(np.exp(back.log_scales), axis=1), [[0.1, 0.2, 0.3]] * 2, rtol=1e-5)
    np.testing.assert_allclose(back.opacity_logits, 0.0, atol=1e-6)  # σ(0)·p = 0.5 at the Gaussians' own time
    np.testing.assert_allclose(back.sh_dc, 0.0, atol=1e-7)  # colour 0.5 ↔ SH DC 0
    # the stored rotation and scales rebuild the sliced covariance
    cov4 = g4.covariance_4d(params["scales"], params["scales_t"], params["quats"], params["quats_r"])
    _, covars, _ = g4.slice_at_time(params["means"], params["times"], cov4, 0.5)
    w, x, y, z = torch.from_numpy(back.quats).unbind(-1)
    rot = torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )
    scales = torch.exp(torch.from_numpy(back.log_scales))
    torch.testing.assert_close(
        rot @ torch.diag_embed(scales**2) @ rot.transpose(-1, -2), covars[:2], atol=1e-6, rtol=1e-5
    )


def test_opacity_carries_the_temporal_marginal():
    params = _params()
    splats = splats_at_time(params, t=0.55)
    expected = 0.5 * math.exp(-0.5 * 0.05**2 / 0.01)
    np.testing.assert_allclose(1 / (1 + np.exp(-splats.opacity_logits)), expected, rtol=1e-5)
    params["features_dc"][:] = 2.0
    rgb = 0.5 + SH_C0 * splats_at_time(params, t=0.5).sh_dc
    np.testing.assert_allclose(rgb, 1 / (1 + math.exp(-2.0)), rtol=1e-5)


@pytest.mark.parametrize("azimuth, elevation", [(0.0, 0.0), (90.0, 30.0), (200.0, -20.0)])
def test_turntable_cameras_look_at_the_origin(azimuth, elevation):
    c2w = look_at_origin_c2w_gl(azimuth, elevation, 2.0)
    np.testing.assert_allclose(c2w[:3, :3] @ c2w[:3, :3].T, np.eye(3), atol=1e-12)
    assert np.linalg.det(c2w[:3, :3]) == pytest.approx(1.0)
    # OpenGL looks down −z: −z axis points from the centre to the origin
    np.testing.assert_allclose(-c2w[:3, 2] * 2.0, -c2w[:3, 3], atol=1e-12)
    assert c2w[2, 1] >= 0  # image up is world up (no roll)
