"""The SV3D generator end to end with tiny random networks, and its early error for missing weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from datagen.assemble import write_orbit_dataset
from datagen.cameras import SV3D_FOV_DEG, sv3d_orbits
from datagen.generators.sv3d import TINY_RANDOM, SV3DSettings, load_sv3d_generator
from datagen.images import drop_alpha_on
from datagen.user_errors import UserError
from datagen.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]


def _load_in_a_fresh_process(weights: str) -> tuple[str, str]:
    """Run load_sv3d_generator offline in a new interpreter: (the UserError's message, heavy modules imported)."""
    script = textwrap.dedent(
        f"""
        import sys
        from datagen.generators.sv3d import SV3DSettings, load_sv3d_generator
        from datagen.user_errors import UserError
        try:
            load_sv3d_generator(SV3DSettings(weights={weights!r}))
        except UserError as error:
            print(str(error).replace(chr(10), " "))
        print("heavy:", [m for m in ("diffusers", "transformers", "torch") if m in sys.modules])
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    message, heavy = result.stdout.strip().splitlines()
    return message, heavy


@pytest.mark.parametrize("kind", ["directory", "hub id"])
def test_missing_weights_raise_a_user_error_before_anything_heavy_loads(tmp_path, kind):
    weights = str(tmp_path / "sv3d-weights") if kind == "directory" else "nobody-here/no-sv3d-weights"
    message, heavy = _load_in_a_fresh_process(weights)
    assert weights in message
    assert "https://huggingface.co/stabilityai/sv3d" in message and "licence" in message
    assert "datagen convert-sv3d-weights sv3d_p.safetensors OUT_DIR" in message and "--weights" in message
    assert heavy == "heavy: []"


def test_a_directory_without_the_converted_files_names_them(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text("{}")
    with pytest.raises(UserError, match=r"lacks vae/config\.json, image_encoder/config\.json.*convert-sv3d-weights"):
        load_sv3d_generator(SV3DSettings(weights=str(tmp_path)))


def _framed_input(size: int) -> np.ndarray:
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    disc = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size / 4) ** 2
    image[disc] = (200, 40, 30)
    return image


@pytest.fixture(scope="module")
def tiny_run():
    settings = SV3DSettings(weights=TINY_RANDOM, device="cpu", steps=2, resolution=64, progress=False)
    generator = load_sv3d_generator(settings)
    image = _framed_input(64)
    return generator, image, generator.generate(image, seed=3)


def test_tiny_random_generate_gives_rigi_orbits_with_cameras(tiny_run):
    generator, image, frames = tiny_run
    expected = sv3d_orbits((0.0, -20.0, 40.0), 21)
    assert len(frames.views) == 63 and frames.fov_deg == SV3D_FOV_DEG
    for view, camera in zip(frames.views, expected, strict=True):
        assert (view.orbit, view.azimuth_deg, view.elevation_deg, view.radius) == pytest.approx(
            (camera.orbit, camera.azimuth_deg, camera.elevation_deg, camera.radius)
        )
        assert view.image.shape == (64, 64, 4) and view.image.dtype == np.uint8
    for orbit in range(3):
        last = frames.views[21 * orbit + 20]
        assert last.azimuth_deg == 0.0 and last.extra == {"input_view": True}
        np.testing.assert_array_equal(last.image[..., :3][last.image[..., 3] == 255], image[last.image[..., 3] == 255])
        assert (last.image[..., 3] == 0).mean() > 0.5  # the white background became transparent
    record = frames.record
    assert record["name"] == "sv3d" and record["model"] == "sv3d_p" and record["weights"] == TINY_RANDOM
    assert record["seed"] == 3 and record["steps"] == 2 and record["frames_per_orbit"] == 21
    assert (record["guidance_min"], record["guidance_max"], record["pag_scale"]) == (1.0, 2.5, 3.0)
    assert record["pag_layers"] == "mid_block" and record["amplitudes_deg"] == [0.0, -20.0, 40.0]
    assert record["handedness"] == "counter-clockwise seen from +z"


def test_same_seed_same_frames_and_a_valid_dataset(tiny_run, tmp_path):
    generator, image, frames = tiny_run
    small = load_sv3d_generator(
        SV3DSettings(weights=TINY_RANDOM, device="cpu", steps=2, resolution=64, progress=False, amplitudes_deg=(0.0,))
    )
    again = small.generate(image, seed=3)
    for a, b in zip(again.views, frames.views[:21], strict=False):
        np.testing.assert_array_equal(a.image, b.image)  # orbit 0 only depends on the seed
    out = write_orbit_dataset(frames, tmp_path / "dataset")
    assert validate_dataset(out) == []
    meta = json.loads((out / "transforms.json").read_text())
    assert len(meta["frames"]) == 63 and meta["generator"]["name"] == "sv3d"


def test_an_rgba_input_keeps_its_alpha_in_the_input_views_and_conditions_as_on_white():
    size = 64
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[16:48, 16:48] = (200, 40, 30, 255)
    rgba[0:16, 28:36] = (255, 255, 255, 255)  # an opaque white part touching the border: keying would drop it
    on_white = drop_alpha_on(rgba)
    settings = SV3DSettings(weights=TINY_RANDOM, device="cpu", steps=2, resolution=size, progress=False)
    settings.amplitudes_deg = (0.0,)
    generator = load_sv3d_generator(settings)
    from_rgba, from_rgb = generator.generate(rgba, seed=5), generator.generate(on_white, seed=5)
    for a, b in zip(from_rgba.views[:-1], from_rgb.views[:-1], strict=True):
        np.testing.assert_array_equal(a.image, b.image)  # SV3D sees the same image on white
    np.testing.assert_array_equal(from_rgba.views[-1].image, rgba)
    assert (from_rgb.views[-1].image[0:16, 28:36, 3] == 0).all()  # keyed from white, the white part is lost


@pytest.mark.cuda
def test_tiny_random_generate_in_float16_on_cuda_with_offload():
    settings = SV3DSettings(
        weights=TINY_RANDOM,
        device="cuda",
        steps=2,
        resolution=64,
        progress=False,
        cpu_offload=True,
        amplitudes_deg=(0.0,),
    )
    generator = load_sv3d_generator(settings)
    assert next(generator.components.unet.parameters()).dtype == torch.float16
    frames = generator.generate(_framed_input(64), seed=1)
    assert len(frames.views) == 21 and all(v.image.shape == (64, 64, 4) for v in frames.views)
    assert next(generator.components.unet.parameters()).device.type == "cpu"  # offloaded again after use
