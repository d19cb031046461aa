"""SV3D through the user's commands: `datagen image-to-3d` with tiny random networks end to end (the FakeGenerator
versions of the command in tests/datagen and tests/nsglue cover options, inputs and stages, not the real
generator), `datagen convert-sv3d-weights` on the parity fixture's tiny sgm checkpoint, and the one message both
commands give for missing weights."""

from __future__ import annotations

import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from datagen.cameras import SV3D_FOV_DEG, c2w_gl_from_spherical, intrinsics_from_fov, sv3d_orbits
from datagen.cli import main
from datagen.generators.sv3d import SV3DSettings, convert_sv3d_checkpoint, load_sv3d_generator
from datagen.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sv3d"
BIN = Path(sys.executable).parent
TINY_HEADS = ["--unet-head-channels", "16", "--clip-head-width", "16"]
"""The fixture's networks have 16-channel heads (sv3d_p: 64 in the UNet, 80 in ViT-H-14)."""


def picture(path: Path) -> Path:
    """An 80 x 60 RGBA picture: an opaque two-colour block on transparency, off centre."""
    image = np.zeros((80, 60, 4), np.uint8)
    image[10:70, 5:35] = (40, 160, 90, 255)
    image[10:30, 5:35] = (220, 60, 30, 255)
    Image.fromarray(image).save(path)
    return path


@pytest.mark.slow
def test_image_to_3d_with_tiny_random_networks(tmp_path, capsys):
    out = tmp_path / "cup"
    args = ["image-to-3d", str(picture(tmp_path / "cup.png")), "--output-dir", str(out), "--weights", "tiny-random"]
    args += ["--resolution", "64", "--steps", "2", "--device", "cpu", "--no-progress", "--seed", "11"]
    args += ["--pag-scale", "2.0", "--pag-layers", "mid_block.*attn1"]
    assert main(args) == 0, capsys.readouterr().err
    assert f"next: ns-train rigi-splat --data {out}" in capsys.readouterr().out
    assert validate_dataset(out, check_pixels=True) == []
    meta = json.loads((out / "transforms.json").read_text())

    frames = meta["frames"]
    expected = sv3d_orbits((0.0, -20.0, 40.0), 21)
    assert len(frames) == 63 and [f["orbit"] for f in frames] == [v.orbit for v in expected]
    poses = np.array([f["transform_matrix"] for f in frames])
    reference = c2w_gl_from_spherical(
        [v.azimuth_deg for v in expected], [v.elevation_deg for v in expected], [v.radius for v in expected]
    )
    np.testing.assert_allclose(poses, reference, atol=1e-6)
    recorded = np.array([(f["azimuth_deg"], f["elevation_deg"]) for f in frames])
    np.testing.assert_allclose(recorded, [(v.azimuth_deg, v.elevation_deg) for v in expected], atol=1e-9)
    assert meta["fl_x"] == pytest.approx(intrinsics_from_fov(SV3D_FOV_DEG, 64, 64).fl_x)

    framed = np.asarray(Image.open(out / "input" / "input.png"))
    assert framed.shape == (64, 64, 3) and (framed[0, 0] == 255).all()
    for orbit in range(3):
        last = frames[21 * orbit + 20]
        assert last["input_view"] and last["azimuth_deg"] == 0.0
        rgba = np.asarray(Image.open(out / last["file_path"]))
        assert rgba.shape == (64, 64, 4)
        opaque = rgba[..., 3] == 255
        assert opaque.mean() > 0.2 and (rgba[..., 3] == 0).mean() > 0.2  # object kept, white keyed out
        np.testing.assert_array_equal(rgba[..., :3][opaque], framed[opaque])
    for frame in frames:
        assert Image.open(out / frame["file_path"]).mode == "RGBA", frame["file_path"]
    other = np.asarray(Image.open(out / frames[0]["file_path"]))
    assert other.shape == (64, 64, 4) and not np.array_equal(other[..., :3], framed)  # generated, not copied

    record = meta["generator"]
    assert (record["name"], record["model"], record["weights"]) == ("sv3d", "sv3d_p", "tiny-random")
    assert (record["seed"], record["steps"], record["resolution"]) == (11, 2, 64)
    assert (record["guidance_min"], record["guidance_max"]) == (1.0, 2.5)
    assert (record["pag_scale"], record["pag_layers"]) == (2.0, "mid_block.*attn1")
    assert record["input"]["alpha"] == "auto"

    from datagen.dataparser import GeneratedDataParserConfig

    train = GeneratedDataParserConfig(data=out).setup().get_dataparser_outputs("train")
    assert len(train.image_filenames) == 63
    torch.testing.assert_close(train.cameras.camera_to_worlds, torch.tensor(reference[:, :3, :4], dtype=torch.float32))
    assert train.metadata["frame_meta"]["orbit"].tolist() == [v.orbit for v in expected]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "sv3d_tiny.safetensors"
    path.write_bytes(lzma.decompress((FIXTURES / "sv3d_tiny.safetensors.xz").read_bytes()))
    return path


