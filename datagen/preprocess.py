"""The user's input image -> the framed image a multi-view generator expects: an alpha mask, then the object
recentred and rescaled on a white square.

Both generators frame the object the same way in their released code, with different numbers:

- SV3D (``scripts/sampling/simple_video_sample.py``): the alpha bounding box's longest side becomes
  ``frame_ratio`` of a square (default: the object keeps its share of the input image), centred, resized to 576 px
  with Lanczos, composited on white.
- SyncDreamer (``prepare_inputs``): the bounding box's longest side resized to ``crop_size`` 200 (bicubic), pasted
  centred in 256 x 256, composited on white; i.e. an object fraction of 200 / 256.

:func:`frame_object` is the one implementation of both, parameterised by output size, object fraction and filter.
All pixels are uint8: [H, W, 3] RGB or [H, W, 4] RGBA with straight alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np
from jaxtyping import UInt8
from PIL import Image

from datagen.images import ConvertError, drop_alpha_on, key_background, read_image
from datagen.user_errors import UserError

AlphaMode = Literal["auto", "keep", "key", "rembg"]
"""How the object mask is found: ``keep`` an RGBA image's alpha (RGB: all opaque), ``key`` a plain background
colour out, ``rembg`` a segmentation network, ``auto`` keep a real alpha channel, else key a plain background."""
Resample = Literal["lanczos", "bicubic"]

SV3D_SIZE = 576
"""SV3D's input side in pixels."""
SYNCDREAMER_SIZE = 256
"""SyncDreamer's input side in pixels."""
SYNCDREAMER_CROP = 200
"""Side the released SyncDreamer code resizes the object's longest side to (``--crop_size``)."""
SYNCDREAMER_FRACTION = SYNCDREAMER_CROP / SYNCDREAMER_SIZE
PLAIN_TOLERANCE = 12.0
"""A border pixel within this distance (max over RGB, 0..255) of the border's median colour is background."""
PLAIN_SHARE = 0.9
"""``auto`` keys only when at least this share of the border pixels is background (a plain backdrop)."""
WHITE = (255, 255, 255)

Box = tuple[int, int, int, int]
"""Bounding box ``(x0, y0, x1, y1)`` in pixels, end-exclusive."""


@dataclass(frozen=True)
class Framing:
    """How a bounding box maps onto the output square: resize by ``scale``, paste at ``(left, top)``."""

    box: Box
    size: int
    scale: float
    left: int
    top: int


def load_rgba(path: Path, alpha: AlphaMode = "auto") -> UInt8[np.ndarray, "H W 4"]:
    """Read an image file and give it an object mask (see :data:`AlphaMode`).

    Raises:
        UserError: the file is missing or unreadable, or no mask can be found the chosen way.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such image file; pass the picture of the object")
    try:
        image = read_image(path)
    except ConvertError as error:
        raise UserError(str(error)) from error
    return with_alpha(image, alpha, str(path))


def with_alpha(image: UInt8[np.ndarray, "H W C"], alpha: AlphaMode, source: str) -> UInt8[np.ndarray, "H W 4"]:
    """An RGB(A) image as RGBA with the object mask found the ``alpha`` way (``source`` names it in errors)."""
    mode = resolve_alpha_mode([image], alpha, source)
    if mode == "keep":
        return as_rgba(image)
    if mode == "key":
        return key_background(image[..., :3], border_colour([image]))
    return remove_background(image, source)


def resolve_alpha_mode(images: list[np.ndarray], alpha: AlphaMode, source: str) -> AlphaMode:
    """``auto`` decided for a set of images (one clip shares one mode): a real alpha channel (some pixel below 255)
    is kept, else a plain border is keyed; other modes are returned unchanged.

    Raises:
        UserError: ``auto`` on an opaque image whose border is not a plain colour.
    """
    if alpha != "auto":
        return alpha
    if all(image.shape[-1] == 4 and int(image[..., 3].min()) < 255 for image in images):
        return "keep"
    colour = border_colour(images)
    share = plain_share(images, colour)
    if share >= PLAIN_SHARE:
        return "key"
    raise UserError(
        f"{source}: no alpha channel and the background is not one plain colour ({100 * share:.0f} % of the border "
        f"is within {PLAIN_TOLERANCE:g} levels of {colour}); give an RGBA image (object on transparency), use "
        "--alpha rembg (segmentation network, optional extra), or --alpha key to key the border colour anyway"
    )


def as_rgba(image: UInt8[np.ndarray, "H W C"]) -> UInt8[np.ndarray, "H W 4"]:
    """RGBA unchanged; RGB made fully opaque."""
    if image.shape[-1] == 4:
        return image
    return np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=-1)


def _border(image: np.ndarray) -> np.ndarray:
    rgb = image[..., :3]
    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]], axis=0)


def border_colour(images: list[np.ndarray]) -> tuple[int, int, int]:
    """The background colour: the per-channel median of the images' one-pixel border."""
    pixels = np.concatenate([_border(image) for image in images], axis=0)
    r, g, b = (int(v) for v in np.median(pixels, axis=0).round())
    return (r, g, b)


def plain_share(images: list[np.ndarray], colour: tuple[int, int, int]) -> float:
    """Share of border pixels within :data:`PLAIN_TOLERANCE` of ``colour``."""
    pixels = np.concatenate([_border(image) for image in images], axis=0).astype(np.float32)
    distance = np.abs(pixels - np.asarray(colour, np.float32)).max(axis=-1)
    return float(np.mean(distance <= PLAIN_TOLERANCE))


