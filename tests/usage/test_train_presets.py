"""`ns-train` with each preset as the README writes it, in the preset's default vis mode (the viewer for the paper
presets), only the length of training shortened; and the README's ablation options on the same presets."""

from __future__ import annotations

import shlex
from types import SimpleNamespace

import pytest
import torch
import yaml

from tests.usage import forms
from tests.usage.conftest import PRESET_FORM, TRAIN_ITERATIONS
from tests.usage.tools import run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("usage")]


def _load_config(path):
    # config.yml holds python objects (paths, dataclasses), as nerfstudio writes it
    return yaml.load(path.read_text(), Loader=yaml.Loader)


@pytest.mark.parametrize("preset", list(PRESET_FORM))
def test_ns_train_preset_runs_in_its_default_vis_mode(workspace, preset):
    run_dir = workspace.run_dir(preset)
    config = _load_config(run_dir / "config.yml")
    expected_vis = "tensorboard" if preset == "rigi-splat-cpu" else "viewer"
    assert config.vis == expected_vis, "the test must keep the preset's own vis mode"
    assert config.max_num_iterations == TRAIN_ITERATIONS
    checkpoint = run_dir / "nerfstudio_models" / f"step-{TRAIN_ITERATIONS - 1:09d}.ckpt"
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    assert state["step"] == TRAIN_ITERATIONS - 1
    means = state["pipeline"]["_model.gauss_params.means"]
    assert means.shape[0] > 0 and torch.isfinite(means).all()
    if expected_vis == "viewer":
        # the viewer was built (nerfstudio reads every attribute of the pipeline then) and served on our port
        assert f"http://127.0.0.1:{workspace.ports[preset]}" in workspace.logs[preset]
    if preset.startswith("efficient4d"):
        assert list((workspace.dataset("dynamic") / ".cache").glob("confidence-*.npz")), "no cached confidence maps"


def test_paper_preset_without_lpips_weights_stops_at_start_up_naming_the_fix(workspace, tmp_path):
    words = forms.command_line(forms.RIGI_PAPER, data=workspace.dataset("static")) + [
        "--output-dir", tmp_path, "--max-num-iterations", TRAIN_ITERATIONS,
        "--viewer.websocket-host", "127.0.0.1", "--viewer.quit-on-train-completion", "True",
    ]  # fmt: skip
    result = run(words, cwd=tmp_path, expect_success=False, TORCH_HOME=str(tmp_path / "no-weights"))
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "alexnet-owt-7be5be79.pth" in output and "--pipeline.model.lpips-lambda 0" in output
    assert not list(tmp_path.rglob("*.ckpt")), "nothing may be trained without the LPIPS backbone"


@pytest.mark.parametrize(
    "form, check",
    [
        (forms.RIGI_SINGLE, lambda p: not p.model.config.dual_model and not hasattr(p.model, "gauss_params_2")),
        (forms.RIGI_DETACHED, lambda p: p.model.config.detach_uncertainty and p.model.config.uncertainty_lambda == 5),
        (forms.E4D_NO_CONFIDENCE, lambda p: not p.model.config.use_confidence),
        (
            forms.E4D_RELEASED,
            lambda p: p.datamanager.config.confidence_mode == "released" and p.datamanager.conf_rgb is not None,
        ),
    ],
    ids=["rigi-single-model", "rigi-detached-uncertainty", "e4d-no-confidence", "e4d-released-confidence"],
)
def test_readme_ablation_options_parse_build_and_train(workspace, monkeypatch, form, check):
    """Parsed by ns-train's own command line, built as the trainer builds them, and three training iterations taken
    with the trainer's callbacks and optimizers. In-process to stay cheap (the presets' start-up, viewer included, is
    what the test above runs); the paper presets' LPIPS term gets a randomly initialised backbone, since the
    pretrained one is not on disk."""
    import tyro
    from nerfstudio.configs.method_configs import AnnotatedBaseConfigUnion
    from nerfstudio.engine.callbacks import TrainingCallbackAttributes, TrainingCallbackLocation
    from nerfstudio.engine.optimizers import Optimizers

    import splatcore.lpips

    monkeypatch.setattr(splatcore.lpips, "load_lpips", splatcore.lpips.random_lpips_for_tests)
    kind = "static" if "rigi" in form else "dynamic"
    words = forms.command_line(form, data=workspace.dataset(kind))
    config = tyro.cli(AnnotatedBaseConfigUnion, args=words[1:])
    config.pipeline.datamanager.data = config.data  # what ns-train does with --data
    pipeline = config.pipeline.setup(device="cpu", test_mode="val")
    assert check(pipeline), shlex.join(words)
    optimizers = Optimizers(config.optimizers.copy(), pipeline.get_param_groups())
    trainer = SimpleNamespace(config=config)  # the callbacks read the training length from it
    callbacks = pipeline.get_training_callbacks(TrainingCallbackAttributes(optimizers, None, pipeline, trainer))
    start = {name: param.detach().clone() for name, param in pipeline.model.named_parameters()}
    for step in range(3):
        for callback in callbacks:
            callback.run_callback_at_location(step, TrainingCallbackLocation.BEFORE_TRAIN_ITERATION)
        optimizers.zero_grad_all()
        _, loss_dict, _ = pipeline.get_train_loss_dict(step)
        loss = sum(loss_dict.values())
        assert torch.isfinite(loss), loss_dict
        loss.backward()
        optimizers.optimizer_step_all()
        optimizers.scheduler_step_all(step)
        for callback in callbacks:
            callback.run_callback_at_location(step, TrainingCallbackLocation.AFTER_TRAIN_ITERATION)
    moved = [
        name
        for name, param in pipeline.model.named_parameters()
        if name in start and param.shape == start[name].shape and not torch.equal(param, start[name])
    ]
    assert any("means" in name for name in moved), "training did not move the Gaussians"
