"""The Efficient4D datamanager's confidence maps: one camera's frames per sequence, and a cache key that follows
the dataset's transforms.json, times and views wherever the images lie."""

import json

import numpy as np
import pytest

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataset import FrameRecord, write_dataset
from datagen.interpolate import Interpolator
from efficient4d_ns.datamanager import E4DDataManager, E4DDataManagerConfig

SIZE = 16


class BlendInterpolator(Interpolator):
    """Exact for a static camera: the average of the two frames."""

    def midpoint(self, frame_a, frame_b):
        return 0.5 * (frame_a + frame_b)

    def cache_key(self):
        return "blend"


def _dataset(root, with_view: bool, folder: str = "images/"):
    """2 views (opposite sides) x 5 times; each view sees a static texture of its own, so confidence is 1."""
    rng = np.random.default_rng(0)
    textures = [rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(2)]
    frames = [
        FrameRecord(
            f"{folder}t{t}_v{v}.png",
            c2w_gl_from_spherical(180.0 * v, 20, 1.5),
            textures[v],
            time=t / 4,
            view=v if with_view else None,
        )
        for t in range(5)
        for v in range(2)
    ]
    return write_dataset(root, frames, intrinsics_from_fov(49.13, SIZE, SIZE), {"name": "test"})


def _setup(data, monkeypatch):
    monkeypatch.setattr(E4DDataManager, "_make_interpolator", lambda self: BlendInterpolator())
    return E4DDataManagerConfig(data=data, cache_images="gpu").setup(device="cpu")


@pytest.mark.parametrize("with_view", [True, False])
def test_consistent_views_get_full_confidence_with_or_without_view_keys(tmp_path, monkeypatch, with_view):
    datamanager = _setup(_dataset(tmp_path / "ds", with_view), monkeypatch)
    assert datamanager.conf_rgb.shape == (10, SIZE, SIZE)
    # pooling both cameras into one time-sorted sequence compares each frame with the other camera's texture
    assert datamanager.conf_rgb.min().item() == 255 and datamanager.conf_ssim.min().item() == 255


def test_camera_groups_use_view_else_identical_pose():
    from efficient4d_ns.confidence import camera_groups

    poses = np.stack([c2w_gl_from_spherical(a, 20, 1.5) for a in (0, 180, 0, 180, 90)])
    assert camera_groups([-1, -1, -1, -1, -1], poses) == [0, 1, 0, 1, 2]
    assert camera_groups([3, 4, 3, 4, 3], poses) == [3, 4, 3, 4, 3]
    assert camera_groups([0, -1, 0, -1, -1], poses) == [0, 1, 0, 1, 2]
    nudged = poses.copy()
    nudged[2, 0, 3] += 1e-3  # a different camera, however close
    assert camera_groups([-1] * 5, nudged) == [0, 1, 2, 1, 3]


def test_changed_times_never_reuse_cached_maps_when_images_are_not_one_folder_deep(tmp_path, monkeypatch):
    data = _dataset(tmp_path / "ds", with_view=True, folder="")  # images beside transforms.json
    _setup(data, monkeypatch)
    assert len(list((data / ".cache").glob("confidence-*.npz"))) == 1
    transforms = data / "transforms.json"
    meta = json.loads(transforms.read_text())
    meta["frames"][0]["time"], meta["frames"][2]["time"] = meta["frames"][2]["time"], meta["frames"][0]["time"]
    transforms.write_text(json.dumps(meta))
    _setup(data, monkeypatch)
    assert len(list((data / ".cache").glob("confidence-*.npz"))) == 2  # a new key, not the stale maps
    assert not list(tmp_path.glob(".cache"))  # the cache lives in the dataset, not beside it