def remove_background(image: UInt8[np.ndarray, "H W C"], source: str) -> UInt8[np.ndarray, "H W 4"]:
    """The object cut out by ``rembg`` (optional extra; its u2net model is downloaded on first use).

    Raises:
        UserError: rembg is not installed, or its model cannot be loaded (offline), saying what to do instead.
    """
    instead = "or use --alpha key for an object on a plain background, or give an RGBA image"
    try:
        import rembg
    except ImportError as error:
        raise UserError(
            f"{source}: --alpha rembg needs the optional package rembg: pip install 'rembg[cpu]' "
            f"(it downloads its u2net model on first use), {instead}"
        ) from error
    try:
        cut = rembg.remove(Image.fromarray(np.ascontiguousarray(image[..., :3])))
    except Exception as error:  # network, model file and runtime errors alike
        raise UserError(
            f"{source}: rembg could not run ({type(error).__name__}: {error}); it downloads its u2net model to "
            f"~/.u2net on first use, which needs the network once; {instead}"
        ) from error
    return as_rgba(np.asarray(cut.convert("RGBA")))


def alpha_box(alpha: UInt8[np.ndarray, "H W"]) -> Optional[Box]:
    """Bounding box of the pixels with alpha > 0 (as both released scripts threshold), or None if there are none."""
    rows, cols = np.nonzero(np.asarray(alpha) > 0)
    if rows.size == 0:
        return None
    return (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)


def union_box(boxes: list[Optional[Box]]) -> Optional[Box]:
    """The smallest box holding every given box (None entries are skipped; None if all are)."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    x0, y0, x1, y1 = zip(*present, strict=True)
    return (min(x0), min(y0), max(x1), max(y1))


def plan_framing(box: Box, image_shape: tuple[int, ...], size: int, fraction: Optional[float]) -> Framing:
    """Where ``box`` goes in a ``size`` square: its longest side becomes ``fraction * size`` and it is centred.

    ``fraction`` None keeps the object's share of the input image (SV3D's default: the square's side is the input
    image's longest side).
    """
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    longest = max(box_w, box_h)
    if fraction is None:
        fraction = longest / max(image_shape[0], image_shape[1])
    if not 0.0 < fraction <= 1.0:
        raise UserError(f"--frame-ratio {fraction:g}: the object's share of the frame must be in (0, 1]")
    scale = fraction * size / longest
    new_w, new_h = max(1, round(box_w * scale)), max(1, round(box_h * scale))
    return Framing(box, size, scale, (size - new_w) // 2, (size - new_h) // 2)


def apply_framing(
    rgba: UInt8[np.ndarray, "H W 4"], framing: Framing, resample: Resample = "lanczos"
) -> UInt8[np.ndarray, "S S 4"]:
    """Crop ``framing.box``, resize it by ``framing.scale`` and paste it on a transparent square.

    Pillow resizes RGBA with premultiplied alpha, so transparent pixels' colours do not bleed into the edge.
    """
    x0, y0, x1, y1 = framing.box
    crop = Image.fromarray(np.ascontiguousarray(rgba[y0:y1, x0:x1]), "RGBA")
    new_w, new_h = max(1, round((x1 - x0) * framing.scale)), max(1, round((y1 - y0) * framing.scale))
    filt = Image.Resampling.LANCZOS if resample == "lanczos" else Image.Resampling.BICUBIC
    canvas = Image.new("RGBA", (framing.size, framing.size), (0, 0, 0, 0))
    canvas.paste(crop.resize((new_w, new_h), filt), (framing.left, framing.top))
    return np.asarray(canvas)


def frame_object(
    rgba: UInt8[np.ndarray, "H W 4"],
    size: int,
    fraction: Optional[float],
    resample: Resample = "lanczos",
    source: str = "image",
) -> UInt8[np.ndarray, "S S 4"]:
    """The object of one RGBA image centred on a ``size`` square, its longest side ``fraction`` of the square.

    Raises:
        UserError: the alpha is empty (nothing to frame).
    """
    box = alpha_box(rgba[..., 3])
    if box is None:
        raise UserError(empty_alpha_message(source))
    return apply_framing(rgba, plan_framing(box, rgba.shape, size, fraction), resample)


def empty_alpha_message(source: str) -> str:
    return (
        f"{source}: the object mask is empty (every pixel transparent or keyed away), so there is nothing to frame; "
        "check the image shows the object, or choose another --alpha mode"
    )


def on_white(rgba: UInt8[np.ndarray, "H W 4"]) -> UInt8[np.ndarray, "H W 3"]:
    """Composite onto white, as both generators' input preparation does."""
    return drop_alpha_on(rgba, WHITE)


def sv3d_input(
    path: Path, alpha: AlphaMode = "auto", frame_ratio: Optional[float] = None, size: int = SV3D_SIZE
) -> UInt8[np.ndarray, "S S 3"]:
    """The SV3D input for an image file: masked, framed (Lanczos), on white; [size, size, 3] uint8."""
    rgba = load_rgba(path, alpha)
    return on_white(frame_object(rgba, size, frame_ratio, "lanczos", str(path)))
