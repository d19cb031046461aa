"""Export of time slices: PLY values and counts, the export as a set (turntable: tests/nsglue/test_turntable.py)."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from efficient4d_ns import gaussians4d as g4
from efficient4d_ns.export import SH_C0, splats_at_time, write_export
from efficient4d_ns.export import main as export_main
from splatcore.atomic import leftover_siblings
from splatcore.ply import read_splat_ply, write_splat_ply


def _params():
    n = 4
    identity = torch.tensor([1.0, 0, 0, 0]).repeat(n, 1)
    return {
        "means": torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [0, 0.2, 0], [0, 0, 0.3]]),
        "scales": torch.log(torch.tensor([[0.1, 0.2, 0.3]])).repeat(n, 1),
        "quats": identity.clone(),
        "features_dc": torch.zeros(n, 3),
        "features_rest": torch.zeros(n, 0, 3),
        "opacities": torch.zeros(n, 1),  # σ = 0.5
        "times": torch.tensor([[0.5], [0.5], [0.0], [1.0]]),
        "scales_t": torch.log(torch.full((n, 1), 0.1)),
        "quats_r": identity.clone(),
        "features_time": torch.zeros(n, 0, 3),
    }


def test_slice_export_round_trips_through_ply(tmp_path):
    params = _params()
    splats = splats_at_time(params, t=0.5)
    # Gaussians at t=0 and t=1 have p(0.5) = exp(−0.5·0.25/0.01) ≈ 4e-6 < 0.05: dropped
    assert splats.count == 2
    path = write_splat_ply(tmp_path / "frame.ply", splats)
    back = read_splat_ply(path)
    assert back.count == 2
    np.testing.assert_allclose(back.means, [[0, 0, 0], [0.1, 0, 0]], atol=1e-7)
    np.testing.assert_allclose(np.sort(np.exp(back.log_scales), axis=1), [[0.1, 0.2, 0.3]] * 2, rtol=1e-5)
    np.testing.assert_allclose(back.opacity_logits, 0.0, atol=1e-6)  # σ(0)·p = 0.5 at the Gaussians' own time
    np.testing.assert_allclose(back.sh_dc, 0.0, atol=1e-7)  # colour 0.5 ↔ SH DC 0
    # the stored rotation and scales rebuild the sliced covariance
    cov4 = g4.covariance_4d(params["scales"], params["scales_t"], params["quats"], params["quats_r"])
    _, covars, _ = g4.slice_at_time(params["means"], params["times"], cov4, 0.5)
    w, x, y, z = torch.from_numpy(back.quats).unbind(-1)
    rot = torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )
    scales = torch.exp(torch.from_numpy(back.log_scales))
    torch.testing.assert_close(
        rot @ torch.diag_embed(scales**2) @ rot.transpose(-1, -2), covars[:2], atol=1e-6, rtol=1e-5
    )


def test_opacity_carries_the_temporal_marginal():
    params = _params()
    splats = splats_at_time(params, t=0.55)
    expected = 0.5 * math.exp(-0.5 * 0.05**2 / 0.01)
    np.testing.assert_allclose(1 / (1 + np.exp(-splats.opacity_logits)), expected, rtol=1e-5)
    params["features_dc"][:] = 2.0
    rgb = 0.5 + SH_C0 * splats_at_time(params, t=0.5).sh_dc
    np.testing.assert_allclose(rgb, 1 / (1 + math.exp(-2.0)), rtol=1e-5)


# ---- the export as a set: options, atomic replacement, independence from the dataset ------------------------------

FRAME_NAMES = [f"frame_{i:03d}.ply" for i in range(6)]


def _slices(count: int, shift: float = 0.0):
    return (
        [(i / max(count - 1, 1), splats_at_time(_params(), 0.5)) for i in range(count)]
        if not shift
        else [(t, dataclasses.replace(s, means=s.means + shift)) for t, s in _slices(count)]
    )


def test_reexport_replaces_the_whole_set(tmp_path):
    out = tmp_path / "export"
    write_export(out, _slices(6))
    manifest, extra = write_export(
        out, _slices(2), lambda folder: [(folder / "turntable.gif").write_text("x") and "turntable.gif"]
    )
    assert sorted(p.name for p in out.iterdir()) == ["frame_000.ply", "frame_001.ply", "times.json", "turntable.gif"]
    assert json.loads((out / "times.json").read_text()) == manifest and list(manifest) == FRAME_NAMES[:2]
    assert extra == ["turntable.gif"] and [p.name for p in tmp_path.iterdir()] == ["export"]


KILL_SCRIPT = """
import sys, time
from pathlib import Path
import numpy as np
from efficient4d_ns.export import write_export
from splatcore.ply import SplatPly

