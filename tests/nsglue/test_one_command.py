"""`image-to-asset` and `video-to-asset` end to end on CPU: the FakeGenerator stands in for SV3D / SyncDreamer-T
(stage 1 runs in this process), ns-train with a -cpu preset for a few steps and the exports run as subprocesses;
a second run keeps every stage; the summary reads back. (Redoing after a crash, a corrupt record or changed
options is tested on the bookkeeping alone in test_pipeline_stages.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import datagen.generate_cli as generate_cli
from datagen.generators import FakeGenerator
from datagen.validate import validate_dataset
from nsglue import one_command
from nsglue.pipeline_stages import read_summary, record_path
from splatcore.ply import read_splat_ply

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("one_command")]


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(generate_cli, "load_sv3d_generator", lambda s: FakeGenerator("sv3d", resolution=32))
    monkeypatch.setattr(
        generate_cli, "load_syncdreamer_t_generator", lambda s: FakeGenerator("syncdreamer", resolution=32)
    )


def test_image_to_asset(tmp_path, fakes, capsys):
    image = np.zeros((40, 40, 4), np.uint8)
    image[8:32, 10:30] = (40, 160, 90, 255)
    Image.fromarray(image).save(tmp_path / "toy.png")
    out = tmp_path / "toy"
    args = [str(tmp_path / "toy.png"), "--output-dir", str(out), "--weights", "tiny-random", "--resolution", "32"]
    args += ["--method", "rigi-splat-cpu", "--max-num-iterations", "10", "--mesh-resolution", "16"]
    args += ["--turntable-frames", "3", "--turntable-size", "32"]
    assert one_command.image_main(args) == 0, capsys.readouterr().err
    summary = read_summary(out)
    assert [s["status"] for s in summary["stages"]] == ["ran"] * 3
    outputs = summary["outputs"]
    assert validate_dataset(out / outputs["dataset.dataset"]) == []
    assert read_splat_ply(out / outputs["export.ply"]).means.shape[1] == 3
    for key in (
        "dataset.generated_views",
        "export.splat",
        "export.mesh_glb",
        "export.mesh_obj",
        "export.turntable_mp4",
        "export.turntable_gif",
    ):
        assert (out / outputs[key]).stat().st_size > 0, key
    assert outputs["train.config"].endswith("rigi-splat-cpu/run/config.yml")
    printed = capsys.readouterr().out
    assert "[2/3] train" in printed and "done in" in printed

    mtimes = {name: record_path(out, name).stat().st_mtime_ns for name in ("dataset", "train", "export")}
    assert one_command.image_main(args) == 0
    assert [s["status"] for s in read_summary(out)["stages"]] == ["skipped"] * 3
    assert {name: record_path(out, name).stat().st_mtime_ns for name in mtimes} == mtimes


def test_video_to_asset(tmp_path, fakes, capsys):
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(6):
        frame = np.full((32, 32, 3), 255, np.uint8)
        frame[8:24, 4 + 2 * i : 14 + 2 * i] = (200, 40, 40)
        Image.fromarray(frame).save(clip / f"{i}.png")
    out = tmp_path / "anim"
    args = [str(clip), "--output-dir", str(out), "--checkpoint", "tiny-random", "--clip-weights", "tiny-random"]
    args += ["--frames", "3"]
    args += ["--method", "efficient4d-cpu", "--max-num-iterations", "10", "--num-times", "3"]
    args += ["--turntable-frames", "3"]
    assert one_command.video_main(args) == 0, capsys.readouterr().err
    summary = read_summary(out)
    assert [s["status"] for s in summary["stages"]] == ["ran"] * 3
    meta = json.loads((out / "dataset" / "transforms.json").read_text())
    assert len({f["time"] for f in meta["frames"]}) == 4 * 3 - 3
    times = json.loads((out / summary["outputs"]["export.times"]).read_text())
    assert len(times) == 3
    assert (out / summary["outputs"]["export.turntable_mp4"]).stat().st_size > 0
    assert (out / summary["outputs"]["dataset.generated_views"]).stat().st_size > 0
