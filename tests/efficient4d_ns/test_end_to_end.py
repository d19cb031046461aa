"""`ns-train efficient4d-cpu` on a tiny dynamic synthetic dataset, then `e4d-export` and `ns-export gaussian-splat`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh

from splatcore.orient import orient_splats
from splatcore.ply import read_splat_ply
from splatcore.splat_format import ROW_BYTES, read_splat

BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    result = subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.mark.slow
def test_train_then_export_per_timestamp_plys(tmp_path):
    from datagen.synthetic.inconsistency import InconsistencyConfig
    from datagen.synthetic.scenes import make_dynamic_dataset

    data = make_dynamic_dataset(
        tmp_path / "data", seed=3, resolution=32, num_times=3, inconsistency=InconsistencyConfig(level="medium"),
        progress=False,
    )  # fmt: skip
    _run(
        [
            str(BIN / "ns-train"), "efficient4d-cpu", "--data", str(data), "--output-dir", str(tmp_path / "outputs"),
            "--max-num-iterations", "30", "--vis", "tensorboard", "--steps-per-save", "30",
            "--pipeline.model.num-random", "300", "--pipeline.model.warmup-length", "10",
            "--pipeline.model.refine-every", "10",
        ],
        tmp_path,
    )  # fmt: skip
    config = next((tmp_path / "outputs").rglob("config.yml"))
    checkpoint = next(config.parent.rglob("*.ckpt"))
    # what ns-viewer / ns-export do with torch >= 2.6, after nerfstudio has loaded the plugin (which allow-lists the
    # numpy scalars nerfstudio's schedulers store)
    import nsglue  # noqa: F401

    torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert list((data / ".cache").glob("confidence-*.npz")), "confidence maps were not cached beside the dataset"
    export = tmp_path / "export"
    _run(
        [
            str(BIN / "e4d-export"), "--load-config", str(config), "--output-dir", str(export), "--num-times", "3",
            "--turntable", "--turntable-frames", "4", "--turntable-format", "gif",
        ],
        tmp_path,
    )  # fmt: skip
    manifest = json.loads((export / "times.json").read_text())
    assert [entry["time"] for entry in manifest.values()] == [0.0, 0.5, 1.0]
    for name, entry in manifest.items():
        splats = read_splat_ply(export / name)
        assert splats.count == entry["num_gaussians"] > 0
        assert np.all(np.isfinite(splats.means)) and np.all(np.abs(splats.means) < 5)
        np.testing.assert_allclose(np.linalg.norm(splats.quats, axis=-1), 1.0, atol=1e-5)
        # the .splat of the same time holds the same Gaussians, biggest × most opaque first, turned -y up (INRIA)
        splat_path = export / entry["splat"]
        assert splat_path.stat().st_size == ROW_BYTES * splats.count
        back = read_splat(splat_path)
        key = np.exp(splats.log_scales.astype(np.float64).sum(1)) / (1 + np.exp(-splats.opacity_logits))
        turned = orient_splats(splats, "-y").means
        np.testing.assert_allclose(back.means, turned[np.argsort(-key, kind="stable")], atol=1e-6)
    assert (export / "turntable.gif").stat().st_size > 0
    first = read_splat_ply(export / "frame_000.ply")  # time 0, +z up
    # the run exports without its dataset (camera snapshot beside config.yml), and a re-export replaces the set
    data.rename(tmp_path / "moved")
    _run(
        [
            str(BIN / "e4d-export"), "--load-config", str(config), "--output-dir", str(export), "--num-times", "2",
            "--up", "y",
        ],
        tmp_path,
    )  # fmt: skip
    assert sorted(p.name for p in export.iterdir()) == [
        "frame_000.ply", "frame_000.splat", "frame_001.ply", "frame_001.splat", "times.json"
    ]  # fmt: skip
    # --up y turns the first export's +z up onto +y (three.js / PlayCanvas) and says so in the header
    assert b"comment Vertical Axis: y\n" in (export / "frame_000.ply").read_bytes()[:1024]
    np.testing.assert_allclose(
        read_splat_ply(export / "frame_000.ply").means, orient_splats(first, "y").means, atol=1e-6
    )
    data = (tmp_path / "moved").rename(data)
    _run(
        [
            str(BIN / "ns-export"), "gaussian-splat", "--load-config", str(config), "--output-dir", str(tmp_path / "ns"),
        ],
        tmp_path,
    )  # fmt: skip
    assert read_splat_ply(tmp_path / "ns" / "splat.ply").count > 0
    # a mesh of the slice at export_time, fused from the distinct training views
    script = BIN / "asset-export"
    asset_export = [str(script)] if script.exists() else [sys.executable, "-m", "nsglue.asset_export"]
    _run(
        [*asset_export, "--load-config", str(config), "--output-dir", str(tmp_path / "asset"), "--resolution", "32"],
        tmp_path,
    )
    mesh = trimesh.load(tmp_path / "asset" / "mesh.glb", force="mesh")
    assert len(mesh.faces) > 0 and mesh.visual.vertex_colors.shape == (len(mesh.vertices), 4)
    assert read_splat(tmp_path / "asset" / "splat.splat").count > 0
