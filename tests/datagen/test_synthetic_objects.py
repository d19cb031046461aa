"""Procedural objects, textures and part motions: determinism, framing, front/back layout, rigid animation."""

import numpy as np
import pytest

from datagen.synthetic.animation import Motion, axis_angle_matrix, pose_transforms, rotation_between
from datagen.synthetic.objects import DYNAMIC_HALF_EXTENT, STATIC_RADIUS, make_object, pose_object
from datagen.synthetic.textures import (
    PATTERNS,
    evaluate_texture,
    random_texture,
    solid_texture,
    variant_texture,
)


def test_same_seed_same_object_and_different_seeds_differ():
    a, b = make_object(5), make_object(5)
    np.testing.assert_array_equal(pose_object(a).vertices, pose_object(b).vertices)
    assert [p.name for p in a.parts] == [p.name for p in b.parts]
    np.testing.assert_array_equal(a.parts[0].texture.colors, b.parts[0].texture.colors)
    others = [make_object(seed) for seed in range(6)]
    layouts = {tuple(p.name for p in o.parts) for o in others}
    palettes = {tuple(np.round(o.parts[0].texture.colors.ravel(), 6)) for o in others}
    assert len(layouts) >= 3, layouts
    assert len(palettes) == 6


def test_static_object_fits_its_sphere_and_animated_object_its_cube():
    still = pose_object(make_object(2)).vertices
    radii = np.linalg.norm(still, axis=1)
    assert radii.max() <= STATIC_RADIUS + 1e-9
    assert radii.max() > 0.9 * STATIC_RADIUS  # normalised, not merely inside
    moving = make_object(2, animated=True)
    for time in np.linspace(0.0, 1.0, 9):
        assert np.abs(pose_object(moving, time).vertices).max() <= DYNAMIC_HALF_EXTENT + 1e-9


@pytest.mark.parametrize("seed", [0, 1, 3, 7])
def test_front_parts_face_plus_x_and_back_parts_minus_x(seed):
    obj = make_object(seed)
    for part in obj.parts:
        centre_x = part.mesh.vertices[:, 0].mean()
        if part.name in ("eye", "pupil"):
            assert centre_x > 0.05, (part.name, centre_x)
        if part.name in ("tail", "handle"):
            assert centre_x < -0.05, (part.name, centre_x)
        if part.name == "spike":  # a ridge from the top of the body backwards
            assert centre_x < 0.0, (part.name, centre_x)
    assert sum(p.name == "eye" for p in obj.parts) == 2


def test_animation_is_rigid_periodic_and_moves_parts():
    obj = make_object(1, animated=True)
    rest = pose_object(obj, 0.0)
    later = pose_object(obj, 0.3)
    np.testing.assert_allclose(pose_object(obj, 1.0).vertices, rest.vertices, atol=1e-9)  # whole cycles
    assert np.abs(later.vertices - rest.vertices).max() > 0.02
    # Rigid: distances inside every part are preserved (including the rest pose stored for texture lookup).
    start = 0
    for part in obj.parts:
        count = len(part.mesh.vertices)
        pick = np.arange(start, start + count, max(count // 20, 1))
        for posed in (rest, later):
            d_posed = np.linalg.norm(posed.vertices[pick, None] - posed.vertices[None, pick], axis=-1)
            d_rest = np.linalg.norm(posed.rest_vertices[pick, None] - posed.rest_vertices[None, pick], axis=-1)
            np.testing.assert_allclose(d_posed, d_rest, atol=1e-9)
        start += count


def test_phantom_is_only_added_on_request():
    obj = make_object(4)
    plain, with_phantom = pose_object(obj), pose_object(obj, with_phantom=True)
    assert len(with_phantom.faces) == len(plain.faces) + len(obj.phantom.mesh.faces)
    assert (with_phantom.face_part == len(obj.parts)).sum() == len(obj.phantom.mesh.faces)
    assert (plain.face_part == len(obj.parts)).sum() == 0


def test_rotation_helpers_against_hand_values():
    np.testing.assert_allclose(axis_angle_matrix(np.array([0, 0, 1.0]), np.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    for source, target in [([1, 0, 0], [0, 0, 1]), ([0, 0, 1], [0, 0, -1]), ([1, 2, 3], [-3, 1, 0.5])]:
        rotation = rotation_between(np.array(source, float), np.array(target, float))
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
        np.testing.assert_allclose(
            rotation @ source / np.linalg.norm(source), target / np.linalg.norm(target), atol=1e-12
        )


def test_pose_transforms_rotate_about_pivot_and_chain_parents():
    pivot = np.array([1.0, 0.0, 0.0])
    swing = Motion("rotate", np.array([0.0, 0.0, 1.0]), pivot, np.pi / 2, phase=np.pi / 2)  # angle pi/2 at t=0
    lift = Motion("translate", np.array([0.0, 0.0, 1.0]), np.zeros(3), 0.5, phase=np.pi / 2)  # +0.5 at t=0
    parent, child = pose_transforms([(lift,), (swing,)], [None, 0], 0.0)
    np.testing.assert_allclose(parent[:3, 3], [0, 0, 0.5], atol=1e-12)
    np.testing.assert_allclose((child @ [1, 0, 0, 1])[:3], [1, 0, 0.5], atol=1e-12)  # the pivot stays put
    np.testing.assert_allclose((child @ [2, 0, 0, 1])[:3], [1, 1, 0.5], atol=1e-12)
    assert all(np.array_equal(t, np.eye(4)) for t in pose_transforms([(lift,), (swing,)], [None, 0], None))
    with pytest.raises(ValueError, match="parent"):
        pose_transforms([(), ()], [1, None], 0.0)


def test_textures_stay_in_palette_and_repeat_with_their_period():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, size=(500, 3))
    for kind in PATTERNS[1:]:
        texture = random_texture(np.random.default_rng(1), kinds=(kind,))
        albedo = evaluate_texture(texture, points)
        assert albedo.shape == (500, 3) and albedo.min() >= 0.0 and albedo.max() <= 1.0
        assert albedo.std(axis=0).max() > 0.05, kind  # a pattern, not a flat colour
    stripes = random_texture(np.random.default_rng(2), kinds=("stripes",))
    period = stripes.rotation[0] / stripes.frequency  # one period along the pattern's x axis (object space)
    np.testing.assert_allclose(evaluate_texture(stripes, points), evaluate_texture(stripes, points + period), atol=1e-9)
    np.testing.assert_array_equal(evaluate_texture(solid_texture((0.1, 0.2, 0.3)), points[:3]), [[0.1, 0.2, 0.3]] * 3)


def test_variant_texture_differs_from_the_original():
    texture = random_texture(np.random.default_rng(3))
    variant = variant_texture(texture, np.random.default_rng(4))
    points = np.random.default_rng(5).uniform(-1, 1, size=(400, 3))
    assert variant.kind != texture.kind
    assert np.abs(evaluate_texture(variant, points) - evaluate_texture(texture, points)).mean() > 0.1
    solid = solid_texture((1.0, 1.0, 1.0))
    assert variant_texture(solid, np.random.default_rng(0)) is solid  # eyes keep their colour
