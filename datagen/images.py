"""Image input for the converters: reading frames and videos, natural sorting, background keying.

All pixels are uint8 arrays [H, W, 3] (RGB) or [H, W, 4] (RGBA, straight alpha).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from jaxtyping import UInt8
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
"""File types taken as frames in a folder."""


class ConvertError(ValueError):
    """Input that cannot become a dataset; the message names the file and the fix."""


def natural_key(path: Path) -> list:
    """Sort key that orders ``frame2.png`` before ``frame10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", Path(path).name)]


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder in natural order; raises if the folder is missing or has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConvertError(f"{folder}: not a directory; pass the folder holding the generated frames")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=natural_key)
    if not files:
        raise ConvertError(f"{folder}: no frames ({', '.join(IMAGE_SUFFIXES)} files); point the input at the frames")
    return files


def to_rgb_or_rgba(array: np.ndarray, source: str) -> UInt8[np.ndarray, "H W C"]:
    """Normalise a decoded image to uint8 RGB or RGBA (gray -> RGB, gray+alpha -> RGBA)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        if array.dtype.kind == "f":
            array = np.clip(np.round(array * 255.0), 0, 255)
        elif array.dtype == np.uint16:
            array = array // 257
        array = array.astype(np.uint8)
    if array.ndim == 2:
        array = array[..., None]
    channels = array.shape[-1] if array.ndim == 3 else 0
    if channels == 1:
        return np.repeat(array, 3, axis=-1)
    if channels == 2:
        return np.concatenate([np.repeat(array[..., :1], 3, axis=-1), array[..., 1:]], axis=-1)
    if channels in (3, 4):
        return np.ascontiguousarray(array)
    raise ConvertError(f"{source}: unsupported image shape {array.shape}; expected gray, RGB or RGBA")


def read_image(path: Path) -> UInt8[np.ndarray, "H W C"]:
    """Decode one image file to uint8 RGB/RGBA; a corrupt file raises naming it."""
    try:
        with Image.open(path) as image:
            if image.mode == "P":  # palette images: keep transparency when the palette has it
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
            elif image.mode not in ("L", "LA", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.mode else "RGB")
            array = np.asarray(image)
    except Exception as error:  # PIL raises many types for corrupt files
        raise ConvertError(f"{path}: cannot read the image ({error}); re-export it or remove it") from error
    return to_rgb_or_rgba(array, str(path))


def read_video(path: Path) -> list[UInt8[np.ndarray, "H W C"]]:
    """All frames of an MP4/GIF/WebP/... video (imageio), as uint8 RGB/RGBA."""
    import imageio.v3 as iio

    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"{path}: no such video file")
    if path.stat().st_size == 0:
        raise ConvertError(f"{path}: the video file is empty; check it was written completely")
    try:
        frames = [to_rgb_or_rgba(frame, str(path)) for frame in iio.imiter(path)]
    except ConvertError:
        raise
    except Exception as error:
        lines = [line for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
        reason = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"  # ffmpeg appends its whole log
        raise ConvertError(f"{path}: cannot decode the video ({reason}); re-encode it as MP4 or GIF") from error
    if not frames:
        raise ConvertError(f"{path}: the video has no frames; check the file was written completely")
    return frames


def resize(image: UInt8[np.ndarray, "H W C"], width: int, height: int) -> UInt8[np.ndarray, "h w C"]:
    """Area-averaged downsizing (Lanczos upsizing); alpha is resized like the colours (straight alpha)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrinking = width < image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4)


def key_background(
    image: UInt8[np.ndarray, "H W C"],
    color: tuple[int, int, int] = (255, 255, 255),
    tolerance: float = 10.0,
    softness: float = 30.0,
    connected_only: bool = True,
) -> UInt8[np.ndarray, "H W 4"]:
    """Key a solid background colour out into alpha.

    A pixel's distance to ``color`` (max over RGB, 0..255) maps to alpha 0 up to ``tolerance`` and ramps to 1 over
    the next ``softness`` levels, which gives anti-aliased edges a soft alpha. Edge colours are then un-mixed from
    the background (``c = a f + (1 - a) bg`` solved for ``f``) so that no white fringe shows on other backgrounds.
    With ``connected_only`` only background-coloured regions touching the image border are keyed, so white parts
    inside the object stay opaque. An existing alpha channel is combined by taking the minimum.

    Args:
        image: [H, W, 3|4] uint8.
        color: background RGB.
        tolerance: distance at or below which a pixel is pure background.
        softness: width of the ramp from transparent to opaque (> 0).
        connected_only: key only the background connected to the border.

    Returns:
        [H, W, 4] uint8 RGBA.
    """
    if softness <= 0 or tolerance < 0:
        raise ValueError(f"key tolerance={tolerance}, softness={softness}: need tolerance >= 0 and softness > 0")
    rgb = image[..., :3].astype(np.float32)
    background = np.asarray(color, dtype=np.float32)
    distance = np.abs(rgb - background).max(axis=-1)
    alpha = np.clip((distance - tolerance) / softness, 0.0, 1.0)
    if connected_only:
        candidate = (alpha < 1.0).astype(np.uint8)
        _, labels = cv2.connectedComponents(candidate, connectivity=8)
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        touching = np.isin(labels, border[border > 0])  # label 0 = opaque pixels
        alpha = np.where(touching, alpha, 1.0)
    if image.shape[-1] == 4:
        alpha = np.minimum(alpha, image[..., 3].astype(np.float32) / 255.0)
    safe = np.maximum(alpha, 1e-3)[..., None]
    unmixed = np.where(alpha[..., None] > 0, (rgb - (1.0 - alpha[..., None]) * background) / safe, rgb)
    out = np.concatenate([np.clip(unmixed, 0, 255), alpha[..., None] * 255.0], axis=-1)
    return np.round(out).astype(np.uint8)


def drop_alpha_on(image: UInt8[np.ndarray, "H W C"], color: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Composite RGBA onto a solid colour (RGB unchanged)."""
    if image.shape[-1] == 3:
        return image
    alpha = image[..., 3:].astype(np.float32) / 255.0
    rgb = image[..., :3].astype(np.float32) * alpha + np.asarray(color, np.float32) * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)