def _unet_output(weights: str) -> torch.Tensor:
    """The UNet loaded from ``weights`` by the generator's loader, on the parity fixture's inputs (as
    test_sv3d_parity.test_unet_matches_sgm): [8, 4, 8, 8], the conditioned half of the batch."""
    ref = load_file(str(FIXTURES / "sv3d_tiny_reference.safetensors"))
    generator = load_sv3d_generator(SV3DSettings(weights=weights, device="cpu", progress=False))
    unet = generator.components.unet  # type: ignore[attr-defined]
    frames = 4
    x = ref["unet_x"].reshape(2, frames, 4, 8, 8)
    latent = torch.cat([ref["uc_concat"], ref["c_concat"]]).reshape(2, frames, 4, 8, 8)
    context = torch.cat([ref["uc_crossattn"][:1], ref["c_crossattn"][:1]])
    camera = torch.stack([torch.full((frames,), 1e-5), ref["polars_rad"].float(), ref["azimuths_rad"].float()], 1)
    with torch.no_grad():
        out = unet(torch.cat([x, latent], dim=2), ref["unet_t"][:2], context, camera[None].expand(2, -1, -1))
    return out[0].reshape(8, 4, 8, 8)


def test_convert_sv3d_weights_command(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "weights" / "sv3d"
    assert main(["convert-sv3d-weights", str(tiny_checkpoint), str(out), *TINY_HEADS]) == 0
    assert f"--weights {out}" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["sv3d"]  # the staging folder was renamed, nothing else
    assert json.loads((out / "sv3d.json").read_text())["source"] == "sv3d_tiny.safetensors"

    direct = convert_sv3d_checkpoint(tiny_checkpoint, tmp_path / "direct", unet_head_channels=16, clip_head_width=16)
    from_command = _unet_output(str(out))
    assert torch.equal(from_command, _unet_output(str(direct)))
    sgm = load_file(str(FIXTURES / "sv3d_tiny_reference.safetensors"))["unet_out"]
    assert float((from_command - sgm).abs().max()) < 1e-4  # the parity test's tolerance

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert main(["convert-sv3d-weights", str(tiny_checkpoint), str(out), *TINY_HEADS]) == 1
    assert f"{out}: exists and is not empty" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    args = ["convert-sv3d-weights", str(tiny_checkpoint), str(out), *TINY_HEADS, "--dtype", "float16", "--overwrite"]
    assert main(args) == 0
    assert json.loads((out / "sv3d.json").read_text())["dtype"] == "torch.float16"
    assert sorted(p.name for p in out.parent.iterdir()) == ["sv3d"]  # the old copy is gone too
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["convert-sv3d-weights", str(tiny_checkpoint), str(mine), *TINY_HEADS, "--overwrite"]) == 1
    assert "not an earlier conversion" in capsys.readouterr().err and sorted(os.listdir(mine)) == ["notes.txt"]


def _run(command: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [str(BIN / command), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("command", ["datagen", "image-to-asset"])
def test_missing_weights_are_one_message_and_write_nothing(tmp_path, command):
    image = picture(tmp_path / "pic.png")
    out = tmp_path / "out"
    words = ["image-to-3d", str(image)] if command == "datagen" else [str(image)]
    result = _run(command, *words, "--output-dir", str(out), "--weights", "/nonexistent/sv3d")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    prog = "datagen" if command == "datagen" else "image-to-asset"
    assert len(errors) == 1 and errors[0].startswith(f"{prog}: error: SV3D weights: /nonexistent/sv3d "), errors
    for needed in ("https://huggingface.co/stabilityai/sv3d", "sv3d_p.safetensors", "datagen convert-sv3d-weights"):
        assert needed in errors[0]
    assert "--weights OUT_DIR" in errors[0]
    if command == "image-to-asset":
        assert "[1/3] dataset" in result.stdout  # it failed in the dataset stage
    assert not out.exists()  # no dataset, no stage record
