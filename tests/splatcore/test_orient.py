"""Up-axis turns: centres, Gaussian frames and SH bands move together."""

import numpy as np
import pytest
import torch

from splatcore.orient import UP_AXES, orient_splats, quat_multiply, rotate_sh_rest, sh_band_rotations, up_rotation
from splatcore.ply import SplatPly
from splatcore.projection import covars_from_quat_scale
from splatcore.rasterize import rasterize
from splatcore.sh import sh_bases

AXIS = {"z": [0, 0, 1], "y": [0, 1, 0], "-y": [0, -1, 0]}


def marked_asset() -> SplatPly:
    """A red Gaussian on top (+z), a blue one at the bottom, a green one in front (+x)."""
    means = np.array([[0, 0, 1.0], [0, 0, -1.0], [1.0, 0, 0]], np.float32)
    return SplatPly(
        means=means,
        sh_dc=np.eye(3, dtype=np.float32)[[0, 2, 1]],
        sh_rest=np.zeros((3, 3, 3), np.float32),
        opacity_logits=np.zeros(3, np.float32),
        log_scales=np.log(np.array([[0.3, 0.1, 0.05]] * 3, np.float32)),
        quats=np.array([[1, 0, 0, 0], [0.9, 0.1, 0.3, 0.2], [0.5, 0.5, 0.5, 0.5]], np.float32),
    )


@pytest.mark.parametrize("up", UP_AXES)
def test_marked_top_points_up(up):
    rotation = up_rotation(up)
    np.testing.assert_allclose(rotation @ [0, 0, 1], AXIS[up], atol=0)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    turned = orient_splats(marked_asset(), up)
    np.testing.assert_allclose(turned.means[0], AXIS[up], atol=1e-7)  # the red top
    np.testing.assert_allclose(turned.means[1], -np.asarray(AXIS[up]), atol=1e-7)
    np.testing.assert_allclose(turned.means[2], [1, 0, 0], atol=1e-7)  # the turn is about x


@pytest.mark.parametrize("up", ["y", "-y"])
def test_covariances_turn_with_the_centres(up):
    asset = marked_asset()
    turned = orient_splats(asset, up)
    rotation = torch.from_numpy(up_rotation(up)).float()
    before = covars_from_quat_scale(torch.from_numpy(asset.quats), torch.from_numpy(np.exp(asset.log_scales)))
    after = covars_from_quat_scale(torch.from_numpy(turned.quats), torch.from_numpy(np.exp(turned.log_scales)))
    torch.testing.assert_close(after, rotation @ before @ rotation.T, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(turned.quats, axis=1), np.linalg.norm(asset.quats, axis=1), rtol=1e-6)


def test_quat_multiply_matches_rotation_matrices():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 5, 4))
    from splatcore.projection import quat_to_rotmat

    def mat(q):
        return quat_to_rotmat(torch.from_numpy(q)).numpy()

    np.testing.assert_allclose(mat(quat_multiply(a, b)), mat(a) @ mat(b), atol=1e-12)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_sh_colour_seen_from_turned_direction_is_unchanged(degree):
    """Σ c'·B(R d) = Σ c·B(d): the turned asset looks the same from the turned viewpoint, band by band."""
    rng = np.random.default_rng(degree)
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = 1.1
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k  # Rodrigues
    coeffs = rng.normal(size=(4, (degree + 1) ** 2 - 1, 3))
    turned = rotate_sh_rest(coeffs, rotation)
    dirs = rng.normal(size=(50, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    b_before = sh_bases(degree, torch.from_numpy(dirs)).numpy()[:, 1:]
    b_after = sh_bases(degree, torch.from_numpy(dirs @ rotation.T)).numpy()[:, 1:]
    np.testing.assert_allclose(
        np.einsum("mk,nkc->nmc", b_after, turned), np.einsum("mk,nkc->nmc", b_before, coeffs), atol=1e-10
    )
    for matrix in sh_band_rotations(rotation, degree):
        np.testing.assert_allclose(matrix @ matrix.T, np.eye(len(matrix)), atol=1e-10)


def test_bad_sh_layout_and_axis_are_refused():
    with pytest.raises(ValueError, match="expected \\(degree"):
        rotate_sh_rest(np.zeros((2, 5, 3)), np.eye(3))
    with pytest.raises(ValueError, match="up axis must be one of"):
        up_rotation("x")


def _render(asset: SplatPly, w2c: np.ndarray) -> torch.Tensor:
    colours = torch.from_numpy(np.concatenate([asset.sh_dc[:, None], asset.sh_rest], axis=1))
    k = torch.tensor([[[40.0, 0, 24], [0, 40.0, 24], [0, 0, 1]]])
    image, _, _ = rasterize(
        torch.from_numpy(asset.means), torch.from_numpy(asset.quats), torch.from_numpy(np.exp(asset.log_scales)),
        torch.sigmoid(torch.from_numpy(asset.opacity_logits)), colours, torch.from_numpy(w2c).float()[None], k,
        48, 48, sh_degree=1, backgrounds=torch.ones(1, 3),
    )  # fmt: skip
    return image[0]


@pytest.mark.parametrize("up", ["y", "-y"])
def test_degree_one_asset_renders_the_same_after_the_turn(up):
    rng = np.random.default_rng(3)
    n = 40
    asset = SplatPly(
        means=rng.uniform(-0.5, 0.5, size=(n, 3)).astype(np.float32),
        sh_dc=rng.normal(scale=0.5, size=(n, 3)).astype(np.float32),
        sh_rest=rng.normal(scale=0.8, size=(n, 3, 3)).astype(np.float32),  # strong view dependence
        opacity_logits=np.full(n, 1.0, np.float32),
        log_scales=np.full((n, 3), np.log(0.08), np.float32),
        quats=rng.normal(size=(n, 4)).astype(np.float32),
    )
    # a camera 3 units away along +x+y+z, looking at the origin; OpenCV axes
    centre = np.array([1.8, -1.5, 1.9])
    forward = -centre / np.linalg.norm(centre)
    right = np.cross(forward, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, :3] = np.stack([right, down, forward], axis=1)
    c2w[:3, 3] = centre
    turn = np.eye(4)
    turn[:3, :3] = up_rotation(up)
    before = _render(asset, np.linalg.inv(c2w))
    after = _render(orient_splats(asset, up), np.linalg.inv(turn @ c2w))
    unturned_sh = orient_splats(asset, up)
    unturned_sh.sh_rest = asset.sh_rest
    wrong = _render(unturned_sh, np.linalg.inv(turn @ c2w))
    assert (before - 1).abs().max() > 0.3  # the asset is in view
    torch.testing.assert_close(after, before, atol=2e-4, rtol=0)
    assert (wrong - before).abs().max() > 0.05  # leaving the SH bands unturned would show


@pytest.mark.parametrize("source", UP_AXES)
@pytest.mark.parametrize("target", UP_AXES)
def test_reorient_between_conventions_matches_going_through_z(source, target):
    from splatcore.orient import reorient_splats

    asset = marked_asset()
    stored = orient_splats(asset, source)
    direct = reorient_splats(stored, source, target)
    expected = orient_splats(asset, target)
    np.testing.assert_allclose(direct.means, expected.means, atol=1e-6)
    np.testing.assert_allclose(direct.sh_rest, expected.sh_rest, atol=1e-6)
    # q and −q are the same rotation
    signs = np.sign(np.sum(direct.quats * expected.quats, axis=1, keepdims=True))
    np.testing.assert_allclose(direct.quats * signs, expected.quats, atol=1e-6)
