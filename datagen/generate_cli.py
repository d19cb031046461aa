"""`datagen image-to-3d`, `video-to-4d`, `image-to-4d` and `convert-sv3d-weights`: the diffusion generators as
dataset commands.

image-to-3d: picture -> mask + SV3D framing -> SV3D (63 views on RIGI's three orbits) -> dataset.
video-to-4d: clip -> K subsampled frames, one framing -> SyncDreamer-T (K x 16 views) -> dataset, densified in
time to 4K-3 timestamps by midpoint interpolation (as Efficient4D) unless ``--passes 0``.
image-to-4d: picture -> Stable Video Diffusion clip (saved) -> the video-to-4d path.

The generators' settings dataclasses are embedded without a prefix, so every field they have is an option of the
command as it is. Each dataset is written atomically and validated (pixels decoded) before the command reports it;
the framed input(s) the generator saw are kept in the dataset under ``input/``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Optional

import numpy as np
import tyro

from datagen.assemble import write_matrix_dataset, write_orbit_dataset
from datagen.clip_input import clip_frames, frames_on_white
from datagen.dataset import DatasetError, encode_png
from datagen.generators.base import GeneratedFrames
from datagen.generators.preview import PREVIEW_FILE, generated_contact_sheet
from datagen.generators.sv3d.settings import SV3DSettings, load_sv3d_generator
from datagen.generators.syncdreamer.files import check_files
from datagen.generators.syncdreamer.settings import TINY_RANDOM, SyncDreamerSettings, load_syncdreamer_t_generator
from datagen.interpolate_dataset import densified_count, interpolate_dataset
from datagen.preprocess import SYNCDREAMER_FRACTION, AlphaMode, frame_object, load_rgba, on_white
from datagen.svd_clip import SVDSettings
from datagen.user_errors import UserError
from datagen.validate import summarize_dataset, validate_dataset

SV3D_SEED = 23
"""Stability's sampling script's default seed."""
SYNCDREAMER_SEED = 3407
"""The seed of Efficient4D's run.sh."""
INPUT_IMAGE = "input/input.png"
"""Where a dataset keeps the framed image its generator was given."""

__all__ = ["ConvertSV3DWeights", "ImageTo3D", "ImageTo4D", "VideoTo4D", "image_to_3d_dataset", "video_to_4d_dataset"]


def image_to_3d_dataset(
    image: Path,
    output_dir: Path,
    settings: SV3DSettings,
    alpha: AlphaMode = "auto",
    frame_ratio: Optional[float] = None,
    seed: int = SV3D_SEED,
    overwrite: bool = False,
) -> Path:
    """Picture -> SV3D orbits -> validated dataset at ``output_dir`` (see the module docstring)."""
    rgba = load_rgba(image, alpha)
    framed_rgba = frame_object(rgba, settings.resolution, frame_ratio, "lanczos", str(image))
    framed = on_white(framed_rgba)  # what SV3D is conditioned on
    check_output(output_dir, overwrite)
    generator = load_sv3d_generator(settings)  # the one call site tests replace
    frames = generator.generate(framed_rgba, seed=seed)  # RGBA: the input views keep the picture's own alpha
    frames.record.setdefault("input", {"image": str(image), "alpha": alpha, "frame_ratio": frame_ratio})
    extra_files = {INPUT_IMAGE: encode_png(framed), PREVIEW_FILE: encode_png(generated_contact_sheet(frames))}
    out = write_orbit_dataset(frames, output_dir, overwrite=overwrite, extra_files=extra_files)
    return check_dataset(out)


