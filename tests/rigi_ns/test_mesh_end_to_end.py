"""Meshes and `.splat` of a tiny rigi-splat run through the commands a user types (`ns-export tsdf`, `asset-export`)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from datagen.synthetic.scenes import InconsistencyConfig, make_static_dataset
from splatcore.orient import orient_splats
from splatcore.ply import read_splat_ply
from splatcore.splat_format import SH_C0, read_splat

BIN = Path(sys.executable).parent


def _run(*args, expect_ok=True, timeout=240):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [str(a) for a in args], check=False, capture_output=True, text=True, timeout=timeout, env=env
    )
    if expect_ok:
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _asset_export():
    """The console script once the package is (re)installed; the module otherwise."""
    script = BIN / "asset-export"
    return [script] if script.exists() else [sys.executable, "-m", "nsglue.asset_export"]


@pytest.fixture(scope="module")
def run_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("mesh_run")
    data = make_static_dataset(root / "data", seed=3, resolution=32, inconsistency=InconsistencyConfig(level="none"))
    _run(
        BIN / "ns-train", "rigi-splat-cpu", "--data", data, "--output-dir", root / "outputs",
        "--experiment-name", "e", "--timestamp", "t", "--vis", "tensorboard", "--max-num-iterations", 40,
        "--pipeline.model.num-random", 300,
    )  # fmt: skip
    return root / "outputs" / "e" / "rigi-splat-cpu" / "t" / "config.yml"


def _check_coloured_mesh(mesh: trimesh.Trimesh):
    assert len(mesh.faces) > 100
    assert np.all(np.abs(mesh.vertices) <= 1.0 + 1e-6)  # inside the fused volume
    radii = np.linalg.norm(mesh.vertices, axis=1)
    assert 0.05 < np.median(radii) < 0.9, "the object sits at the origin with a radius under 1"
    colours = mesh.visual.vertex_colors[:, :3].astype(float)
    assert colours.std() > 1.0, "vertex colours are all the same"


@pytest.mark.slow
def test_ns_export_tsdf(run_config, tmp_path):
    out = tmp_path / "tsdf"
    _run(
        BIN / "ns-export", "tsdf", "--load-config", run_config, "--output-dir", out,
        "--texture-method", "tsdf", "--resolution", 48,
    )  # fmt: skip
    _check_coloured_mesh(trimesh.load(out / "tsdf_mesh.ply", force="mesh"))


@pytest.mark.slow
def test_ns_export_poisson_names_the_mesh_exports(run_config, tmp_path):
    result = _run(BIN / "ns-export", "poisson", "--load-config", run_config, "--output-dir", tmp_path, expect_ok=False)
    assert result.returncode != 0
    assert "asset-export --load-config" in result.stderr and "--texture-method tsdf" in result.stderr


@pytest.fixture(scope="module")
def asset_dir(run_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("asset")
    _run(*_asset_export(), "--load-config", run_config, "--output-dir", out, "--resolution", 48)
    return out


@pytest.mark.slow
def test_asset_export_glb_and_obj(asset_dir):
    glb = trimesh.load(asset_dir / "mesh.glb", force="mesh")
    obj = trimesh.load(asset_dir / "mesh.obj", force="mesh")
    _check_coloured_mesh(glb)
    assert len(obj.faces) == len(glb.faces)
    np.testing.assert_allclose(obj.vertices, glb.vertices, atol=1e-6)
    np.testing.assert_array_equal(obj.visual.vertex_colors, glb.visual.vertex_colors)


@pytest.mark.slow
def test_asset_export_splat_matches_the_ply(run_config, asset_dir, tmp_path):
    """The .splat holds the Gaussians of `ns-export gaussian-splat`'s PLY, biggest × most opaque first, -y up."""
    _run(BIN / "ns-export", "gaussian-splat", "--load-config", run_config, "--output-dir", tmp_path)
    ply = read_splat_ply(tmp_path / "splat.ply")
    back = read_splat(asset_dir / "splat.splat")
    assert back.count == ply.count > 0
    key = np.exp(ply.log_scales.astype(np.float64).sum(1)) / (1 + np.exp(-ply.opacity_logits.astype(np.float64)))
    order = np.argsort(-key, kind="stable")
    np.testing.assert_allclose(back.means, orient_splats(ply, "-y").means[order], atol=1e-6)
    np.testing.assert_allclose(back.log_scales, ply.log_scales[order], atol=1e-6)
    colour = np.clip(0.5 + SH_C0 * ply.sh_dc[order], 0, 1)
    np.testing.assert_allclose(0.5 + SH_C0 * back.sh_dc, colour, atol=0.5 / 255 + 1e-6)
