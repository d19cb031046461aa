"""The figures the README demo prints: ns-eval's PSNR/SSIM and the exported PLY's opacity statistics."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from splatcore.ply import SplatPly, write_splat_ply

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


def _demo_module():
    spec = importlib.util.spec_from_file_location("demo_script", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_asset_figures_read_eval_json_and_ply_opacities(tmp_path):
    opacities = np.array([0.1, 0.3, 0.6, 0.7, 0.9])
    n = opacities.size
    splats = SplatPly(
        means=np.zeros((n, 3)),
        sh_dc=np.zeros((n, 3)),
        sh_rest=np.zeros((n, 0, 3)),
        opacity_logits=np.log(opacities / (1 - opacities)),
        log_scales=np.full((n, 3), -3.0),
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
    )
    ply = write_splat_ply(tmp_path / "splat.ply", splats)
    eval_json = tmp_path / "eval.json"
    eval_json.write_text(json.dumps({"results": {"psnr": 31.5, "ssim": 0.93, "psnr_std": 1.0}}))
    figures = _demo_module().asset_figures(eval_json, ply)
    assert figures["psnr"] == 31.5 and figures["ssim"] == 0.93 and figures["gaussians"] == n
    assert figures["median_opacity"] == pytest.approx(0.6, abs=1e-6)
    assert figures["fraction_opacity_above_half"] == pytest.approx(0.6)
