"""The project's SV3D against Stability's sgm code, on a tiny random sv3d_p with real sgm key names.

The fixture (``tests/fixtures/sv3d``, made by ``regenerate.py`` from sgm) holds a tiny single-file checkpoint and
sgm's outputs; here it is converted with the project's converter and every stage is compared in float32.
"""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from datagen.generators.sv3d import SV3DSettings, convert_sv3d_checkpoint
from datagen.generators.sv3d.components import load_components
from datagen.generators.sv3d.conditioning import clip_embedding, image_latent
from datagen.generators.sv3d.convert import diffusers_models
from datagen.generators.sv3d.generator import SV3DGenerator, decode
from datagen.generators.sv3d.schedule import edm_sigmas
from datagen.generators.sv3d.unet import camera_vector
from datagen.user_errors import UserError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sv3d"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sv3d")
    checkpoint = folder / "sv3d_tiny.safetensors"
    checkpoint.write_bytes(lzma.decompress((FIXTURES / "sv3d_tiny.safetensors.xz").read_bytes()))
    # The tiny networks have 16-channel heads (sv3d_p: 64 in the UNet, 80 in ViT-H-14); shapes give the rest.
    return convert_sv3d_checkpoint(checkpoint, folder / "converted", unet_head_channels=16, clip_head_width=16)


@pytest.fixture(scope="module")
def ref() -> dict[str, torch.Tensor]:
    return load_file(str(FIXTURES / "sv3d_tiny_reference.safetensors"))


@pytest.fixture(scope="module")
def components(converted):
    return load_components(str(converted))


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a.float() - b.float()).abs().max())


def test_conversion_writes_the_diffusers_layout(converted):
    for name in ("unet/config.json", "vae/config.json", "image_encoder/config.json", "sv3d.json"):
        assert (converted / name).is_file()
    assert not [p for p in converted.parent.iterdir() if p.name.startswith(".converted")]  # staging dir renamed


def test_conversion_refuses_what_it_cannot_convert(converted, tmp_path):
    with pytest.raises(UserError, match="no such checkpoint.*huggingface.co/stabilityai/sv3d"):
        convert_sv3d_checkpoint(tmp_path / "sv3d_p.safetensors", tmp_path / "out")
    with pytest.raises(UserError, match="not empty"):
        convert_sv3d_checkpoint(converted.parent / "sv3d_tiny.safetensors", converted)
    other = tmp_path / "other.safetensors"
    save_file({"model.diffusion_model.time_embed.0.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(UserError, match="no tensors under"):
        convert_sv3d_checkpoint(other, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_camera_vector_matches_the_conditioner(ref):
    vector = camera_vector(torch.full((4,), 1e-5), ref["polars_rad"], ref["azimuths_rad"])
    assert _max_diff(vector, ref["c_vector"]) == 0.0
    assert torch.equal(ref["uc_vector"], ref["c_vector"])  # the camera is not dropped for guidance


def test_image_encoder_matches_open_clip(components, ref):
    with torch.no_grad():
        embedding = clip_embedding(components.image_encoder, ref["image"])
    assert _max_diff(embedding.expand(4, -1, -1), ref["c_crossattn"]) < TOLERANCE


def test_image_encoder_matches_open_clip_when_downsampling(components, ref):
    t = torch.linspace(-1.0, 1.0, 300)  # regenerate.analytic_image(300)
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    image = torch.stack([torch.sin(7 * xx) * torch.cos(5 * yy), torch.cos(11 * xx * yy), torch.sin(3 * (xx + yy))])
    with torch.no_grad():
        embedding = clip_embedding(components.image_encoder, image[None])
    assert _max_diff(embedding, ref["clip_300_out"]) < TOLERANCE


def test_vae_matches_sgm(components, ref):
    with torch.no_grad():
        latent = image_latent(components.vae, ref["cond_frames"])
        frames = decode(components.vae, ref["decode_z"], chunk=1)
    assert _max_diff(latent.expand(4, -1, -1, -1), ref["c_concat"]) < TOLERANCE
    assert _max_diff(frames, ref["decode_out"]) < TOLERANCE


def test_unet_matches_sgm(components, ref):
    frames = 4
    x = ref["unet_x"].reshape(2, frames, 4, 8, 8)
    latent = torch.cat([ref["uc_concat"], ref["c_concat"]]).reshape(2, frames, 4, 8, 8)
    context = torch.cat([ref["uc_crossattn"][:1], ref["c_crossattn"][:1]])
    camera = torch.stack([torch.full((frames,), 1e-5), ref["polars_rad"].float(), ref["azimuths_rad"].float()], 1)
    with torch.no_grad():
        out = components.unet(torch.cat([x, latent], dim=2), ref["unet_t"][:2], context, camera[None].expand(2, -1, -1))
    assert _max_diff(out[0].reshape(8, 4, 8, 8), ref["unet_out"]) < TOLERANCE


def test_sigmas_match_sgm(ref):
    assert torch.equal(edm_sigmas(3), ref["sigmas"])


def test_full_sampling_matches_sgm(components, ref):
    settings = SV3DSettings(weights="unused", device="cpu", steps=3, frames_per_orbit=4, resolution=16, pag_scale=0.0)
    generator = SV3DGenerator(components, settings)
    rng = torch.Generator().manual_seed(7)  # the fixture's seed, same order of draws as sgm's sampling script
    context, latent = generator.condition(ref["image"], rng)
    latents = generator.sample_orbit(context, latent, ref["polars_rad"].tolist(), ref["azimuths_rad"].tolist(), rng)
    frames = generator.decode(latents)
    frames[-1:] = ref["image"]
    assert _max_diff(latents, ref["sample_z"]) < TOLERANCE
    assert _max_diff(frames, ref["sample_x"]) < TOLERANCE
    assert np.isfinite(frames.numpy()).all()


def test_the_real_size_sv3d_p_key_layout_converts_strictly():
    """Every tensor name and shape of the real sv3d_p (from sgm, on the meta device) maps onto our three models."""
    listing = json.loads(lzma.decompress((FIXTURES / "sv3d_p_keys.json.xz").read_bytes()))
    state = {name: torch.empty(shape, device="meta") for name, shape in listing["shapes"].items()}
    models = diffusers_models(state)  # sv3d_p's head widths: 64 (UNet), 80 (ViT-H-14)
    unet, vae, encoder = models["unet"].config, models["vae"].config, models["image_encoder"].config
    assert list(unet.block_out_channels) == [320, 640, 1280, 1280] and list(unet.num_attention_heads) == [5, 10, 20, 20]
    assert unet.layers_per_block == 2 and unet.cross_attention_dim == 1024 and unet.in_channels == 8
    assert unet.projection_class_embeddings_input_dim == 1280
    assert list(vae.block_out_channels) == [128, 256, 512, 512] and not vae.use_post_quant_conv
    assert (encoder.hidden_size, encoder.num_hidden_layers, encoder.num_attention_heads) == (1280, 32, 16)
    assert encoder.projection_dim == 1024 and encoder.patch_size == 14
    assert sum(p.numel() for p in models["unet"].parameters()) == 1_525_278_442
