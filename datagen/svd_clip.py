"""A clip of an object from one picture with Stable Video Diffusion (diffusers' ``StableVideoDiffusionPipeline``),
the first half of `datagen image-to-4d`.

The picture is framed like SyncDreamer's input (object centred, 200/256 of the frame, on white) so the clip keeps the
object in view on the white background the next stage keys out. The clip is saved as ``frames/NNN.png`` and
``clip.mp4`` in one folder, written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import UInt8

from datagen.dataset import encode_png
from datagen.hub import looks_like_hub_id
from datagen.user_errors import UserError
from splatcore.atomic import atomic_directory

SVD_HUB_ID = "stabilityai/stable-video-diffusion-img2vid-xt"
"""The image-to-video model (gated on the Hugging Face hub: accept its licence, then log in or download it)."""
CLIP_VIDEO = "clip.mp4"
CLIP_FRAMES = "frames"


@dataclass
class SVDSettings:
    """Stable Video Diffusion sampling settings (diffusers' defaults for img2vid-xt unless said otherwise)."""

    svd_weights: str = SVD_HUB_ID
    """A diffusers folder of the pipeline, or a hub id (the default needs its licence accepted on the hub)."""
    svd_frames: int = 25
    """Frames to generate (img2vid-xt is trained on 25)."""
    svd_steps: int = 25
    """Denoising steps."""
    svd_resolution: int = 576
    """Square frame side in pixels (multiple of 64 for the real model; it was trained at 1024 x 576)."""
    svd_fps: int = 7
    """Frame-rate conditioning (also the saved clip's frame rate)."""
    svd_motion_bucket_id: int = 127
    """Motion conditioning: higher values, more motion."""
    svd_noise_aug_strength: float = 0.02
    """Noise added to the conditioning image: higher values, less like the picture, more motion."""
    svd_decode_chunk_size: int = 8
    """Frames decoded at once by the VAE (lower: less memory)."""


def check_svd_weights(weights: str) -> None:
    """Raise a :class:`UserError` naming what is missing and where to get it, before any model is loaded.

    A folder must hold ``model_index.json``; a hub id must be in the local cache when the hub is offline
    (``HF_HUB_OFFLINE=1``), else it is downloaded by diffusers.
    """
    where = (
        f"download {SVD_HUB_ID} (accept its licence at https://huggingface.co/{SVD_HUB_ID}, then "
        f"`huggingface-cli download {SVD_HUB_ID} --local-dir DIR`) and pass --svd-weights DIR"
    )
    path = Path(weights).expanduser()
    if not looks_like_hub_id(weights):
        if not path.is_dir():
            raise UserError(f"--svd-weights {weights}: no such folder; {where}")
        if not (path / "model_index.json").is_file():
            raise UserError(
                f"--svd-weights {weights}: no model_index.json in this folder (not a diffusers pipeline); {where}"
            )
        return
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(weights, "model_index.json")
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if not isinstance(cached, str) and offline:
        raise UserError(
            f"--svd-weights {weights}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {where}"
        )


def resolve_device(device: str) -> str:
    """``auto``: CUDA when present, else CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_svd_pipeline(weights: str, device: str) -> Any:
    """The ``StableVideoDiffusionPipeline`` at ``weights`` on ``device`` (fp16 on CUDA); checked first."""
    check_svd_weights(weights)
    import torch
    from diffusers import StableVideoDiffusionPipeline

    device = resolve_device(device)
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    try:
        pipeline = StableVideoDiffusionPipeline.from_pretrained(weights, torch_dtype=dtype)
    except OSError as error:  # hub errors (gated, offline, missing files) arrive as OSError subclasses
        raise UserError(
            f"--svd-weights {weights}: could not load the pipeline ({error}); download {SVD_HUB_ID} from "
            f"https://huggingface.co/{SVD_HUB_ID} (gated: accept its licence) and pass --svd-weights DIR"
        ) from error
    pipeline.set_progress_bar_config(leave=False)
    return pipeline.to(device)


def generate_clip(
    pipeline: Any, image_on_white: UInt8[np.ndarray, "S S 3"], settings: SVDSettings, seed: int
) -> list[UInt8[np.ndarray, "S S 3"]]:
    """Sample the clip: ``settings.svd_frames`` uint8 frames [S, S, 3], S = ``settings.svd_resolution``."""
    import torch
    from PIL import Image

    size = settings.svd_resolution
    generator = torch.Generator(device="cpu").manual_seed(seed)
    output = pipeline(
        Image.fromarray(image_on_white),
        height=size,
        width=size,
        num_frames=settings.svd_frames,
        num_inference_steps=settings.svd_steps,
        fps=settings.svd_fps,
        motion_bucket_id=settings.svd_motion_bucket_id,
        noise_aug_strength=settings.svd_noise_aug_strength,
        decode_chunk_size=settings.svd_decode_chunk_size,
        generator=generator,
        output_type="np",
    )
    frames = np.asarray(output.frames[0])  # [F, H, W, 3] float in [0, 1]
    return [(np.clip(f, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8) for f in frames]


def save_clip(frames: list[np.ndarray], folder: Path, fps: float, overwrite: bool = False) -> Path:
    """Write ``frames/000.png ...`` and ``clip.mp4`` into ``folder`` atomically; returns the frames folder."""
    from splatcore.video import write_video

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise UserError(f"{folder} (the clip's folder) exists and is not empty; choose another or pass --overwrite")
    with atomic_directory(folder, replace=folder.exists()) as tmp:
        (tmp / CLIP_FRAMES).mkdir()
        for i, frame in enumerate(frames):
            (tmp / CLIP_FRAMES / f"{i:03d}.png").write_bytes(encode_png(frame))
        write_video(tmp / CLIP_VIDEO, frames, fps=fps)
    return folder / CLIP_FRAMES
