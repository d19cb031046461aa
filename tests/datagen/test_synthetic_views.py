"""Clean renders and labels of one object through the real camera conventions: silhouette, front/back,
each inconsistency kind growing with its strength while the input view stays clean."""

import numpy as np
import pytest

from datagen.cameras import SV3D_FOV_DEG, SV3D_RADIUS, c2w_gl_from_spherical, intrinsics_from_fov
from datagen.synthetic.inconsistency import KINDS, InconsistencyConfig, plan_perturbations
from datagen.synthetic.objects import make_object, pose_object
from datagen.synthetic.views import ObjectRenderer

SIZE = 48
AZIMUTHS = np.arange(0.0, 360.0, 30.0)


@pytest.fixture(scope="module")
def renderer():
    return ObjectRenderer(make_object(3))


@pytest.fixture(scope="module")
def intrinsics():
    return intrinsics_from_fov(SV3D_FOV_DEG, SIZE, SIZE)


def _c2w(azimuth_deg: float, elevation_deg: float = 0.0) -> np.ndarray:
    return np.asarray(c2w_gl_from_spherical(azimuth_deg, elevation_deg, SV3D_RADIUS))


def _labels(renderer, intrinsics, config: InconsistencyConfig, azimuths=AZIMUTHS):
    plan = plan_perturbations(config.strengths(), azimuths, 3, SIZE)[0]
    pairs = [renderer.clean_and_label(_c2w(a), intrinsics, p) for a, p in zip(azimuths, plan, strict=True)]
    return plan, pairs


def test_alpha_matches_the_silhouette(renderer, intrinsics):
    for azimuth in (0.0, 90.0, 200.0):
        rgba = renderer.clean(_c2w(azimuth, 10.0), intrinsics)
        assert rgba[SIZE // 2, SIZE // 2, 3] == 1.0  # the object is centred on the origin
        for corner in (rgba[0, 0], rgba[0, -1], rgba[-1, 0], rgba[-1, -1]):
            assert corner[3] == 0.0 and (corner[:3] == 0).all()
        coverage = (rgba[..., 3] > 0).mean()
        assert 0.1 < coverage < 0.7, coverage


def test_silhouette_matches_the_pinhole_projection_of_the_mesh(renderer, intrinsics):
    """Independent of the ray caster: project the mesh vertices with K and the inverse pose (OpenGL -> OpenCV)."""
    vertices = pose_object(renderer.obj).vertices
    for azimuth, elevation in ((0.0, 0.0), (130.0, 25.0), (250.0, -30.0)):
        c2w_gl = _c2w(azimuth, elevation)
        w2c_cv = np.diag([1.0, -1.0, -1.0, 1.0]) @ np.linalg.inv(c2w_gl)
        camera = vertices @ w2c_cv[:3, :3].T + w2c_cv[:3, 3]
        pixels = camera[:, :2] / camera[:, 2:] * intrinsics.fl_x + [intrinsics.cx, intrinsics.cy]
        alpha = renderer.clean(c2w_gl, intrinsics)[..., 3]
        rows, columns = np.nonzero(alpha)
        # The covered pixels span exactly the projected vertices' bounding box (to the pixel).
        np.testing.assert_allclose([columns.min(), rows.min()], np.floor(pixels.min(axis=0)), atol=1)
        np.testing.assert_allclose([columns.max(), rows.max()], np.floor(pixels.max(axis=0)), atol=1)
        # Every vertex projects onto (or next to) a covered pixel.
        covered = np.pad(alpha > 0, 1)
        grown = covered[:-2, 1:-1] | covered[2:, 1:-1] | covered[1:-1, :-2] | covered[1:-1, 2:] | covered[1:-1, 1:-1]
        index = np.clip(np.floor(pixels).astype(int), 0, SIZE - 1)
        assert grown[index[:, 1], index[:, 0]].all()


def test_front_shows_the_eyes_and_the_back_does_not(renderer, intrinsics):
    obj = renderer.obj
    eyes = {i for i, p in enumerate(obj.parts) if p.name in ("eye", "pupil")}
    back = {i for i, p in enumerate(obj.parts) if p.name in ("tail", "spike", "handle")}
    assert back, "seed 3 has back parts"
    front_hits = renderer.hits(_c2w(0.0), intrinsics)
    back_hits = renderer.hits(_c2w(180.0), intrinsics)
    assert eyes <= set(front_hits.part.tolist()) and not eyes & set(back_hits.part.tolist())
    assert back & set(back_hits.part.tolist())
    # The eyes sit in the upper half of the front view. From azimuth 90 (camera on +y, image right = world -x) the
    # front (+x) is on the image left; from azimuth 270 on the image right.
    eye_rows = front_hits.pixel[np.isin(front_hits.part, list(eyes))] // SIZE
    assert eye_rows.mean() < SIZE / 2
    for azimuth, on_left in ((90.0, True), (270.0, False)):
        side_hits = renderer.hits(_c2w(azimuth), intrinsics)
        columns = side_hits.pixel[np.isin(side_hits.part, list(eyes))] % SIZE
        assert (columns.mean() < SIZE / 2) == on_left, (azimuth, columns.mean())


def test_no_inconsistency_gives_labels_equal_to_clean_renders(renderer, intrinsics):
    _, pairs = _labels(renderer, intrinsics, InconsistencyConfig.none())
    for clean, label in pairs:
        np.testing.assert_array_equal(clean, label)


@pytest.mark.parametrize(
    "kind, weak, strong",
    [("warp", 2.0, 6.0), ("phantom", 0.4, 1.0), ("color_drift", 0.05, 0.2), ("unseen_texture", 0.4, 1.0),
     ("flicker", 0.03, 0.1)],
)  # fmt: skip
def test_each_kind_grows_with_strength_and_spares_the_input_view(renderer, intrinsics, kind, weak, strong):
    errors = []
    for strength in (weak, strong):
        config = InconsistencyConfig(level="none", **{kind: strength})
        plan, pairs = _labels(renderer, intrinsics, config)
        np.testing.assert_array_equal(pairs[0][0], pairs[0][1])  # azimuth 0 = the input view
        errors.append(np.mean([np.abs(label - clean).mean() for clean, label in pairs]))
        if kind == "unseen_texture":  # only views farther than 90 deg from the front change
            for azimuth, (clean, label) in zip(AZIMUTHS, pairs, strict=True):
                assert np.array_equal(clean, label) == (abs((azimuth + 180) % 360 - 180) <= 90)
    assert 0 < errors[0] < errors[1], (kind, errors)
    assert set(KINDS) >= {kind}


def test_phantom_part_appears_in_a_subset_of_views_only(renderer, intrinsics):
    azimuths = np.arange(0.0, 360.0, 15.0)
    plan, pairs = _labels(renderer, intrinsics, InconsistencyConfig(level="none", phantom=0.8), azimuths)
    shown = [p.show_phantom for p in plan]
    assert 0 < sum(shown) < len(shown) and not shown[0]
    phantom_index = len(renderer.obj.parts)
    changed_views = 0
    for azimuth, show, (clean, label) in zip(azimuths, shown, pairs, strict=True):
        # The extra part changes the label exactly when it is drawn and not hidden behind the body.
        visible = (renderer.hits(_c2w(azimuth), intrinsics, phantom=True).part == phantom_index).any()
        changed = not np.array_equal(label, clean)
        assert changed == (show and visible), azimuth
        changed_views += changed
    assert changed_views >= 3
