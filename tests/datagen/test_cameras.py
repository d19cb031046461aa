"""Camera math: pose validity, look-at, azimuth/elevation conventions, presets against their closed forms."""

import math

import numpy as np
import pytest

from datagen.cameras import (
    SV3D_FOV_DEG,
    SYNCDREAMER_FOV_DEG,
    SYNCDREAMER_RADIUS,
    c2w_gl_from_spherical,
    intrinsics_from_fov,
    rigi_eval_views,
    spherical_from_c2w_gl,
    sv3d_orbits,
    syncdreamer_views,
)

GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


def project(c2w_gl, K, points_world):
    """Pixel coordinates (u right, v down) and depth of world points, via an OpenCV world-to-camera matrix."""
    w2c_cv = np.linalg.inv(c2w_gl @ GL_TO_CV)
    cam = (w2c_cv[:3, :3] @ np.asarray(points_world, float).T).T + w2c_cv[:3, 3]
    uv = (K @ cam.T).T
    return uv[:, :2] / uv[:, 2:3], cam[:, 2]


def test_poses_are_rigid_and_look_at_origin():
    rng = np.random.default_rng(0)
    az = rng.uniform(-360, 720, 200)
    el = np.concatenate([rng.uniform(-90, 90, 196), [90.0, -90.0, 89.999, -89.999]])
    r = rng.uniform(0.5, 10, 200)
    c2w = c2w_gl_from_spherical(az, el, r)
    assert c2w.shape == (200, 4, 4) and c2w.dtype == np.float64
    R = c2w[:, :3, :3]
    np.testing.assert_allclose(R.transpose(0, 2, 1) @ R, np.broadcast_to(np.eye(3), R.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    np.testing.assert_allclose(c2w[:, 3], np.broadcast_to([0, 0, 0, 1.0], (200, 4)))
    centre = c2w[:, :3, 3]
    np.testing.assert_allclose(np.linalg.norm(centre, axis=1), r, rtol=1e-12)
    forward = -c2w[:, :3, 2]  # OpenGL cameras look down -z
    np.testing.assert_allclose(forward, -centre / r[:, None], atol=1e-12)


def test_closed_form_centre_and_round_trip():
    c2w = c2w_gl_from_spherical(30.0, 20.0, 4.0)
    a, e = math.radians(30), math.radians(20)
    np.testing.assert_allclose(
        c2w[:3, 3], 4 * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    )
    az, el, r = spherical_from_c2w_gl(c2w_gl_from_spherical([350.0, 10.0], [-30.0, 60.0], [2.0, 3.0]))
    (
        np.testing.assert_allclose(az, [350, 10]),
        np.testing.assert_allclose(el, [-30, 60]),
        np.testing.assert_allclose(r, [2, 3]),
    )


def test_azimuth_zero_sees_front_and_azimuth_grows_counter_clockwise():
    K = intrinsics_from_fov(SV3D_FOV_DEG, 64, 64).K()
    c2w = c2w_gl_from_spherical(0.0, 0.0, 4.0)
    np.testing.assert_allclose(c2w[:3, 3], [4, 0, 0], atol=1e-12)
    uv, depth = project(c2w, K, [[0, 0, 0], [0.5, 0, 0], [-0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]])
    np.testing.assert_allclose(uv[0], [32, 32], atol=1e-9)  # origin at the principal point
    assert depth[1] < depth[0] < depth[2]  # the +x (front) face is nearest
    assert uv[3, 0] > 32  # world +y appears on the right: turning to +y is counter-clockwise seen from +z
    assert uv[4, 1] < 32  # world +z is up in the image
    np.testing.assert_allclose(c2w_gl_from_spherical(90.0, 0.0, 4.0)[:3, 3], [0, 4, 0], atol=1e-12)


def look_at_origin_reference(azimuth_deg: float, elevation_deg: float, radius: float) -> np.ndarray:
    """A textbook look-at (right = world up x back, normalised; up = back x right) as an independent reference."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    back = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.cross([0.0, 0.0, 1.0], back)
    right = right / np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, np.cross(back, right), back, radius * back
    return c2w


def test_closed_form_matches_a_textbook_look_at_on_a_grid():
    # the closed form and the cross-product construction share azimuth, elevation and roll conventions
    for azimuth in np.arange(-180.0, 360.0, 7.5):
        for elevation in np.arange(-85.0, 86.0, 5.0):
            np.testing.assert_allclose(
                c2w_gl_from_spherical(azimuth, elevation, 2.5),
                look_at_origin_reference(azimuth, elevation, 2.5),
                rtol=0,
                atol=1e-14,
            )


@pytest.mark.parametrize("elevation", [30.0, -30.0])
def test_elevation_sign(elevation):
    c2w = c2w_gl_from_spherical(0.0, elevation, 4.0)
    assert np.sign(c2w[2, 3]) == np.sign(elevation)  # positive elevation = camera above
    K = intrinsics_from_fov(SV3D_FOV_DEG, 64, 64).K()
    uv, _ = project(c2w, K, [[0, 0, 0.5]])
    assert uv[0, 1] < 32  # +z still appears up


def test_syncdreamer_matches_closed_form():
    K = intrinsics_from_fov(SYNCDREAMER_FOV_DEG, 256, 256).K()
    np.testing.assert_allclose(K, [[280, 0, 128], [0, 280, 128], [0, 0, 1]], atol=1e-9)
    views = syncdreamer_views()
    assert len(views) == 16 and [v.index for v in views] == list(range(16))
    for k, view in enumerate(views):
        assert view.azimuth_deg == pytest.approx(22.5 * k) and view.elevation_deg == 30.0 and view.radius == 1.5
        # SyncDreamer's camera-16.pkl: OpenCV w2c [R|t] looking at the origin, z-up world, centre C on the sphere.
        az, el = math.radians(22.5 * k), math.radians(30.0)
        C = SYNCDREAMER_RADIUS * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        z_cv = -C / np.linalg.norm(C)
        x_cv = np.cross(z_cv, [0, 0, 1.0])
        x_cv /= np.linalg.norm(x_cv)
        y_cv = np.cross(z_cv, x_cv)
        R = np.stack([x_cv, y_cv, z_cv])
        t = -R @ C
        c2w_expected = np.eye(4)
        c2w_expected[:3, :3], c2w_expected[:3, 3] = R.T, -R.T @ t
        c2w_expected = c2w_expected @ GL_TO_CV  # section 5.1: c2w = [R^T | -R^T t] diag(1, -1, -1, 1)
        np.testing.assert_allclose(c2w_gl_from_spherical(view.azimuth_deg, 30.0, 1.5), c2w_expected, atol=1e-12)


def test_sv3d_orbits():
    views = sv3d_orbits()
    assert len(views) == 63
    assert [v.orbit for v in views] == [0] * 21 + [1] * 21 + [2] * 21
    for orbit, amplitude in enumerate((0.0, -20.0, 40.0)):
        orbit_views = views[21 * orbit : 21 * (orbit + 1)]
        assert [v.index for v in orbit_views] == list(range(21))
        for i, v in enumerate(orbit_views):
            assert v.azimuth_deg == pytest.approx((360 * (i + 1) / 21) % 360)
            assert v.elevation_deg == pytest.approx(amplitude * math.sin(math.radians(v.azimuth_deg)))
            assert v.radius == 4.0
        assert orbit_views[-1].azimuth_deg == 0.0 and orbit_views[-1].elevation_deg == 0.0  # last = input view
    assert min(v.elevation_deg for v in views[21:42]) == pytest.approx(-20 * math.sin(math.radians(360 * 5 / 21)))


def test_rigi_eval_views_seeded():
    views = rigi_eval_views(seed=3)
    assert len(views) == 36
    np.testing.assert_allclose([v.azimuth_deg for v in views], np.arange(36) * 10.0)
    elevations = np.array([v.elevation_deg for v in views])
    assert elevations.min() >= -40 and elevations.max() <= 60 and elevations.std() > 15
    assert [v.elevation_deg for v in rigi_eval_views(seed=3)] == list(elevations)
    assert not np.allclose([v.elevation_deg for v in rigi_eval_views(seed=4)], elevations)


def test_intrinsics_from_fov():
    intr = intrinsics_from_fov(90.0, 100, 60)
    assert (intr.fl_x, intr.fl_y, intr.cx, intr.cy, intr.w, intr.h) == pytest.approx((50, 50, 50, 30, 100, 60))
    half = intr.scaled(50, 30)
    assert (half.fl_x, half.cx, half.cy, half.w) == pytest.approx((25, 25, 15, 50))
    with pytest.raises(ValueError, match="fov_deg"):
        intrinsics_from_fov(180.0, 10, 10)
    with pytest.raises(ValueError, match="radius"):
        c2w_gl_from_spherical(0.0, 0.0, 0.0)
