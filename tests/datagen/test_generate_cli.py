"""The generator commands with the in-memory FakeGenerator in place of SV3D / SyncDreamer-T: datasets that
validate, with the right number of times, the framed inputs kept, and clear messages for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import datagen.generate_cli as generate_cli
from datagen.cli import main
from datagen.generators import FakeGenerator
from datagen.validate import validate_dataset

REPO = Path(__file__).parents[2]


@pytest.fixture
def fake_generators(monkeypatch):
    """Both loaders return FakeGenerators; records what settings they were given."""
    seen = {}

    def sv3d(settings):
        seen["sv3d"] = settings
        return FakeGenerator("sv3d", resolution=16)

    def syncdreamer(settings):
        seen["syncdreamer"] = settings
        return FakeGenerator("syncdreamer", resolution=16)

    monkeypatch.setattr(generate_cli, "load_sv3d_generator", sv3d)
    monkeypatch.setattr(generate_cli, "load_syncdreamer_t_generator", syncdreamer)
    return seen


def picture(tmp_path, name="cup.png"):
    image = np.zeros((40, 30, 4), np.uint8)
    image[5:35, 8:20] = (30, 120, 220, 255)
    path = tmp_path / name
    Image.fromarray(image).save(path)
    return path


def clip_folder(tmp_path, num=8):
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in range(num):
        frame = np.full((32, 32, 3), 255, np.uint8)
        frame[8:24, 2 + 2 * i : 10 + 2 * i] = (200, 40, 40)
        Image.fromarray(frame).save(folder / f"frame{i}.png")
    return folder


def test_image_to_3d_writes_a_valid_dataset(tmp_path, fake_generators, capsys):
    out = tmp_path / "obj"
    args = ["image-to-3d", str(picture(tmp_path)), "--output-dir", str(out), "--weights", "tiny-random"]
    assert main([*args, "--resolution", "32", "--steps", "3", "--seed", "5", "--frame-ratio", "0.5"]) == 0
    assert fake_generators["sv3d"].steps == 3 and fake_generators["sv3d"].resolution == 32
    assert validate_dataset(out) == []
    meta = json.loads((out / "transforms.json").read_text())
    assert len(meta["frames"]) == 63 and meta["generator"]["seed"] == 5
    assert meta["generator"]["input"]["frame_ratio"] == 0.5
    framed = np.asarray(Image.open(out / "input" / "input.png"))
    assert framed.shape == (32, 32, 3) and (framed[0, 0] == 255).all()
    rows = np.nonzero((framed != 255).any(axis=(1, 2)))[0]
    assert np.ptp(rows) + 1 == 16  # the 30 px tall object at half of 32 px
    sheet = np.asarray(Image.open(out / "preview" / "contact_sheet.png"))
    assert sheet.shape[0] > 3 * 16 and sheet.shape[1] > 21 * 16  # three orbits of 21 views
    printed = capsys.readouterr().out
    assert str(out / "preview" / "contact_sheet.png") in printed
    assert "63 frames" in printed and f"ns-train rigi-splat --data {out}" in printed


@pytest.mark.parametrize(("passes", "times"), [(2, 4 * 4 - 3), (0, 4)])
def test_video_to_4d_times(tmp_path, fake_generators, passes, times):
    out = tmp_path / "anim"
    args = ["video-to-4d", str(clip_folder(tmp_path)), "--output-dir", str(out), "--checkpoint", "tiny-random"]
    args += ["--clip-weights", "tiny-random"]
    assert main([*args, "--frames", "4", "--passes", str(passes), "--steps", "2"]) == 0
    assert fake_generators["syncdreamer"].steps == 2
    assert validate_dataset(out) == []
    meta = json.loads((out / "transforms.json").read_text())
    assert len({f["time"] for f in meta["frames"]}) == times
    assert len(meta["frames"]) == 16 * times
    inputs = [f for f in meta["frames"] if f["input_view"]]
    assert len(inputs) == times and all(f["view"] == 0 for f in inputs)
    assert meta["generator"]["input"]["source_frames"] == [0, 2, 4, 6]
    assert sorted(p.name for p in (out / "input").iterdir()) == [f"frame_{k:03d}.png" for k in range(4)]
    sheet = np.asarray(Image.open(out / "preview" / "contact_sheet.png"))
    assert sheet.shape[0] > 4 * 16 and sheet.shape[1] > 16 * 16  # the 4 generated times x 16 views
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_crash_in_generation_leaves_no_dataset(tmp_path, monkeypatch):
    class Broken(FakeGenerator):
        def generate(self, inputs, *, seed):
            raise RuntimeError("out of memory")

    monkeypatch.setattr(generate_cli, "load_syncdreamer_t_generator", lambda s: Broken("syncdreamer"))
    out = tmp_path / "anim"
    with pytest.raises(RuntimeError):
        main(
            [
                "video-to-4d",
                str(clip_folder(tmp_path)),
                "--output-dir",
                str(out),
                "--checkpoint",
                "tiny-random",
                "--frames",
                "4",
            ]
        )
    assert not out.exists() and [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_inputs_are_one_line_errors(tmp_path, fake_generators, capsys):
    out = str(tmp_path / "o")
    assert main(["image-to-3d", str(tmp_path / "none.png"), "--output-dir", out, "--weights", "w"]) == 1
    assert "none.png: no such image file" in capsys.readouterr().err
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((8, 8, 4), np.uint8)).save(blank)
    assert main(["image-to-3d", str(blank), "--output-dir", out, "--weights", "w", "--alpha", "keep"]) == 1
    assert "nothing to frame" in capsys.readouterr().err
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert main(["video-to-4d", str(tmp_path / "empty.mp4"), "--output-dir", out, "--checkpoint", "c"]) == 1
    assert "the video file is empty" in capsys.readouterr().err
    assert main(["video-to-4d", str(picture(tmp_path)), "--output-dir", out, "--checkpoint", "c"]) == 1
    assert "cup.png: 1 frame, not a clip" in (err := capsys.readouterr().err) and "datagen image-to-4d" in err
    assert main(["convert-sv3d-weights", str(tmp_path / "sv3d_p.safetensors"), out]) == 1
    err = capsys.readouterr().err
    assert "sv3d_p.safetensors: no such checkpoint file" in err and "huggingface.co/stabilityai/sv3d" in err
    assert "sv3d" not in fake_generators and "syncdreamer" not in fake_generators  # nothing was loaded


def test_existing_output_is_refused_before_generation(tmp_path, fake_generators, capsys):
    out = tmp_path / "obj"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["image-to-3d", str(picture(tmp_path)), "--output-dir", str(out), "--weights", "w"]) == 1
    assert "--overwrite" in capsys.readouterr().err and "sv3d" not in fake_generators


@pytest.mark.parametrize(
    ("command", "settings"),
    [("image-to-3d", "SV3DSettings"), ("video-to-4d", "SyncDreamerSettings"), ("image-to-4d", "SyncDreamerSettings")],
)
def test_every_generator_setting_is_an_unprefixed_option(command, settings, capsys):
    """Fields the generators' settings gain later appear as options by themselves (and would clash loudly)."""
    import dataclasses

    from datagen.generators.sv3d.settings import SV3DSettings
    from datagen.generators.syncdreamer.settings import SyncDreamerSettings

    kind = {"SV3DSettings": SV3DSettings, "SyncDreamerSettings": SyncDreamerSettings}[settings]
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for field in dataclasses.fields(kind):
        assert re.search(f"--{field.name.replace('_', '-')}[ ,]", text), field.name


