"""Recovering a pinhole camera from its rays, with nerfstudio's own ray generator as the oracle."""

import math

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras

from splatcore.pinhole_rays import NotPinholeError, pinhole_from_rays


def _random_pose(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.det(q))  # a rotation, not a reflection
    return torch.cat([q, torch.randn(3, 1, generator=g, dtype=torch.float64) * 3], dim=-1).float()


def _camera(seed=0, width=40, height=30, fx=52.0, fy=47.0, cx=21.5, cy=13.0) -> Cameras:
    return Cameras(camera_to_worlds=_random_pose(seed)[None], fx=fx, fy=fy, cx=cx, cy=cy, width=width, height=height)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_the_camera_that_generated_the_rays(seed):
    camera = _camera(seed)
    bundle = camera.generate_rays(camera_indices=0)
    fit = pinhole_from_rays(bundle.origins, bundle.directions, bundle.metadata["directions_norm"])
    torch.testing.assert_close(fit.c2w_gl, camera.camera_to_worlds[0], atol=2e-5, rtol=0)
    assert (fit.width, fit.height) == (40, 30)
    for name, expected in [("fx", 52.0), ("fy", 47.0), ("cx", 21.5), ("cy", 13.0)]:
        assert getattr(fit, name) == pytest.approx(expected, abs=1e-3), name


def test_fit_after_rescaling_like_the_tsdf_exporter():
    """`ns-export tsdf` halves the resolution with `rescale_output_resolution` before generating rays."""
    camera = _camera(3, width=64, height=64, fx=80.0, fy=80.0, cx=32.0, cy=32.0)
    camera.rescale_output_resolution(0.5)
    bundle = camera.generate_rays(camera_indices=0, disable_distortion=True)
    fit = pinhole_from_rays(bundle.origins, bundle.directions, bundle.metadata["directions_norm"])
    assert (fit.width, fit.height, fit.fx, fit.cx) == (32, 32, pytest.approx(40.0, abs=1e-3), pytest.approx(16.0))


def test_rays_from_different_origins_are_not_a_camera():
    """Texture-baking rays start on a surface: they must be refused, not rendered from a wrong camera."""
    bundle = _camera().generate_rays(camera_indices=0)
    origins = bundle.origins + 0.01 * torch.randn_like(bundle.origins)
    with pytest.raises(NotPinholeError, match="different points"):
        pinhole_from_rays(origins, bundle.directions, bundle.metadata["directions_norm"])


def test_scrambled_directions_are_not_a_camera():
    bundle = _camera().generate_rays(camera_indices=0)
    perm = torch.randperm(40 * 30)
    directions = bundle.directions.reshape(-1, 3)[perm].reshape(30, 40, 3)
    norms = bundle.metadata["directions_norm"].reshape(-1, 1)[perm].reshape(30, 40, 1)
    with pytest.raises(NotPinholeError, match="affine pixel grid"):
        pinhole_from_rays(bundle.origins, directions, norms)


def test_a_single_ray_is_refused_with_its_shape():
    one = torch.zeros(1, 3)
    with pytest.raises(NotPinholeError, match=r"\[H, W, 3\]"):
        pinhole_from_rays(one, torch.ones(1, 3) / math.sqrt(3), torch.ones(1, 1))
