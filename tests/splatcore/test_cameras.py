"""OpenGL camera-to-world <-> OpenCV world-to-camera conversions: hand case, round trip, splatfacto's formula."""

import math

import pytest
import torch

from splatcore.cameras import c2w_gl_from_viewmat, camera_centers, viewmat_from_c2w_gl


def _random_c2w_gl(n: int) -> torch.Tensor:
    q = torch.nn.functional.normalize(torch.randn(n, 4, dtype=torch.float64), dim=-1)
    w, x, y, z = q.unbind(-1)
    rot = torch.stack(
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
         2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
         2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], dim=-1
    ).reshape(n, 3, 3)  # fmt: skip
    c2w = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    c2w[:, :3, :3] = rot
    c2w[:, :3, 3] = torch.randn(n, 3, dtype=torch.float64) * 3
    return c2w


def test_hand_case_camera_on_plus_z_looking_at_origin():
    # OpenGL camera at (0, 0, 4) with identity rotation looks down -z, i.e. at the origin; its y axis is world +y.
    c2w_gl = torch.eye(4, dtype=torch.float64)[None].clone()
    c2w_gl[0, 2, 3] = 4.0
    w2c_cv = viewmat_from_c2w_gl(c2w_gl)[0]
    points = torch.tensor([[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]], dtype=torch.float64)
    cam = (w2c_cv @ points.T).T[:, :3]
    # OpenCV: origin 4 in front (z forward), world +x to the right, world +y (up in the image) is -y (y down).
    expected = torch.tensor([[0.0, 0.0, 4.0], [1.0, 0.0, 4.0], [0.0, -1.0, 4.0]], dtype=torch.float64)
    torch.testing.assert_close(cam, expected)
    torch.testing.assert_close(camera_centers(w2c_cv[None])[0], torch.tensor([0.0, 0.0, 4.0], dtype=torch.float64))


def test_round_trip_and_3x4_input():
    c2w_gl = _random_c2w_gl(5)
    w2c_cv = viewmat_from_c2w_gl(c2w_gl[:, :3, :])
    torch.testing.assert_close(c2w_gl_from_viewmat(w2c_cv), c2w_gl)
    torch.testing.assert_close(w2c_cv @ c2w_gl @ torch.diag(torch.tensor([1.0, -1, -1, 1], dtype=torch.float64)),
                               torch.eye(4, dtype=torch.float64).expand(5, 4, 4))  # fmt: skip


def test_matches_splatfacto_formula():
    # splatfacto's get_viewmat: flip the camera y/z columns of c2w, then invert.
    c2w_gl = _random_c2w_gl(3)
    flipped = c2w_gl.clone()
    flipped[:, :3, 1:3] *= -1
    torch.testing.assert_close(viewmat_from_c2w_gl(c2w_gl), torch.linalg.inv(flipped))


def test_bad_shape_raises():
    with pytest.raises(ValueError, match="c2w_gl"):
        viewmat_from_c2w_gl(torch.eye(4)[None, :2])
    assert math.isclose(float(viewmat_from_c2w_gl(torch.eye(4)[None])[0, 1, 1]), -1.0)