def video_to_4d_dataset(
    video: Path,
    output_dir: Path,
    settings: SyncDreamerSettings,
    frames: int = 16,
    alpha: AlphaMode = "auto",
    seed: int = SYNCDREAMER_SEED,
    passes: int = 2,
    overwrite: bool = False,
    extra_files: Optional[dict[str, bytes]] = None,
) -> Path:
    """Clip -> SyncDreamer-T matrix -> (interpolated) validated dataset at ``output_dir``.

    With ``passes`` > 0 the generated matrix is written to a hidden sibling first and interpolated into
    ``output_dir``, which is the only dataset that ever appears under its final name.
    """
    if passes < 0:
        raise UserError(f"--passes {passes}: must be 0 (no interpolation), 1 (2K-1 times) or 2 (4K-3)")
    framed, indices = clip_frames(video, frames, alpha)
    on_white_frames = frames_on_white(framed)
    check_output(output_dir, overwrite)
    check_weight_files(settings)
    generator = load_syncdreamer_t_generator(settings)  # the one call site tests replace
    generated = generator.generate(on_white_frames, seed=seed)
    mark_input_column(generated)
    generated.record.setdefault("input", {"video": str(video), "alpha": alpha, "source_frames": indices})
    inputs = {f"input/frame_{k:03d}.png": encode_png(f) for k, f in enumerate(on_white_frames)}
    inputs[PREVIEW_FILE] = encode_png(generated_contact_sheet(generated))  # the K generated times, before interpolation
    inputs.update(extra_files or {})
    if passes == 0:
        return check_dataset(write_matrix_dataset(generated, output_dir, overwrite=overwrite, extra_files=inputs))
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.generated-", dir=output_dir.parent))
    try:
        raw = write_matrix_dataset(generated, staging / "matrix")
        out = interpolate_dataset(
            raw, output_dir, passes, overwrite=overwrite, extra_files=inputs, source="generated (not kept)"
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return check_dataset(out)


def mark_input_column(frames: GeneratedFrames) -> None:
    """Flag the views seen from the input camera (azimuth 0) with ``input_view`` where the generator did not."""
    for view in frames.views:
        view.extra.setdefault("input_view", bool(np.isclose(view.azimuth_deg % 360.0, 0.0)))


def check_weight_files(settings: SyncDreamerSettings) -> None:
    """Raise one :class:`UserError` naming every missing weights file and its option before any generation starts
    (a clip or a matrix takes long); ``tiny-random`` needs none."""
    if settings.checkpoint != TINY_RANDOM:
        check_files(settings.checkpoint, settings.clip_weights)


def check_output(output_dir: Path, overwrite: bool, option: str = "--output-dir") -> None:
    """Refuse a non-empty ``output_dir`` (given as ``option``) before the generator runs (the writer would only
    refuse after it)."""
    output_dir = Path(output_dir)
    if output_dir.is_dir() and any(output_dir.iterdir()) and not overwrite:
        raise UserError(f"{option} {output_dir} exists and is not empty; choose another or pass --overwrite")


def check_dataset(data_dir: Path) -> Path:
    """Validate a written dataset with its pixels decoded; raise listing every problem."""
    problems = validate_dataset(data_dir, check_pixels=True)
    if problems:
        raise DatasetError(data_dir, problems)
    return data_dir


def report(data_dir: Path, method: str) -> None:
    """The summary printed after a dataset is made, with the next command."""
    print(f"OK: {summarize_dataset(data_dir)} ({data_dir})")
    if (Path(data_dir) / PREVIEW_FILE).is_file():
        print(f"  generated views: {Path(data_dir) / PREVIEW_FILE}")
    print(f"next: ns-train {method} --data {data_dir}")


@dataclass
class ImageTo3D:
    """One picture -> 63 SV3D views on RIGI's three orbits -> dataset (train with rigi-splat)."""

    image: tyro.conf.Positional[Path]
    """Picture of the object: RGBA (object on transparency) or RGB on a plain background."""
    output_dir: Path
    """Dataset directory to write."""
    sv3d: Annotated[SV3DSettings, tyro.conf.OmitArgPrefixes]
    """SV3D settings."""
    alpha: AlphaMode = "auto"
    """Object mask: `keep` the alpha, `key` the plain background colour out, `rembg` (optional extra), `auto`."""
    frame_ratio: Optional[float] = None
    """The object's longest side as a share of the frame (default: its share of the input picture, as SV3D's
    script)."""
    seed: int = SV3D_SEED
    """Random seed of the sampling."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def main(self) -> int:
        out = image_to_3d_dataset(
            self.image, self.output_dir, self.sv3d, self.alpha, self.frame_ratio, self.seed, self.overwrite
        )
        report(out, "rigi-splat")
        return 0


@dataclass
class VideoTo4D:
    """One single-view clip -> SyncDreamer-T time x 16 views -> dataset with 4K-3 timestamps (train with
    efficient4d)."""

    video: tyro.conf.Positional[Path]
    """Clip of the object: a video file (MP4, GIF, ...) or a folder of frames (natural order)."""
    output_dir: Path
    """Dataset directory to write."""
    syncdreamer: Annotated[SyncDreamerSettings, tyro.conf.OmitArgPrefixes]
    """SyncDreamer-T settings."""
    frames: int = 16
    """K, the frames taken from the clip (every (n // K)-th, as Efficient4D's code)."""
    alpha: AlphaMode = "auto"
    """Object mask, one mode for the whole clip (see image-to-3d)."""
    seed: int = SYNCDREAMER_SEED
    """Random seed of the sampling."""
    passes: int = 2
    """Midpoint interpolation passes: 2 gives 4K-3 timestamps (Efficient4D), 1 gives 2K-1, 0 keeps the K."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def main(self) -> int:
        out = video_to_4d_dataset(
            self.video,
            self.output_dir,
            self.syncdreamer,
            self.frames,
            self.alpha,
            self.seed,
            self.passes,
            self.overwrite,
        )
        report(out, "efficient4d")
        if self.passes:
            print(f"({densified_count(self.frames, self.passes)} timestamps from {self.frames} generated)")
        return 0


SV3D_CHECKPOINT_SOURCE = "https://huggingface.co/stabilityai/sv3d (sv3d_p.safetensors; accept the licence there)"


@dataclass
class ConvertSV3DWeights:
    """Convert Stability's SV3D checkpoint (sv3d_p.safetensors) into the diffusers folder `--weights` takes."""

    checkpoint: tyro.conf.Positional[Path]
    """The checkpoint file from Stability."""
    output_dir: tyro.conf.Positional[Path]
    """Folder to write (pass it to image-to-3d as --weights); it appears only once complete."""
    dtype: Optional[Literal["float16", "bfloat16", "float32"]] = None
    """Store the weights in this type (float16 halves a float32 checkpoint); default: as in the checkpoint."""
    overwrite: bool = False
    """Replace an earlier conversion at OUTPUT_DIR (it stays until the new one is complete)."""
    unet_head_channels: int = 64
    """Channels per UNet attention head (sv3d_p: 64; shapes cannot tell)."""
    clip_head_width: int = 80
    """Channels per image-encoder attention head (sv3d_p's OpenCLIP ViT-H-14: 80; shapes cannot tell)."""

    def main(self) -> int:
        if not self.checkpoint.is_file():
            raise UserError(f"{self.checkpoint}: no such checkpoint file; download it from {SV3D_CHECKPOINT_SOURCE}")
        from datagen.generators.sv3d.convert import convert_sv3d_checkpoint

        out = convert_sv3d_checkpoint(
            self.checkpoint,
            self.output_dir,
            dtype=self.dtype,
            unet_head_channels=self.unet_head_channels,
            clip_head_width=self.clip_head_width,
            overwrite=self.overwrite,
        )
        print(f"OK: {out}")
        print(f"next: datagen image-to-3d IMAGE --output-dir DIR --weights {out}")
        return 0


@dataclass
class ImageTo4D:
    """One picture -> a Stable Video Diffusion clip (saved) -> the video-to-4d path -> dataset (train with
    efficient4d)."""

    image: tyro.conf.Positional[Path]
    """Picture of the object: RGBA (object on transparency) or RGB on a plain background."""
    output_dir: Path
    """Dataset directory to write."""
    syncdreamer: Annotated[SyncDreamerSettings, tyro.conf.OmitArgPrefixes]
    """SyncDreamer-T settings."""
    svd: Annotated[SVDSettings, tyro.conf.OmitArgPrefixes] = field(default_factory=SVDSettings)
    """Stable Video Diffusion settings."""
    clip_dir: Optional[Path] = None
    """Where the clip goes (frames/ and clip.mp4); default: beside the dataset, named <output-dir>-clip."""
    frames: int = 16
    """K, the clip's frames given to SyncDreamer-T."""
    alpha: AlphaMode = "auto"
    """Object mask of the picture (see image-to-3d)."""
    clip_alpha: AlphaMode = "auto"
    """Object mask of the generated clip, one mode for all its frames (`auto`: key its white background)."""
    seed: int = SYNCDREAMER_SEED
    """Random seed of both samplings."""
    passes: int = 2
    """Midpoint interpolation passes (see video-to-4d)."""
    overwrite: bool = False
    """Replace an existing dataset (and clip) at --output-dir."""

    def main(self) -> int:
        out = image_to_4d_dataset(self)
        report(out, "efficient4d")
        return 0


def image_to_4d_dataset(command: ImageTo4D) -> Path:
    """Picture -> SVD clip (saved under ``command.clip_dir``) -> :func:`video_to_4d_dataset`."""
    from datagen import svd_clip

    clip_dir = command.clip_dir or Path(command.output_dir).with_name(Path(command.output_dir).name + "-clip")
    check_output(command.output_dir, command.overwrite)
    check_weight_files(command.syncdreamer)
    check_output(clip_dir, command.overwrite, "--clip-dir")
    if command.svd.svd_frames < command.frames:
        raise UserError(f"--svd-frames {command.svd.svd_frames} is fewer than --frames {command.frames}")
    rgba = load_rgba(command.image, command.alpha)
    framed = on_white(
        frame_object(rgba, command.svd.svd_resolution, SYNCDREAMER_FRACTION, "lanczos", str(command.image))
    )
    pipeline = svd_clip.load_svd_pipeline(command.svd.svd_weights, command.syncdreamer.device)  # tests replace it
    clip = svd_clip.generate_clip(pipeline, framed, command.svd, command.seed)
    del pipeline  # free its memory before SyncDreamer loads
    frames_dir = svd_clip.save_clip(clip, clip_dir, command.svd.svd_fps, command.overwrite)
    print(f"clip: {len(clip)} frames in {frames_dir} and {clip_dir / svd_clip.CLIP_VIDEO}")
    extra = {INPUT_IMAGE: encode_png(framed), "input/clip.mp4": (clip_dir / svd_clip.CLIP_VIDEO).read_bytes()}
    return video_to_4d_dataset(
        frames_dir,
        command.output_dir,
        command.syncdreamer,
        command.frames,
        command.clip_alpha,
        command.seed,
        command.passes,
        command.overwrite,
        extra_files=extra,
    )
