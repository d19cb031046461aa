"""A clip (a video file or a folder of frames) -> the K framed frames SyncDreamer-T takes.

Subsampling is the released code's (Efficient4D ``prepare_inputs`` + ``generate.py``): ``seg = max(num // K, 1)``,
``frames[::seg][:K]``. Every frame gets its mask the same way (one alpha mode, one background colour, decided on the
whole clip) and the same framing: the union of the frames' bounding boxes is scaled to SyncDreamer's 200 px in
256 and centred. The released code frames each image on its own box instead; with a moving object that rescales and
shifts every frame differently (a figure raising its arms would shrink), which the fixed cameras of the time x view
matrix would turn into false motion. One framing keeps the object's motion as it was filmed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jaxtyping import UInt8

from datagen.images import ConvertError, key_background, list_images, read_image, read_video
from datagen.preprocess import (
    SYNCDREAMER_FRACTION,
    SYNCDREAMER_SIZE,
    AlphaMode,
    Resample,
    alpha_box,
    apply_framing,
    as_rgba,
    border_colour,
    empty_alpha_message,
    on_white,
    plan_framing,
    remove_background,
    resolve_alpha_mode,
    union_box,
)
from datagen.user_errors import UserError

MIN_FRAMES = 2
"""A 4D dataset needs motion: at least two times."""


def subsample_indices(num_frames: int, count: int) -> list[int]:
    """Indices of the frames kept, as the released code: ``seg = max(num // count, 1)``, then
    ``range(num)[::seg][:count]``."""
    seg = max(num_frames // count, 1)
    return list(range(num_frames))[::seg][:count]


def read_clip(path: Path) -> tuple[list[UInt8[np.ndarray, "H W C"]], list[str]]:
    """Every frame of a video file or of a folder of images (natural order), with a name for each in errors.

    Raises:
        UserError: missing path, no frames, an unreadable frame, or frames of different sizes.
    """
    path = Path(path)
    try:
        if path.is_dir():
            files = list_images(path)
            frames, names = [read_image(f) for f in files], [str(f) for f in files]
        elif path.is_file():
            frames = read_video(path)
            names = [f"{path} frame {i}" for i in range(len(frames))]
        else:
            raise UserError(f"{path}: no such video file or folder of frames")
    except ConvertError as error:
        raise UserError(str(error)) from error
    first = frames[0].shape[:2]
    for frame, name in zip(frames, names, strict=True):
        if frame.shape[:2] != first:
            raise UserError(
                f"{name}: {frame.shape[1]}x{frame.shape[0]} pixels, but the clip's first frame is "
                f"{first[1]}x{first[0]}; give frames of one size"
            )
    return frames, names


def clip_frames(
    path: Path,
    count: int,
    alpha: AlphaMode = "auto",
    size: int = SYNCDREAMER_SIZE,
    fraction: float = SYNCDREAMER_FRACTION,
    resample: Resample = "bicubic",
) -> tuple[list[UInt8[np.ndarray, "S S 4"]], list[int]]:
    """The clip's ``count`` subsampled frames, masked and framed alike (see the module docstring).

    Returns:
        The framed RGBA frames [size, size, 4] (composite with :func:`on_white` for the generator), and the indices
        of the source frames they came from.

    Raises:
        UserError: as :func:`read_clip`, fewer than ``count`` (or 2) frames, or no object in any frame.
    """
    if count < MIN_FRAMES:
        raise UserError(f"--frames {count}: a moving asset needs at least {MIN_FRAMES} frames")
    frames, names = read_clip(path)
    if len(frames) < MIN_FRAMES:
        raise UserError(
            f"{path}: {len(frames)} frame, not a clip; give a video or a folder of frames, or make a clip from one "
            "picture with `datagen image-to-4d`"
        )
    if len(frames) < count:
        raise UserError(
            f"{path}: {len(frames)} frame(s), fewer than --frames {count}; pass --frames {max(len(frames), 2)} "
            "or a longer clip"
        )
    indices = subsample_indices(len(frames), count)
    chosen = [frames[i] for i in indices]
    masked = mask_clip(chosen, alpha, str(path))
    box = union_box([alpha_box(f[..., 3]) for f in masked])
    if box is None:
        raise UserError(empty_alpha_message(f"{path} (all {count} frames)"))
    framing = plan_framing(box, masked[0].shape, size, fraction)
    return [apply_framing(f, framing, resample) for f in masked], indices


def mask_clip(frames: list[np.ndarray], alpha: AlphaMode, source: str) -> list[UInt8[np.ndarray, "H W 4"]]:
    """Every frame's RGBA, with one alpha mode and (for keying) one background colour for the whole clip."""
    mode = resolve_alpha_mode(frames, alpha, source)
    if mode == "keep":
        return [as_rgba(f) for f in frames]
    if mode == "key":
        colour = border_colour(frames)
        return [key_background(f[..., :3], colour) for f in frames]
    return [remove_background(f, source) for f in frames]


def frames_on_white(frames: list[np.ndarray]) -> list[UInt8[np.ndarray, "S S 3"]]:
    """The framed RGBA frames composited on white (the generator's input)."""
    return [on_white(f) for f in frames]
