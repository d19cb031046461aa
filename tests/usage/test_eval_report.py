"""`ns-eval` as the README writes it: PSNR and SSIM in the JSON, and when LPIPS cannot be computed, the reason."""

from __future__ import annotations

import json
import math

import pytest

from tests.usage import forms
from tests.usage.tools import run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("usage")]


def test_ns_eval_writes_psnr_ssim_and_why_lpips_is_missing(workspace, tmp_path):
    run_dir = workspace.run_dir("rigi-splat")
    output = tmp_path / "eval.json"
    # an empty torch hub: the LPIPS backbone is absent, as on any machine that never downloaded it
    run(
        forms.command_line(forms.EVAL, config=run_dir / "config.yml", json=output),
        cwd=tmp_path,
        TORCH_HOME=str(tmp_path / "empty-hub"),
    )
    report = json.loads(output.read_text())
    assert report["method_name"] == "rigi-splat"
    results = report["results"]
    assert 3.0 < results["psnr"] < 60.0 and math.isfinite(results["psnr_std"])
    assert 0.0 < results["ssim"] <= 1.0
    assert "lpips" not in results
    reason = results["lpips_unavailable"]
    assert "alexnet-owt-7be5be79.pth" in reason and str(tmp_path / "empty-hub") in reason
