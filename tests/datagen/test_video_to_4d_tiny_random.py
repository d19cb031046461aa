"""`datagen video-to-4d` end to end with the real SyncDreamer-T generator at its tiny random size: a clip of a moving
disc -> framed frames -> 3 x 16 generated views -> 9 x 16 after interpolation -> a dataset that validates and that
nerfstudio loads with camera times. (The fake-generator tests in test_generate_cli.py cover ``--passes`` 0 and 1.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from datagen.cli import main
from datagen.dataparser import GeneratedDataParserConfig
from datagen.validate import validate_dataset

pytestmark = pytest.mark.slow


def disc_clip(folder, count=6, size=48):
    """``count`` PNG frames of a red disc moving left to right on white."""
    folder.mkdir()
    yy, xx = np.mgrid[:size, :size]
    for i in range(count):
        frame = np.full((size, size, 3), 255, np.uint8)
        frame[(yy - size // 2) ** 2 + (xx - 14 - 4 * i) ** 2 <= 64] = (220, 60, 30)
        Image.fromarray(frame).save(folder / f"{i:02d}.png")
    return folder


def disc_centre_x(path):
    """Column of the non-white pixels' centroid."""
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    cols = np.nonzero((image < 200).any(axis=2))[1]
    return cols.mean()


def test_clip_to_dataset_with_tiny_random_syncdreamer(tmp_path, capsys):
    out = tmp_path / "disc"
    args = ["video-to-4d", str(disc_clip(tmp_path / "clip")), "--output-dir", str(out), "--checkpoint", "tiny-random"]
    args += ["--frames", "3", "--steps", "2", "--seed", "7", "--device", "cpu", "--no-progress", "--eta", "0"]
    assert main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "train 9 times x 16 views" in printed and "(9 timestamps from 3 generated)" in printed

    assert validate_dataset(out, check_pixels=True) == []
    meta = json.loads((out / "transforms.json").read_text())
    frames = meta["frames"]
    assert len(frames) == 9 * 16 and (meta["w"], meta["h"]) == (64, 64)
    assert sorted({f["time"] for f in frames}) == [k / 8 for k in range(9)]
    assert sorted({f["view"] for f in frames}) == list(range(16))
    assert [f["interpolated"] for f in frames if f["view"] == 0] == [k % 4 != 0 for k in range(9)]
    inputs = [f for f in frames if f["input_view"]]
    assert len(inputs) == 9 and {(f["view"], f["azimuth_deg"]) for f in inputs} == {(0, 0.0)}

    record = meta["generator"]
    assert record["name"] == "syncdreamer-t" and record["checkpoint"] == "tiny-random"
    assert (record["seed"], record["frames"], record["steps"], record["eta"]) == (7, 3, 2, 0.0)
    assert (record["guidance"], record["guidance_scales"], record["cyclic"]) == ("decomposed", [2.0, 1.0], False)
    assert record["smoothing"].startswith("paper") and "noise" in record["note"]
    assert record["input"]["source_frames"] == [0, 2, 4]
    interpolation = record["interpolation"]
    assert (interpolation["passes"], interpolation["times"], interpolation["source"]) == (2, 9, "generated (not kept)")
    # the framed inputs the generator saw: source frames 0, 2, 4, the disc moving right
    centres = [disc_centre_x(out / "input" / f"frame_{k:03d}.png") for k in range(3)]
    assert centres[0] < centres[1] < centres[2]

    parser = GeneratedDataParserConfig(data=out).setup()
    assert parser.includes_time is True
    train = parser.get_dataparser_outputs("train")
    by_name = {f["file_path"]: f for f in frames}
    loaded = [by_name[str(p.relative_to(out))] for p in train.image_filenames]
    assert len(loaded) == 9 * 16
    assert train.cameras.times[:, 0].tolist() == [f["time"] for f in loaded]
    assert train.metadata["frame_meta"]["view"].tolist() == [f["view"] for f in loaded]
    assert train.cameras.width[0, 0].item() == 64
