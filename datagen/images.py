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
    """Normalise a decoded image to uint8 RGB or RGBA (gray -> RGB, gray+alpha -> RGBA; 16-bit scaled by 1/257)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        if array.dtype.kind == "f":
            array = np.clip(np.round(array * 255.0), 0, 255)
        elif array.dtype.kind in "ui" and array.dtype.itemsize == 2:
            array = np.round(array.astype(np.float32) / 257.0)  # 16-bit: scale, never wrap mod 256
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


STOCK_READABLE_MODES = ("RGB", "RGBA", "L")
"""Pillow modes that nerfstudio's own image loader reads correctly (it takes any other mode's raw bytes as uint8)."""
_CONVERTED_MODES = {"1": "L", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB"}
"""Modes decoded by Pillow's own conversion (premultiplied alpha un-multiplied, CMYK/YCbCr/Lab to RGB)."""


def mode_is_decodable(mode: str) -> bool:
    """Whether :func:`pixels_of` has a reading for a Pillow mode (32-bit integer images still need in-range values)."""
    return mode in ("L", "LA", "RGB", "RGBA", "P", "PA", "I") or mode in _CONVERTED_MODES or mode.startswith("I;16")


def pixels_of(image: Image.Image, source: str) -> UInt8[np.ndarray, "H W C"]:
    """The pixels of an opened Pillow image as uint8 RGB/RGBA, whatever its mode.

    Palette images go through their palette (with its transparency as alpha), 16-bit grey is scaled (not wrapped
    mod 256), CMYK / YCbCr / Lab are converted to RGB. 32-bit integer images are taken as 16-bit (how Pillow opens
    some 16-bit PNGs) and rejected when their values exceed that range; floating-point images are rejected.

    Raises:
        ConvertError: a mode with no unambiguous 8-bit reading; the message names ``source`` and the fix.
    """
    mode = image.mode
    if mode in ("P", "PA"):
        image = image.convert("RGBA" if mode == "PA" or "transparency" in image.info else "RGB")
    elif mode in _CONVERTED_MODES:
        image = image.convert(_CONVERTED_MODES[mode])
    elif mode == "I":
        array = np.asarray(image)
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise ConvertError(f"{source}: 32-bit integer pixels outside 0..65535; save it as an 8-bit RGB(A) PNG")
        return to_rgb_or_rgba(array.astype(np.uint16), source)
    elif not mode_is_decodable(mode):
        raise ConvertError(f"{source}: pixel mode {mode!r} has no unambiguous 8-bit reading; save it as RGB(A) PNG")
    return to_rgb_or_rgba(np.asarray(image), source)


def read_image(path: Path) -> UInt8[np.ndarray, "H W C"]:
    """Decode one image file to uint8 RGB/RGBA (any mode, see :func:`pixels_of`); a corrupt file raises naming it."""
    try:
        with Image.open(path) as image:
            return pixels_of(image, str(path))
    except ConvertError:
        raise
    except Exception as error:  # PIL raises many types for corrupt files
        raise ConvertError(f"{path}: cannot read the image ({error}); re-export it or remove it") from error


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
