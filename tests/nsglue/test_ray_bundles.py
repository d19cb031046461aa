"""nerfstudio's ray-bundle interface on the project's Gaussian models: a camera's rays render as that camera."""

import math

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.data.scene_box import SceneBox

from datagen.cameras import c2w_gl_from_spherical
from efficient4d_ns.model import Efficient4DModelConfig
from nsglue.base_model import CpuSafeSplatfactoModelConfig
from nsglue.ray_bundles import NO_HIT_ACCUMULATION, NO_HIT_DEPTH, straight_rgba
from rigi_ns.model import RigiSplatModelConfig

SCENE_BOX = SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3]))


def _camera(t=None, width=20, height=16) -> Cameras:
    c2w = torch.from_numpy(c2w_gl_from_spherical(30.0, 20.0, 2.0)[None, :3, :4]).float()
    return Cameras(
        camera_to_worlds=c2w, fx=22.0, fy=24.0, cx=9.5, cy=8.5, width=width, height=height,
        camera_type=CameraType.PERSPECTIVE, times=None if t is None else torch.tensor([[t]]),
    )  # fmt: skip


def _opaque(model):
    with torch.no_grad():
        model.gauss_params["opacities"].fill_(4.0)
        model.gauss_params["scales"].fill_(math.log(0.08))
    return model.eval()


def _splat_model():
    config = CpuSafeSplatfactoModelConfig(num_random=200, random_scale=0.8, eval_lpips_net="none")
    return _opaque(config.setup(scene_box=SCENE_BOX, num_train_data=1))


def _rigi_model():
    config = RigiSplatModelConfig(num_random=200, random_scale=0.8, lpips_lambda=0.0, eval_lpips_net="none")
    return _opaque(config.setup(scene_box=SCENE_BOX, num_train_data=1))


@pytest.mark.parametrize("make_model", [_splat_model, _rigi_model])
def test_camera_rays_render_as_the_camera_with_depth_along_the_rays(make_model):
    model = make_model()
    camera = _camera()
    bundle = camera.generate_rays(camera_indices=0)
    from_rays = model.get_outputs_for_camera_ray_bundle(bundle)
    from_camera = model.get_outputs_for_camera(camera)
    torch.testing.assert_close(from_rays["rgb"], from_camera["rgb"])
    torch.testing.assert_close(from_rays["accumulation"], from_camera["accumulation"])
    hit = from_camera["accumulation"] >= NO_HIT_ACCUMULATION
    assert 0 < int(hit.sum()) < hit.numel(), "the fixture should show both object and background"
    # camera z times the unnormalised direction's norm = distance along the ray; empty rays run to "far"
    expected = torch.where(hit, from_camera["depth"] * bundle.metadata["directions_norm"], NO_HIT_DEPTH)
    torch.testing.assert_close(from_rays["depth"], expected)
    # the centre ray's depth is the distance from the camera centre to the point it reaches
    point = bundle.origins[8, 9] + bundle.directions[8, 9] * from_rays["depth"][8, 9]
    if hit[8, 9]:
        assert float(torch.linalg.norm(point - camera.camera_to_worlds[0, :, 3])) == pytest.approx(
            float(from_rays["depth"][8, 9]), rel=1e-5
        )


def test_efficient4d_renders_camera_rays_at_its_export_time():
    """ns-export fuses all training views into one mesh: every bundle renders the slice at export_time."""
    model = Efficient4DModelConfig(num_random=200, eval_lpips_net="none", export_time=0.2).setup(
        scene_box=SCENE_BOX, num_train_data=1, metadata={}
    )
    model = _opaque(model)
    bundle = _camera(t=0.9).generate_rays(camera_indices=0)
    assert bundle.times is not None and float(bundle.times.max()) == pytest.approx(0.9)
    from_rays = model.get_outputs_for_camera_ray_bundle(bundle)
    at_export = model.get_outputs_for_camera(_camera(t=0.2))
    at_own_time = model.get_outputs_for_camera(_camera(t=0.9))
    torch.testing.assert_close(from_rays["rgb"], at_export["rgb"])
    assert float((at_own_time["rgb"] - at_export["rgb"]).abs().max()) > 1e-2  # the two slices do differ


def test_single_rays_are_refused_naming_the_mesh_exports():
    """`ns-export poisson` first calls the model on one bare ray (exporter.validate_pipeline)."""
    model = _splat_model()
    ray = RayBundle(
        origins=torch.zeros(1, 3), directions=torch.ones(1, 3), pixel_area=torch.ones(1, 1),
        camera_indices=torch.zeros(1, 1), metadata={"directions_norm": torch.ones(1, 1) * math.sqrt(3)},
    )  # fmt: skip
    with pytest.raises(ValueError, match="asset-export --load-config.*--texture-method tsdf"):
        model(ray)


def test_straight_rgba_takes_the_background_out():
    colour = torch.tensor([0.9, 0.2, 0.4])
    alpha = torch.tensor([[[1.0]], [[0.6]], [[0.0]]])  # an image [H=3, W=1, 1]: opaque, partly covered, empty
    for background in (torch.zeros(3), torch.ones(3), torch.tensor([0.1, 0.5, 0.7])):
        rgb = alpha * colour + (1 - alpha) * background
        rgba = straight_rgba(rgb, alpha, background)
        torch.testing.assert_close(rgba[:2, :, :3], colour.expand(2, 1, 3))
        torch.testing.assert_close(rgba[..., 3:], alpha)
        torch.testing.assert_close(rgba[2, :, :3], background[None])  # nothing rendered: composited colour
