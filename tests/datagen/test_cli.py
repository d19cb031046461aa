"""The `datagen` command line: exit codes, messages, wiring of the subcommands."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.cli import main
from datagen.dataset import FrameRecord, read_dataset, write_dataset

DATAGEN = Path(sys.executable).parent / "datagen"


@pytest.fixture
def dataset(tmp_path):
    frames = [
        FrameRecord(f"images/{i}.png", c2w_gl_from_spherical(90.0 * i, 0, 2), np.zeros((4, 4, 4), np.uint8))
        for i in range(3)
    ]
    return write_dataset(tmp_path / "ds", frames, intrinsics_from_fov(40, 4, 4), {"name": "t"})


def run(*args):
    return subprocess.run([str(DATAGEN), *map(str, args)], check=False, capture_output=True, text=True, timeout=120)


def test_validate_exit_codes_installed_script(dataset):
    ok = run("validate", dataset)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 3 frames, 3 train / 0 test, 4x4")
    (dataset / "images/1.png").unlink()
    bad = run("validate", dataset)
    assert bad.returncode == 1
    assert f"{dataset}/images/1.png: image missing" in bad.stderr and "FAILED: 1 problem(s)" in bad.stderr


def test_validate_missing_directory(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'nope'}: is not a directory")


def test_validate_reports_json_position(dataset, capsys):
    (dataset / "transforms.json").write_text('{"frames": [}')
    assert main(["validate", str(dataset)]) == 1
    assert "transforms.json: malformed JSON at line 1 column 13" in capsys.readouterr().err


def test_convert_grid_and_errors(tmp_path, capsys):
    grid = np.full((4, 64, 3), 255, np.uint8)
    grid[1:3, ::4] = 0
    Image.fromarray(grid).save(tmp_path / "grid.png")
    out = tmp_path / "ds"
    assert main(["convert", "grid", "--input", str(tmp_path / "grid.png"), "--output-dir", str(out)]) == 0
    assert len(read_dataset(out).frames) == 16
    # existing output without --overwrite: one message, exit 1, dataset intact
    assert main(["convert", "grid", "--input", str(tmp_path / "grid.png"), "--output-dir", str(out)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    args = ["convert", "grid", "--input", str(tmp_path / "grid.png"), "--output-dir", str(out), "--overwrite"]
    assert main([*args, "--alpha", "key"]) == 0
    assert np.asarray(Image.open(out / "images/orbit0_00.png")).shape == (4, 4, 4)
    assert main(["convert", "frames", "--input", str(tmp_path / "missing"), "--output-dir", str(tmp_path / "x")]) == 1
    assert "missing: not a directory" in capsys.readouterr().err


def test_help_lists_subcommands_and_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in (
        "synthetic",
        "convert",
        "validate",
        "image-to-3d",
        "video-to-4d",
        "image-to-4d",
        "convert-sv3d-weights",
    ):
        assert name in text
    with pytest.raises(SystemExit):
        main(["convert", "matrix", "--help"])
    text = capsys.readouterr().out
    assert "--key-tolerance" in text and "--elevation-deg" in text and "{t}_{v}.png" in text
    with pytest.raises(SystemExit):
        main(["synthetic", "--help"])
    text = capsys.readouterr().out
    assert "--dynamic" in text and "--output-dir" in text and "--inconsistency {" in text and "--warp" in text
    assert "--out " not in text and "--out," not in text  # the old spelling works but is not advertised
