"""Procedural colour textures evaluated in object (rest-pose) space.

Textures are functions of the 3D rest-pose position of a surface point, so a part keeps its pattern when it moves
and every view sees the same colour at the same surface point (the clean renders are multi-view consistent). Edges
between colours are softened over a fraction of a period so that small renders (64 px) do not alias badly.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace

import numpy as np
from jaxtyping import Float

PATTERNS = ("solid", "stripes", "checker", "rings", "noise")
"""Pattern kinds a part can carry."""

_NUM_WAVES = 6
"""Plane waves summed by the `noise` pattern."""


@dataclass(frozen=True)
class Texture:
    """A procedural pattern mixing a small palette.

    Attributes:
        kind: one of `PATTERNS`.
        colors: [3, 3] palette, RGB in [0, 1]; `solid` uses the first, two-colour patterns the first two and
            `noise` all three.
        frequency: spatial frequency in cycles per object-space unit.
        rotation: [3, 3] rotation applied to positions before the pattern (orients stripes and checkers).
        offset: [3] translation applied to positions before the pattern (its phase).
        waves: [_NUM_WAVES, 4] for `noise`: unit direction (3) and a frequency factor (1) per plane wave.
    """

    kind: str
    colors: np.ndarray
    frequency: float
    rotation: np.ndarray
    offset: np.ndarray
    waves: np.ndarray


def random_palette(rng: np.random.Generator, base_hue: float | None = None) -> Float[np.ndarray, "3 3"]:
    """Three saturated, bright colours around a (random) base hue: the base, a neighbour and an opposite-ish one."""
    hue = rng.uniform(0.0, 1.0) if base_hue is None else base_hue
    hues = [hue, hue + rng.uniform(0.08, 0.2), hue + rng.uniform(0.4, 0.6)]
    colors = []
    for k, h in enumerate(hues):
        saturation = rng.uniform(0.55, 0.9)
        value = rng.uniform(0.75, 1.0) if k != 1 else rng.uniform(0.35, 0.6)
        colors.append(colorsys.hsv_to_rgb(h % 1.0, saturation, value))
    return np.asarray(colors, dtype=np.float64)


def random_rotation(rng: np.random.Generator) -> Float[np.ndarray, "3 3"]:
    """A uniformly random rotation matrix (QR of a Gaussian matrix with the sign fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_texture(
    rng: np.random.Generator, kinds: tuple[str, ...] = PATTERNS[1:], base_hue: float | None = None
) -> Texture:
    """Draws a texture: pattern kind, palette, frequency (1.5..4 cycles per unit), orientation and phase."""
    waves = rng.normal(size=(_NUM_WAVES, 3))
    waves /= np.linalg.norm(waves, axis=1, keepdims=True)
    factors = rng.uniform(0.7, 1.6, size=(_NUM_WAVES, 1))
    return Texture(
        kind=str(rng.choice(kinds)),
        colors=random_palette(rng, base_hue),
        frequency=float(rng.uniform(1.5, 4.0)),
        rotation=random_rotation(rng),
        offset=rng.uniform(-1.0, 1.0, size=3),
        waves=np.concatenate([waves, factors], axis=1),
    )


def solid_texture(rgb: tuple[float, float, float]) -> Texture:
    """A single-colour texture (eyes, pupils)."""
    colors = np.tile(np.asarray(rgb, dtype=np.float64), (3, 1))
    return Texture("solid", colors, 1.0, np.eye(3), np.zeros(3), np.zeros((_NUM_WAVES, 4)))


def variant_texture(texture: Texture, rng: np.random.Generator) -> Texture:
    """A visibly different texture for the same part: another pattern, shifted hues, another phase and scale.

    This is what a generator invents for the side of an object it never saw.
    """
    if texture.kind == "solid":
        return texture
    other_kinds = tuple(k for k in PATTERNS[1:] if k != texture.kind)
    hue_shift = rng.uniform(0.25, 0.75)
    colors = []
    for rgb in texture.colors:
        h, s, v = colorsys.rgb_to_hsv(*rgb)
        colors.append(colorsys.hsv_to_rgb((h + hue_shift) % 1.0, s, v))
    return replace(
        texture,
        kind=str(rng.choice(other_kinds)),
        colors=np.asarray(colors, dtype=np.float64),
        frequency=float(texture.frequency * rng.uniform(1.2, 1.8)),
        rotation=random_rotation(rng),
        offset=rng.uniform(-1.0, 1.0, size=3),
    )


def _soft_sign(x: np.ndarray, sharpness: float = 4.0) -> np.ndarray:
    """sign(x) with a linear ramp of width 2/sharpness; applied to sines, it keeps pattern edges anti-aliased."""
    return np.clip(x * sharpness, -1.0, 1.0)


def evaluate_texture(texture: Texture, points_rest: Float[np.ndarray, "M 3"]) -> Float[np.ndarray, "M 3"]:
    """Albedo of a texture at rest-pose surface points.

    Args:
        texture: the pattern.
        points_rest: [M, 3] object-space positions.

    Returns:
        [M, 3] RGB albedo in [0, 1].
    """
    colors = texture.colors
    if texture.kind == "solid" or len(points_rest) == 0:
        return np.broadcast_to(colors[0], points_rest.shape).copy()
    p = (points_rest + texture.offset) @ texture.rotation.T
    omega = 2.0 * np.pi * texture.frequency
    if texture.kind == "stripes":
        mix = 0.5 + 0.5 * _soft_sign(np.sin(omega * p[:, 0]))
    elif texture.kind == "checker":
        mix = 0.5 + 0.5 * _soft_sign(np.sin(omega * p[:, 0])) * _soft_sign(np.sin(omega * p[:, 1]))
    elif texture.kind == "rings":
        mix = 0.5 + 0.5 * _soft_sign(np.sin(omega * np.linalg.norm(p[:, :2], axis=1)))
    elif texture.kind == "noise":
        directions, factors = texture.waves[:, :3], texture.waves[:, 3]
        phases = np.arange(len(factors)) * 1.7
        field = np.sin(omega * 0.6 * (p @ directions.T) * factors + phases).sum(axis=1) / np.sqrt(len(factors))
        # Three colours: the base, then the second colour in the troughs and the third on the peaks.
        low = np.clip(-field, 0.0, 1.0)[:, None]
        high = np.clip(field, 0.0, 1.0)[:, None]
        return colors[0] * (1.0 - low - high) + colors[1] * low + colors[2] * high
    else:
        raise ValueError(f"texture kind {texture.kind!r} is not one of {PATTERNS}")
    return colors[0] * mix[:, None] + colors[1] * (1.0 - mix[:, None])
