"""The pipeline's evaluation report: a missing LPIPS is named for ns-eval's JSON, never handed to scalar writers."""

from types import SimpleNamespace

import pytest
from nerfstudio.pipelines.base_pipeline import VanillaPipeline
from torch import nn

from nsglue.pipeline import ReportingPipeline


def _pipeline(monkeypatch, reason):
    monkeypatch.setattr(VanillaPipeline, "get_average_eval_image_metrics", lambda self, *a, **k: {"psnr": 20.0})
    pipeline = ReportingPipeline.__new__(ReportingPipeline)
    nn.Module.__init__(pipeline)  # only the report is under test: no datamanager, no model to build
    pipeline._model = SimpleNamespace(lpips_unavailable=reason)  # what the `model` property unwraps
    return pipeline


def test_ns_eval_report_names_why_lpips_is_missing(monkeypatch):
    metrics = _pipeline(monkeypatch, "no backbone").get_average_eval_image_metrics(get_std=True)
    assert metrics == {"psnr": 20.0, "lpips_unavailable": "no backbone"}


@pytest.mark.parametrize("reason, step", [("no backbone", 100), (None, None)])
def test_trainer_evaluation_and_available_lpips_get_numbers_only(monkeypatch, reason, step):
    metrics = _pipeline(monkeypatch, reason).get_average_eval_image_metrics(step=step)
    assert metrics == {"psnr": 20.0}
