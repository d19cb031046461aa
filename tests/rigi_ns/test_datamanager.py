"""RIGI schedule: resolution 0.25/0.5/1.0 switching at 20 %/50 %, orbits entering at 0/50/80 %."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Type

import numpy as np
import pytest
import torch
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.data.dataparsers.base_dataparser import DataParser, DataParserConfig, DataparserOutputs
from nerfstudio.data.scene_box import SceneBox
from PIL import Image

from rigi_ns.datamanager import RigiDatamanagerConfig, num_active_orbits_at, resize_area, resolution_scale_at

ORBITS = [0, 0, 1, 1, 2, 2, -1]  # the last frame has no orbit: always in


@dataclass
class _TinyParserConfig(DataParserConfig):
    _target: Type = field(default_factory=lambda: _TinyParser)
    data: Path = Path(".")


class _TinyParser(DataParser):
    """Seven 32x32 RGBA frames with per-frame orbits, shaped like the generated-data parser's outputs."""

    def _generate_dataparser_outputs(self, split="train", **kwargs):
        paths = []
        for i in range(len(ORBITS)):
            path = self.config.data / f"{i}.png"
            if not path.exists():
                Image.fromarray(np.full((32, 32, 4), 40 * i, dtype=np.uint8)).save(path)
            paths.append(path)
        c2w = torch.eye(4)[:3].repeat(len(ORBITS), 1, 1)
        cameras = Cameras(camera_to_worlds=c2w, fx=40.0, fy=40.0, cx=16.0, cy=16.0, width=32, height=32)
        meta = {"frame_meta": {"orbit": torch.tensor(ORBITS)}}
        return DataparserOutputs(
            paths, cameras, scene_box=SceneBox(torch.tensor([[-1.0] * 3, [1.0] * 3])), metadata=meta
        )


def test_schedule_functions_fire_at_paper_fractions():
    total = 5000
    scales = [resolution_scale_at(s, total, (0.2, 0.5), (0.25, 0.5, 1.0)) for s in (0, 999, 1000, 2499, 2500, 4999)]
    assert scales == [0.25, 0.25, 0.5, 0.5, 1.0, 1.0]
    orbits = [num_active_orbits_at(s, total, (0.0, 0.5, 0.8)) for s in (0, 2499, 2500, 3999, 4000)]
    assert orbits == [1, 1, 2, 2, 3]
    with pytest.raises(ValueError, match="one more entry"):
        resolution_scale_at(0, total, (0.2,), (0.25, 0.5, 1.0))


def test_resize_area_averages_blocks():
    image = torch.arange(16, dtype=torch.float32).reshape(4, 4, 1)
    out = resize_area(image, 2, 2)
    torch.testing.assert_close(out[..., 0], torch.tensor([[2.5, 4.5], [10.5, 12.5]]))


def test_datamanager_serves_orbits_and_resolutions_on_schedule(tmp_path):
    config = RigiDatamanagerConfig(dataparser=_TinyParserConfig(data=tmp_path), schedule_total_steps=100)
    dm = config.setup(device="cpu", test_mode="val")
    seen = {}
    for step in range(100):
        camera, data = dm.next_train(step)
        idx = camera.metadata["cam_idx"]
        seen.setdefault(num_active_orbits_at(step, 100, (0.0, 0.5, 0.8)), set()).add(ORBITS[idx])
        side = 8 if step < 20 else 16 if step < 50 else 32
        assert data["image"].shape[:2] == (side, side), step
        assert int(camera.width.item()) == side and camera.fx.item() == pytest.approx(40.0 * side / 32)
        # labels keep their alpha channel (the model composites them onto its background)
        assert data["image"].shape[2] == 4
    assert seen[1] == {0, -1}
    assert seen[2] == {0, 1, -1}
    assert seen[3] == {0, 1, 2, -1}
    # the cached cameras are not rescaled in place
    assert int(dm.train_cameras.width[0].item()) == 32


def test_schedule_length_comes_from_the_trainer_when_not_configured(tmp_path):
    from types import SimpleNamespace

    from nerfstudio.engine.callbacks import TrainingCallbackAttributes

    dm = RigiDatamanagerConfig(dataparser=_TinyParserConfig(data=tmp_path)).setup(device="cpu", test_mode="val")
    assert dm.total_steps is None  # readable before training (the viewer reads it)
    with pytest.raises(ValueError, match="schedule-total-steps"):
        dm.next_train(0)
    trainer = SimpleNamespace(config=SimpleNamespace(max_num_iterations=40))
    dm.get_training_callbacks(
        TrainingCallbackAttributes(optimizers=None, grad_scaler=None, pipeline=None, trainer=trainer)
    )
    assert dm.total_steps == 40
    camera, data = dm.next_train(0)
    assert data["image"].shape[:2] == (8, 8)  # quarter resolution at step 0 of 40
