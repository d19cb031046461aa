"""Ray casting against analytic references: sphere coverage, projection, anti-aliased edges, Lambert shading."""

from types import SimpleNamespace

import numpy as np
import pytest
import trimesh

from datagen.synthetic.objects import Part, SyntheticObject, pose_object
from datagen.synthetic.raycast import AMBIENT, LIGHTS, Caster, camera_rays, composite, shade, to_uint8
from datagen.synthetic.textures import solid_texture

SIZE, FOCAL, DISTANCE = 48, 60.0, 4.0
INTRINSICS = SimpleNamespace(fl_x=FOCAL, fl_y=FOCAL, cx=SIZE / 2, cy=SIZE / 2, w=SIZE, h=SIZE)


def _camera_on_plus_x(distance: float = DISTANCE) -> np.ndarray:
    """c2w_gl of a camera on the +x axis looking at the origin, world +z up (so image right = world +y)."""
    c2w = np.eye(4)
    c2w[:3, 0] = [0.0, 1.0, 0.0]  # x right
    c2w[:3, 1] = [0.0, 0.0, 1.0]  # y up
    c2w[:3, 2] = [1.0, 0.0, 0.0]  # z back, towards the camera
    c2w[:3, 3] = [distance, 0.0, 0.0]
    return c2w


def _sphere_object(center=(0.0, 0.0, 0.0), radius=0.8, rgb=(1.0, 1.0, 1.0)) -> SyntheticObject:
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=radius).apply_translation(center)
    tiny = trimesh.creation.icosphere(subdivisions=1, radius=0.01)
    return SyntheticObject(0, (Part("body", sphere, solid_texture(rgb)),), Part("phantom", tiny, solid_texture(rgb)))


def _analytic_disc_area(radius: float) -> float:
    """Image area (pixels) of a sphere's silhouette seen from DISTANCE: a disc of angular radius asin(r/d)."""
    half_angle = np.arcsin(radius / DISTANCE)
    return np.pi * (FOCAL * np.tan(half_angle)) ** 2


def test_camera_rays_follow_the_opengl_convention():
    origins, directions = camera_rays(_camera_on_plus_x(), INTRINSICS, np.array([[SIZE / 2, SIZE / 2], [SIZE, 0.0]]))
    np.testing.assert_allclose(origins[0], [DISTANCE, 0, 0])
    np.testing.assert_allclose(directions[0], [-1, 0, 0], atol=1e-12)  # the centre looks at the origin
    expected = np.array([-FOCAL, SIZE / 2, SIZE / 2]) / np.linalg.norm([FOCAL, SIZE / 2, SIZE / 2])
    np.testing.assert_allclose(directions[1], expected, atol=1e-12)  # top-right corner: world +y and +z


@pytest.mark.parametrize("supersample", [1, 2])
def test_sphere_coverage_matches_the_analytic_disc(supersample):
    obj = _sphere_object()
    hits = Caster(pose_object(obj)).cast(_camera_on_plus_x(), INTRINSICS, supersample)
    rgba = composite(hits, shade(obj, hits))
    area = rgba[..., 3].sum()
    assert area == pytest.approx(_analytic_disc_area(0.8), rel=0.02)
    assert rgba[SIZE // 2, SIZE // 2, 3] == 1.0 and rgba[0, 0, 3] == 0.0 and rgba[-1, -1, 3] == 0.0
    fractional = (rgba[..., 3] > 0) & (rgba[..., 3] < 1)
    if supersample == 1:
        assert not fractional.any()
    else:
        # Partial coverage only on the silhouette ring, in steps of 1/4.
        assert fractional.sum() > 20
        np.testing.assert_allclose(rgba[..., 3][fractional] * 4, np.round(rgba[..., 3][fractional] * 4), atol=1e-9)
        radius_px = np.hypot(*(np.argwhere(fractional) + 0.5 - SIZE / 2).T)
        assert np.abs(radius_px - np.sqrt(_analytic_disc_area(0.8) / np.pi)).max() < 1.5
    # Hits lie on the sphere and their normals point back at the camera side.
    np.testing.assert_allclose(np.linalg.norm(hits.points_rest, axis=1), 0.8, atol=2e-3)
    assert (hits.normals[:, 0] > 0).all()


def test_object_projects_where_the_pinhole_model_says():
    # A small sphere at world +y, +z appears right of and above the image centre.
    obj = _sphere_object(center=(0.0, 0.5, 0.3), radius=0.15)
    hits = Caster(pose_object(obj)).cast(_camera_on_plus_x(), INTRINSICS, 1)
    alpha = composite(hits, shade(obj, hits))[..., 3]
    rows, columns = np.nonzero(alpha)
    centre_x, centre_y = columns.mean() + 0.5, rows.mean() + 0.5
    assert centre_x == pytest.approx(SIZE / 2 + FOCAL * 0.5 / DISTANCE, abs=0.6)
    assert centre_y == pytest.approx(SIZE / 2 - FOCAL * 0.3 / DISTANCE, abs=0.6)


def test_lambert_shading_at_the_sphere_centre():
    obj = _sphere_object(rgb=(0.5, 0.8, 1.0))
    hits = Caster(pose_object(obj)).cast(_camera_on_plus_x(), INTRINSICS, 1)
    rgba = composite(hits, shade(obj, hits))
    normal = np.array([1.0, 0.0, 0.0])  # the surface faces the camera at the image centre
    light = AMBIENT + sum(i * max(0.0, normal @ d / np.linalg.norm(d)) for d, i in LIGHTS)
    expected = np.clip(np.array([0.5, 0.8, 1.0]) * light, 0, 1)
    np.testing.assert_allclose(rgba[SIZE // 2, SIZE // 2, :3], expected, atol=0.03)
    assert (rgba[..., :3][rgba[..., 3] == 0] == 0).all()
    assert to_uint8(rgba).dtype == np.uint8 and to_uint8(rgba)[SIZE // 2, SIZE // 2, 3] == 255


def test_composite_averages_samples_per_pixel():
    class _Hits:
        width, height = 2, 1
        pixel = np.array([0, 0, 1])
        weight = np.array([0.25, 0.25, 1.0])

    colors = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.4, 0.6]])
    rgba = composite(_Hits(), colors)
    np.testing.assert_allclose(rgba[0, 0], [0.5, 0.0, 0.5, 0.5])  # straight alpha: mean colour of covered samples
    np.testing.assert_allclose(rgba[0, 1], [0.2, 0.4, 0.6, 1.0])


def test_embree_and_the_numpy_ray_tracer_agree():
    pytest.importorskip("embreex")
    obj = _sphere_object(center=(0.1, -0.2, 0.05), radius=0.5)
    posed = pose_object(obj)
    small = SimpleNamespace(fl_x=30.0, fl_y=30.0, cx=12.0, cy=12.0, w=24, h=24)
    fast = Caster(posed, use_embree=True).cast(_camera_on_plus_x(), small, 2)
    slow = Caster(posed, use_embree=False).cast(_camera_on_plus_x(), small, 2)
    np.testing.assert_allclose(composite(fast, shade(obj, fast)), composite(slow, shade(obj, slow)), atol=1e-4)
