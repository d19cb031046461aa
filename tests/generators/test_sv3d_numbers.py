"""SV3D's pure numbers: the per-frame camera vector, the guidance triangle, the noise levels, the orbit angles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from datagen.cameras import sv3d_orbits
from datagen.generators.sv3d.orbits import SV3D_AZIMUTH_SIGN, orbit_frames
from datagen.generators.sv3d.schedule import edm_sigmas, triangle_guidance, v_scalings
from datagen.generators.sv3d.unet import camera_vector


def _hand_sinusoids(value: float, width: int) -> np.ndarray:
    half = width // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half) / half)
    return np.concatenate([np.cos(value * freqs), np.sin(value * freqs)])


def test_camera_vector_is_cond_aug_polar_azimuth_sinusoids_cos_first():
    polar, azimuth = math.radians(80.0), math.radians(120.0)
    vector = camera_vector(torch.tensor([1e-5]), torch.tensor([polar]), torch.tensor([azimuth]))[0].double().numpy()
    assert vector.shape == (1280,)
    np.testing.assert_allclose(vector[:256], _hand_sinusoids(1e-5, 256), atol=1e-6)
    np.testing.assert_allclose(vector[256:768], _hand_sinusoids(polar, 512), atol=1e-6)
    np.testing.assert_allclose(vector[768:], _hand_sinusoids(azimuth, 512), atol=1e-6)
    assert vector[0] == pytest.approx(1.0) and vector[128] == pytest.approx(1e-5, abs=1e-9)  # cos(0), sin(1e-5)


def test_triangle_guidance_is_one_at_the_ends_and_two_and_a_half_at_the_back_view():
    scales = triangle_guidance(21).double().numpy()
    expected = 1.0 + 1.5 * (1.0 - np.abs(np.arange(21) - 10) / 10.0)
    np.testing.assert_allclose(scales, expected, atol=1e-6)
    assert scales[0] == pytest.approx(1.0) and scales[10] == pytest.approx(2.5) and scales[20] == pytest.approx(1.0)
    np.testing.assert_allclose(triangle_guidance(4).numpy(), [1.0, 2.0, 2.0, 1.0], atol=1e-6)


def test_edm_sigmas_and_v_scalings():
    sigmas = edm_sigmas(50)
    assert sigmas.shape == (51,) and sigmas.dtype == torch.float32
    assert sigmas[0].item() == pytest.approx(700.0, rel=1e-6) and sigmas[49].item() == pytest.approx(0.002, rel=1e-5)
    assert sigmas[-1].item() == 0.0 and bool((sigmas[:-1] > sigmas[1:]).all())
    sigma = torch.tensor(3.0)
    c_skip, c_out, c_in, c_noise = v_scalings(sigma)
    assert c_skip.item() == pytest.approx(0.1) and c_in.item() == pytest.approx(1 / math.sqrt(10))
    assert c_out.item() == pytest.approx(-3 / math.sqrt(10)) and c_noise.item() == pytest.approx(math.log(3) / 4)


def test_orbit_frames_follow_the_reference_azimuths_ending_on_the_input_view():
    orbits = orbit_frames((0.0, -20.0, 40.0), 21)
    assert [len(o) for o in orbits] == [21, 21, 21]
    for k, orbit in enumerate(orbits):
        sv3d_deg = [math.degrees(f.azimuth_rad) for f in orbit]
        np.testing.assert_allclose(sv3d_deg, [(360.0 * (i + 1) / 21) % 360.0 for i in range(21)], atol=1e-9)
        for frame in orbit:
            view = frame.view
            assert view.orbit == k
            assert view.elevation_deg == pytest.approx((0.0, -20.0, 40.0)[k] * math.sin(math.radians(view.azimuth_deg)))
            assert frame.polar_rad == pytest.approx(math.radians(90.0 - view.elevation_deg))
            assert view.azimuth_deg == pytest.approx((SV3D_AZIMUTH_SIGN * math.degrees(frame.azimuth_rad)) % 360.0)
        assert orbit[-1].azimuth_rad == 0.0 and orbit[-1].view.azimuth_deg == 0.0


def test_mirrored_handedness_walks_the_same_views_backwards():
    forward = orbit_frames((40.0,), 21, sign=1)[0]
    mirror = orbit_frames((40.0,), 21, sign=-1)[0]
    assert [f.azimuth_rad for f in mirror] == [f.azimuth_rad for f in forward]  # SV3D samples in the same order
    assert [f.view.azimuth_deg for f in mirror[:-1]] == [f.view.azimuth_deg for f in reversed(forward[:-1])]
    assert {f.view for f in mirror} == set(sv3d_orbits((40.0,), 21))
    # SV3D is told the elevation of the dataset camera it renders: mirrored, sin(az) changes sign.
    assert mirror[4].polar_rad == pytest.approx(math.radians(90.0 - 40.0 * math.sin(-math.radians(360 * 5 / 21))))