def slow():
    for i in range(6):
        if i == 3:
            print("three frames written", flush=True)
            time.sleep(120)
        n = 5
        yield i / 5, SplatPly(np.ones((n, 3), np.float32), np.zeros((n, 3), np.float32), np.zeros((n, 0, 3), np.float32),
                              np.zeros(n, np.float32), np.zeros((n, 3), np.float32), np.tile(np.float32([1, 0, 0, 0]), (n, 1)))

write_export(Path(sys.argv[1]), slow())
"""


def test_killed_export_leaves_the_previous_export_intact(tmp_path):
    out = tmp_path / "export"
    write_export(out, _slices(4))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "three frames written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the earlier export, byte for byte
    (leftover,) = leftover_siblings(out)  # the unfinished set, hidden, without a manifest
    assert sorted(p.name for p in leftover.iterdir()) == FRAME_NAMES[:3]
    write_export(out, _slices(2))  # the next export is complete and alone
    assert sorted(p.name for p in out.iterdir()) == ["frame_000.ply", "frame_001.ply", "times.json"]


def _run_directory(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A dataset and a run directory as `ns-train efficient4d-cpu` leaves them (config.yml, camera snapshot,
    checkpoint), built without training. Returns (dataset, config.yml, the saved Gaussian parameters)."""
    import copy

    import yaml

    from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
    from datagen.dataset import FrameRecord, write_dataset
    from efficient4d_ns.config import efficient4d_cpu

    image = np.full((16, 16, 3), 120, np.uint8)
    frames = [
        FrameRecord(f"images/t{t}_v{v}.png", c2w_gl_from_spherical(180.0 * v, 20, 1.5), image, time=t / 2, view=v)
        for t in range(3)
        for v in range(2)
    ]
    data = write_dataset(tmp_path / "data", frames, intrinsics_from_fov(49.13, 16, 16), {"name": "test"})
    config = copy.deepcopy(efficient4d_cpu.config)
    config.pipeline.datamanager.data = data
    config.pipeline.datamanager.compute_confidence = False
    config.pipeline.model.num_random = 64
    config.pipeline.model.eval_lpips_net = "none"
    run_dir = tmp_path / "outputs" / "data" / "efficient4d-cpu" / "run"
    (run_dir / "nerfstudio_models").mkdir(parents=True)
    pipeline = config.pipeline.setup(device="cpu", test_mode="val")
    pipeline.datamanager.train_dataparser_outputs.save_dataparser_transform(run_dir / "dataparser_transforms.json")
    with torch.no_grad():
        pipeline.model.gauss_params["means"].mul_(0.5)  # differs from any fresh initialisation
    saved = {k: v.detach().clone() for k, v in pipeline.model.gauss_params.items()}
    torch.save({"pipeline": pipeline.state_dict(), "step": 7}, run_dir / "nerfstudio_models" / "step-000000007.ckpt")
    (run_dir / "config.yml").write_text(yaml.dump(config))
    return data, run_dir / "config.yml", saved


def test_export_reads_the_run_not_the_moved_dataset(tmp_path, capsys):
    data, config, saved = _run_directory(tmp_path)
    data.rename(tmp_path / "moved")
    out = tmp_path / "export"
    args = ["--load-config", str(config), "--output-dir", str(out), "--num-times", "3", "--turntable",
            "--turntable-frames", "2", "--turntable-format", "gif"]  # fmt: skip
    assert export_main(args) == 0, capsys.readouterr().err
    manifest = json.loads((out / "times.json").read_text())
    assert [entry["time"] for entry in manifest.values()] == [0.0, 0.5, 1.0]
    expected = splats_at_time(saved, 0.0)  # the checkpoint's Gaussians, not a fresh initialisation
    np.testing.assert_allclose(read_splat_ply(out / "frame_000.ply").means, expected.means, atol=1e-6)
    assert (out / "turntable.gif").stat().st_size > 0
    assert f"Wrote 3 PLY and .splat files to {out}" in capsys.readouterr().out
    assert manifest["frame_002.ply"]["splat"] == "frame_002.splat" and (out / "frame_002.splat").is_file()

    (config.parent / "dataset_cameras.json").unlink()  # a run from before the snapshot existed
    assert export_main(args) == 1
    error = capsys.readouterr().err
    assert f"has no dataset_cameras.json (runs made before this version do not), and its dataset {data} does" in error
    assert "Traceback" not in error and json.loads((out / "times.json").read_text()) == manifest
