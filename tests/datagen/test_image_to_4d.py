"""`datagen image-to-4d`: a tiny random Stable Video Diffusion pipeline (saved as a diffusers folder, loaded by the
command) makes the clip, the FakeGenerator stands in for SyncDreamer-T; and the missing-weights message."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import datagen.generate_cli as generate_cli
from datagen.cli import main
from datagen.generators import FakeGenerator
from datagen.validate import validate_dataset


def tiny_svd_folder(folder):
    """A random StableVideoDiffusionPipeline a few hundred kB in size (diffusers' own test configuration)."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,  # the pipeline resizes its CLIP input to 224 px whatever the processor says
            intermediate_size=37,
            patch_size=32,
        )
    )
    processor = CLIPImageProcessor(crop_size=32, size=32)
    pipeline = StableVideoDiffusionPipeline(
        vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler, feature_extractor=processor
    )
    pipeline.save_pretrained(folder)
    return folder


def test_image_to_4d_with_a_tiny_svd(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate_cli, "load_syncdreamer_t_generator", lambda s: FakeGenerator("syncdreamer"))
    weights = tiny_svd_folder(tmp_path / "svd")
    image = np.zeros((24, 24, 4), np.uint8)
    image[4:20, 6:18] = (250, 200, 0, 255)
    Image.fromarray(image).save(tmp_path / "duck.png")
    out = tmp_path / "duck"
    args = ["image-to-4d", str(tmp_path / "duck.png"), "--output-dir", str(out), "--checkpoint", "tiny-random"]
    args += ["--clip-weights", "tiny-random"]
    args += ["--svd-weights", str(weights), "--svd-frames", "4", "--svd-steps", "2", "--svd-resolution", "32"]
    args += ["--svd-decode-chunk-size", "2", "--frames", "3", "--passes", "1", "--clip-alpha", "keep"]
    assert main(args) == 0, capsys.readouterr().err
    clip = tmp_path / "duck-clip"
    frames = sorted((clip / "frames").iterdir())
    assert [f.name for f in frames] == ["000.png", "001.png", "002.png", "003.png"]
    assert np.asarray(Image.open(frames[0])).shape == (32, 32, 3)
    assert (clip / "clip.mp4").stat().st_size > 0
    assert validate_dataset(out) == []
    meta = json.loads((out / "transforms.json").read_text())
    assert len({f["time"] for f in meta["frames"]}) == 2 * 3 - 1
    assert (out / "input" / "clip.mp4").read_bytes() == (clip / "clip.mp4").read_bytes()
    assert meta["generator"]["input"]["source_frames"] == [0, 1, 2]


def test_missing_svd_weights_named_before_loading(tmp_path, monkeypatch, capsys):
    loaded = []
    monkeypatch.setattr(generate_cli, "load_syncdreamer_t_generator", loaded.append)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    image = np.zeros((8, 8, 4), np.uint8)
    image[2:6, 2:6] = 255
    Image.fromarray(image).save(tmp_path / "a.png")
    base = ["image-to-4d", str(tmp_path / "a.png"), "--output-dir", str(tmp_path / "o"), "--checkpoint", "tiny-random"]
    assert main([*base, "--svd-weights", str(tmp_path / "no-such-folder")]) == 1
    err = capsys.readouterr().err
    assert "no-such-folder: no such folder" in err and "stabilityai/stable-video-diffusion-img2vid-xt" in err
    assert main(base) == 1  # the default hub id, not cached, offline
    err = capsys.readouterr().err
    assert "not in the local Hugging Face cache" in err and "huggingface-cli download" in err
    assert loaded == [] and not (tmp_path / "o").exists() and not (tmp_path / "o-clip").exists()


@pytest.mark.parametrize("weights", ["not/a/pipeline/folder"])
def test_folder_without_model_index(tmp_path, weights):
    from datagen.svd_clip import check_svd_weights
    from datagen.user_errors import UserError

    (tmp_path / "w").mkdir()
    with pytest.raises(UserError, match="no model_index.json"):
        check_svd_weights(str(tmp_path / "w"))
    with pytest.raises(UserError, match="no such folder"):
        check_svd_weights(weights)