def test_missing_syncdreamer_checkpoint_stops_before_generation(tmp_path, fake_generators, capsys):
    args = ["video-to-4d", str(clip_folder(tmp_path)), "--output-dir", str(tmp_path / "o"), "--frames", "4"]
    assert main([*args, "--checkpoint", str(tmp_path / "syncdreamer-pretrain.ckpt")]) == 1
    err = capsys.readouterr().err
    assert f"SyncDreamer checkpoint not found: {tmp_path / 'syncdreamer-pretrain.ckpt'}" in err
    assert "CLIP weights not found: (none given)" in err and "--clip-weights" in err
    assert "syncdreamer" not in fake_generators


def test_missing_weight_files_from_the_installed_command(tmp_path):
    """The real console script, nothing replaced: one message naming both files and their options, no traceback,
    exit 1, and nothing written where the dataset would go."""
    from splatcore.video import write_video

    clip = tmp_path / "clip.mp4"
    frames = [np.full((32, 32, 3), 255, np.uint8) for _ in range(16)]
    for i, frame in enumerate(frames):
        frame[8:24, i : i + 10] = (200, 40, 40)
    write_video(clip, frames, fps=8)
    out, ckpt, clip_weights = tmp_path / "X", tmp_path / "missing.ckpt", tmp_path / "missing.pt"
    args = ["video-to-4d", clip, "--output-dir", out, "--checkpoint", ckpt, "--clip-weights", clip_weights]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [str(Path(sys.executable).parent / "datagen"), *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 1 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[0].startswith(f"datagen: error: SyncDreamer checkpoint not found: {ckpt}; download")
    assert len(lines) == 2 and f"CLIP weights not found: {clip_weights}" in lines[1]
    assert "--checkpoint" in lines[0] and "--clip-weights" in lines[1] and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
