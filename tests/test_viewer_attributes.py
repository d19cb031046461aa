"""Every attribute the viewer reads at start-up exists: nerfstudio's `parse_object` walks the whole pipeline.

`ns-train` (viewer mode) and `ns-viewer --load-config` call `nerfstudio.viewer.utils.parse_object(pipeline, ...)`
before any training callback runs; it `getattr`s every name in `dir()` of the pipeline, its datamanager and its model,
so one property that raises stops the command.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch
from nerfstudio.viewer.utils import parse_object
from nerfstudio.viewer.viewer_elements import ViewerElement

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataset import FrameRecord, write_dataset


def _image(size: int = 8) -> np.ndarray:
    return np.full((size, size, 4), 128, np.uint8)


def _static_dataset(root):
    frames = [
        FrameRecord(f"images/o{i}.png", c2w_gl_from_spherical(90.0 * i, 10.0, 4.0), _image(), "train", orbit=i % 2)
        for i in range(4)
    ]
    frames.append(FrameRecord("images/e.png", c2w_gl_from_spherical(45.0, 0.0, 4.0), _image(), "test", orbit=-1))
    return write_dataset(root / "static", frames, intrinsics_from_fov(33.8, 8, 8), {"name": "t"})


def _dynamic_dataset(root):
    frames = [
        FrameRecord(f"images/t{t}_v{v}.png", c2w_gl_from_spherical(180.0 * v, 30, 1.5), _image(), time=t / 2, view=v)
        for t in range(3)
        for v in range(2)
    ]
    frames.append(FrameRecord("images/held.png", c2w_gl_from_spherical(90, 30, 1.5), _image(), "test", time=0.25))
    return write_dataset(root / "dynamic", frames, intrinsics_from_fov(49.13, 8, 8), {"name": "t"})


def _pipeline(method: str, data, test_mode: str = "val", **model_overrides):
    from importlib import import_module

    module, name = {
        "rigi-splat": ("rigi_ns.config", "rigi_splat"),
        "efficient4d": ("efficient4d_ns.config", "efficient4d"),
    }[method]
    config = getattr(import_module(module), name).config
    pipeline_config = replace(
        config.pipeline,
        datamanager=replace(config.pipeline.datamanager, data=data),
        model=replace(config.pipeline.model, num_random=32, eval_lpips_net="none", **model_overrides),
    )
    if method == "efficient4d":
        pipeline_config.datamanager.compute_confidence = False
    return pipeline_config.setup(device="cpu", test_mode=test_mode)


@pytest.mark.parametrize(
    "method, overrides, test_mode",
    [
        ("rigi-splat", {"lpips_lambda": 0.0}, "val"),  # ns-train
        ("rigi-splat", {"lpips_lambda": 0.0}, "test"),  # ns-viewer --load-config, ns-eval
        ("rigi-splat", {"lpips_lambda": 0.0, "dual_model": False}, "val"),
        ("efficient4d", {}, "val"),
        ("efficient4d", {}, "test"),
    ],
)
def test_viewer_can_read_every_attribute_of_a_freshly_built_pipeline(tmp_path, method, overrides, test_mode):
    data = _static_dataset(tmp_path) if method == "rigi-splat" else _dynamic_dataset(tmp_path)
    pipeline = _pipeline(method, data, test_mode, **overrides)
    # exactly the viewer's call (nerfstudio/viewer/viewer.py), before get_training_callbacks
    parse_object(pipeline, ViewerElement, "Custom Elements")
    modules = [pipeline, pipeline.datamanager, *pipeline.model.modules()]
    modules += [pipeline.datamanager.train_dataset, pipeline.datamanager.eval_dataset, pipeline.datamanager.dataparser]
    for module in modules:
        for name in dir(module):
            getattr(module, name)  # every attribute readable, underscored ones included (parse_object reads them)
    assert repr(pipeline) and str(pipeline.datamanager.config)  # a debugger or a log line may print them
    assert pipeline.model.num_points == 32
    assert torch.isfinite(pipeline.model.means).all()


def test_exporting_a_second_set_that_does_not_exist_fails_at_set_up_not_on_read(tmp_path):
    with pytest.raises(ValueError, match="export_model 2 needs dual_model"):
        _pipeline("rigi-splat", _static_dataset(tmp_path), lpips_lambda=0.0, dual_model=False, export_model=2)
