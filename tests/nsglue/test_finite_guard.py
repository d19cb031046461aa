"""Training stops at the first non-finite loss term or parameter with the step, the group and a hint, for both
methods' models (the check is installed by the shared model's training callbacks)."""

import math
from types import SimpleNamespace

import pytest
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.data.scene_box import SceneBox
from nerfstudio.engine.callbacks import TrainingCallbackAttributes, TrainingCallbackLocation

from datagen.cameras import c2w_gl_from_spherical
from efficient4d_ns.model import Efficient4DModelConfig
from nsglue.finite_guard import NonFiniteTrainingError, all_usable
from rigi_ns.model import RigiSplatModelConfig

SIDE = 16
BEFORE, AFTER = TrainingCallbackLocation.BEFORE_TRAIN_ITERATION, TrainingCallbackLocation.AFTER_TRAIN_ITERATION


def _camera() -> Cameras:
    c2w = torch.from_numpy(c2w_gl_from_spherical(30.0, 20.0, 3.0)[None, :3, :4]).float()
    focal = 0.5 * SIDE / math.tan(math.radians(40.0) / 2)
    return Cameras(
        camera_to_worlds=c2w, fx=focal, fy=focal, cx=SIDE / 2, cy=SIDE / 2, width=SIDE, height=SIDE,
        camera_type=CameraType.PERSPECTIVE, times=torch.tensor([[0.5]]),
    )  # fmt: skip


def _model(method: str):
    box = SceneBox(aabb=torch.tensor([[-1.0] * 3, [1.0] * 3]))
    if method == "rigi-splat":
        config = RigiSplatModelConfig(num_random=64, lpips_lambda=0.0, eval_lpips_net="none")
    else:
        config = Efficient4DModelConfig(num_random=64, eval_lpips_net="none")
    model = config.setup(scene_box=box, num_train_data=4, metadata={})
    optimizers = {k: torch.optim.Adam(v, lr=1e-3) for k, v in model.get_param_groups().items()}
    attributes = TrainingCallbackAttributes(SimpleNamespace(optimizers=optimizers), None, None, None)
    callbacks = model.get_training_callbacks(attributes)
    for callback in callbacks:
        if BEFORE in callback.where_to_run and callback.func.__name__ == "step_cb":
            callback.run_callback_at_location(0, BEFORE)  # gives the model its optimizers
    guard = [c for c in callbacks if c.func.__name__ in ("check_start", "check_step")]
    assert len(guard) == 2, "the finite check is not among the model's training callbacks"
    return model, guard


def _run(guard, location, step):
    for callback in guard:
        callback.run_callback_at_location(step, location)


def _losses(model, image=None):
    model.train()
    outputs = model.get_outputs(_camera())
    image = torch.full((SIDE, SIDE, 3), 0.5) if image is None else image
    return model.get_loss_dict(outputs, {"image": image})


@pytest.mark.parametrize("method", ["rigi-splat", "efficient4d"])
def test_nan_parameter_stops_with_step_and_group(method):
    model, guard = _model(method)
    _run(guard, BEFORE, 0)
    _losses(model)
    _run(guard, AFTER, 5)  # all finite: nothing happens
    _losses(model)
    with torch.no_grad():  # as a too-large update leaves them
        model.gauss_params["scales"][3, 1] = math.nan
        model.gauss_params["scales"][7, 0] = math.inf
    with pytest.raises(NonFiniteTrainingError) as raised:
        _run(guard, AFTER, 6)
    message = str(raised.value)
    assert "training stopped at step 6: parameter group 'scales' holds 2 NaN or infinite values of 192" in message
    assert "--optimizers.scales.optimizer.lr, now 0.001" in message and "datagen validate" in message


@pytest.mark.parametrize("method", ["rigi-splat", "efficient4d"])
def test_infinite_loss_stops_with_step_and_term(method):
    model, guard = _model(method)
    image = torch.full((SIDE, SIDE, 3), 0.5)
    image[2, 3] = math.inf  # a label value that is not a pixel
    losses = _losses(model, image)
    name = next(k for k, v in losses.items() if not torch.isfinite(v))
    with pytest.raises(NonFiniteTrainingError, match=f"training stopped at step 12: the loss term '{name}' is"):
        _run(guard, AFTER, 12)


@pytest.mark.parametrize("method", ["rigi-splat", "efficient4d"])
def test_non_finite_initial_parameters_stop_before_the_first_step(method):
    model, guard = _model(method)
    with torch.no_grad():
        model.gauss_params["means"][0] = math.nan
    with pytest.raises(NonFiniteTrainingError, match="cannot start \\(step 0\\): parameter group 'means' holds 3"):
        _run(guard, BEFORE, 0)


def test_usable_values_include_log_scales_whose_exponential_is_finite():
    assert all_usable([]) and all_usable([("means", torch.zeros(3)), ("scales", torch.full((2, 3), 80.0))])
    assert not all_usable([("means", torch.zeros(3)), ("opacities", torch.tensor([1.0, math.nan]))])
    assert not all_usable([("scales_2", torch.tensor([[1e30, 0.0, 0.0]]))])  # finite, but exp() is inf
    assert all_usable([("means", torch.tensor([[1e30, 0.0, 0.0]]))])
