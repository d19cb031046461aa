"""Turntable cameras (poses, intrinsics, times) and the render loop shared by e4d-export and asset-export."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from datagen.cameras import Intrinsics, c2w_gl_from_spherical, spherical_from_c2w_gl, turntable_c2w_gl
from nsglue.turntable import orbit_cameras, render_cameras

INTRINSICS = Intrinsics(20.0, 21.0, 8.0, 9.5, 16, 18)


def test_turntable_poses_step_evenly_in_azimuth_at_one_elevation_and_radius():
    c2w = turntable_c2w_gl(8, 25.0, 1.5)
    azimuth, elevation, radius = spherical_from_c2w_gl(c2w)
    np.testing.assert_allclose(azimuth, np.arange(8) * 45.0, atol=1e-9)
    np.testing.assert_allclose(elevation, 25.0, atol=1e-9)
    np.testing.assert_allclose(radius, 1.5, rtol=1e-12)
    # the same poses, bit for bit, as one camera at a time at 360 k / n
    for k in range(8):
        assert np.array_equal(c2w[k], c2w_gl_from_spherical(360.0 * k / 8, 25.0, 1.5))
    with pytest.raises(ValueError, match="num_frames=0"):
        turntable_c2w_gl(0, 25.0, 1.5)


def test_orbit_cameras_carry_poses_intrinsics_and_times():
    cameras = orbit_cameras(5, -10.0, 2.0, INTRINSICS, times=[0.0, 0.25, 0.5, 0.75, 1.0])
    assert cameras.shape == (5,)
    expected = torch.as_tensor(turntable_c2w_gl(5, -10.0, 2.0)[:, :3, :4], dtype=torch.float32)
    assert torch.equal(cameras.camera_to_worlds, expected)
    for name, value in (("fx", 20.0), ("fy", 21.0), ("cx", 8.0), ("cy", 9.5), ("width", 16), ("height", 18)):
        assert torch.all(getattr(cameras, name) == value), name
    assert torch.equal(cameras.times, torch.tensor([[0.0], [0.25], [0.5], [0.75], [1.0]]))
    assert orbit_cameras(3, 0.0, 1.0, INTRINSICS).times is None


class _TimeModel:
    """Renders each camera as a [H, W, 3] image filled with its time, plus an output nobody asks for."""

    device = torch.device("cpu")

    def __init__(self):
        self.training = True
        self.seen = []

    def eval(self):
        self.training = False

    def get_outputs_for_camera(self, camera):
        self.seen.append(camera)
        h, w = int(camera.height), int(camera.width)
        return {"rgb": camera.times.reshape(1, 1, 1).expand(h, w, 3), "depth": torch.zeros(h, w, 1)}


def test_render_cameras_renders_each_camera_in_order_in_eval_mode():
    model = _TimeModel()
    cameras = orbit_cameras(4, 20.0, 1.5, INTRINSICS, times=[0.0, 0.5, 1.0, 1.5])
    frames = render_cameras(model, cameras, keys=("rgb", "uncertainty"))
    assert not model.training and len(model.seen) == 4
    assert all(set(f) == {"rgb"} for f in frames)  # uncertainty is not rendered, depth not asked for
    assert all(f["rgb"].shape == (18, 16, 3) and isinstance(f["rgb"], np.ndarray) for f in frames)
    np.testing.assert_array_equal([f["rgb"][0, 0, 0] for f in frames], [0.0, 0.5, 1.0, 1.5])
    for k, camera in enumerate(model.seen):
        assert torch.equal(camera.camera_to_worlds, cameras.camera_to_worlds[k : k + 1])


def test_e4d_turntable_sweeps_view_and_time_at_the_training_orbit(monkeypatch, tmp_path):
    import splatcore.video
    from efficient4d_ns.export import ExportE4D

    train = orbit_cameras(3, 30.0, 1.5, INTRINSICS)
    pipeline = SimpleNamespace(datamanager=SimpleNamespace(train_dataset=SimpleNamespace(cameras=train)))
    written = {}
    monkeypatch.setattr(splatcore.video, "write_video", lambda path, frames, fps: written.update({path.name: frames}))
    model = _TimeModel()
    command = ExportE4D(tmp_path / "config.yml", tmp_path / "out", turntable_frames=5, turntable_format="gif")
    assert command._write_turntable(tmp_path, pipeline=pipeline, model=model, duration=2.0) == ["turntable.gif"]
    np.testing.assert_allclose([f[0, 0, 0] for f in written["turntable.gif"]], [0.0, 0.5, 1.0, 1.0, 1.0])  # clipped
    c2w = torch.cat([camera.camera_to_worlds for camera in model.seen]).double().numpy()
    azimuth, elevation, radius = spherical_from_c2w_gl(c2w)
    np.testing.assert_allclose(azimuth, np.arange(5) * 72.0, atol=1e-4)
    np.testing.assert_allclose(elevation, 30.0, atol=1e-4)
    np.testing.assert_allclose(radius, 1.5, rtol=1e-6)
    assert torch.equal(torch.cat([camera.times for camera in model.seen]), torch.tensor([[0.0, 0.5, 1.0, 1.5, 2.0]]).T)
    assert all(int(camera.width) == 16 and float(camera.fy) == 21.0 for camera in model.seen)
