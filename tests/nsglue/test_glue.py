"""nsglue helpers: camera conversion, initialisation, optimizer re-binding, CPU-safe image cache."""

import math

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.dataparsers.nerfstudio_dataparser import NerfstudioDataParserConfig
from PIL import Image

from nsglue.base_model import camera_to_viewmat_K
from nsglue.datamanager import CpuSafeFullImageDatamanagerConfig
from nsglue.device import default_machine_config
from nsglue.gaussians import initial_gaussian_params, rebind_optimizers


def test_viewmat_is_opencv_inverse_of_opengl_pose():
    angle = math.radians(30)
    rot = torch.tensor([[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]])
    c2w_gl = torch.cat([rot, torch.tensor([[1.0], [2.0], [3.0]])], dim=1)[None]
    camera = Cameras(camera_to_worlds=c2w_gl, fx=50.0, fy=60.0, cx=16.0, cy=12.0, width=32, height=24)
    w2c_cv, K = camera_to_viewmat_K(camera)
    c2w_cv = torch.eye(4)
    c2w_cv[:3, :4] = c2w_gl[0]
    c2w_cv[:3, 1:3] *= -1  # OpenGL y up / z back -> OpenCV y down / z forward
    torch.testing.assert_close(w2c_cv[0] @ c2w_cv, torch.eye(4), atol=1e-6, rtol=0)
    # a point in front of the camera (along its -z_gl axis) has positive OpenCV depth
    point = c2w_gl[0, :, 3] - 2.0 * c2w_gl[0, :, 2]
    depth = (w2c_cv[0, :3, :3] @ point + w2c_cv[0, :3, 3])[2].item()
    assert abs(depth - 2.0) < 1e-5
    torch.testing.assert_close(K[0], torch.tensor([[50.0, 0, 16.0], [0, 60.0, 12.0], [0, 0, 1.0]]))


def test_initialisation_depends_only_on_the_seed():
    a = initial_gaussian_params(50, 2.0, 0, torch.Generator().manual_seed(7))
    b = initial_gaussian_params(50, 2.0, 0, torch.Generator().manual_seed(7))
    c = initial_gaussian_params(50, 2.0, 0, torch.Generator().manual_seed(8))
    torch.testing.assert_close(a["means"], b["means"])
    assert not torch.allclose(a["means"], c["means"])
    assert a["means"].abs().max() <= 1.0 and a["features_rest"].shape == (50, 0, 3)
    torch.testing.assert_close(torch.sigmoid(a["opacities"]), torch.full((50, 1), 0.1))


def test_rebind_moves_optimizer_and_its_state_to_the_new_parameter():
    old = torch.nn.Parameter(torch.zeros(4, 3))
    optimizer = torch.optim.Adam([old], lr=0.1)
    old.grad = torch.ones_like(old)
    optimizer.step()
    new = torch.nn.Parameter(torch.ones(4, 3))
    rebind_optimizers({"means": new}, {"means": optimizer})
    assert optimizer.param_groups[0]["params"][0] is new and new in optimizer.state
    assert old not in optimizer.state


def test_cpu_cache_does_not_pin_memory_without_cuda(tmp_path):
    import json

    frames = []
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 50 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
        pose = np.eye(4)
        pose[2, 3] = 3.0 + i
        frames.append({"file_path": f"{i}.png", "transform_matrix": pose.tolist()})
    meta = {"fl_x": 8, "fl_y": 8, "cx": 4, "cy": 4, "w": 8, "h": 8, "frames": frames}
    (tmp_path / "transforms.json").write_text(json.dumps(meta))
    parser = NerfstudioDataParserConfig(data=tmp_path, eval_mode="all", auto_scale_poses=False)
    dm = CpuSafeFullImageDatamanagerConfig(dataparser=parser, cache_images="cpu").setup(device="cpu")
    _, data = dm.next_train(0)
    assert data["image"].shape == (8, 8, 3) and data["image"].device.type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_machine_config().device_type == expected


def test_checkpoints_with_numpy_learning_rates_load_safely(tmp_path):
    import nsglue  # noqa: F401  (registers the safe globals on import)

    path = tmp_path / "state.ckpt"
    torch.save({"lr": np.float64(1e-3), "steps": np.int64(4)}, path)
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    assert loaded["lr"] == 1e-3 and loaded["steps"] == 4


def test_an_injected_lpips_network_is_used_but_never_saved():
    from tests.rigi_ns.test_model import _model, _random_lpips

    model = _model(num_random=10)
    assert model.lpips_metric is _random_lpips()
    assert not any("lpips" in key for key in model.state_dict())
    assert model.info == {} and model.info_2 == {}  # set up before the first render
