"""Seeded, controlled inconsistencies that imitate what multi-view generators get wrong.

Kinds (each with a strength; 0 leaves labels equal to the clean renders):

- `warp`: a smooth random displacement field on the image (the object bends a little, differently per view);
- `phantom`: an extra part present in a random subset of views (the "extra arm" failure);
- `color_drift`: gain / offset / hue per view that varies smoothly with azimuth;
- `unseen_texture`: on the side the input image never saw, views with |azimuth| > 90 deg get an invented texture,
  blended in more the farther the view is from the front (for 4D it is also re-drawn at random times);
- `flicker`: brightness and colour jitter drawn independently per frame (per time and per view in 4D).

Everything but `unseen_texture` is scaled by `view_ramp(azimuth)` = sin^2(azimuth / 2): zero at the input view
(azimuth 0, which stays clean) and largest at the back, as in real generators.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal, Optional

import cv2
import numpy as np
import tyro
from jaxtyping import Float

from datagen.synthetic.animation import axis_angle_matrix

Level = Literal["none", "low", "medium", "high"]
KINDS = ("warp", "phantom", "color_drift", "unseen_texture", "flicker")

PRESETS: dict[str, dict[str, float]] = {
    "none": dict(warp=0.0, phantom=0.0, color_drift=0.0, unseen_texture=0.0, flicker=0.0),
    "low": dict(warp=1.5, phantom=0.15, color_drift=0.05, unseen_texture=0.35, flicker=0.02),
    "medium": dict(warp=3.0, phantom=0.35, color_drift=0.1, unseen_texture=0.65, flicker=0.04),
    "high": dict(warp=6.0, phantom=0.7, color_drift=0.2, unseen_texture=1.0, flicker=0.08),
}
"""Strength of each kind per preset level."""

REDRAW_PROBABILITY = 0.4
"""4D: chance that the invented back-side texture is re-drawn at a time step (temporal incoherence)."""
WARP_REFERENCE_RESOLUTION = 256
"""`warp` is given in pixels at this resolution and scales with the image size."""


@dataclass
class InconsistencyConfig:
    """How wrong the pseudo-labels are: a preset level with optional per-kind overrides."""

    # spelled --inconsistency on the command line, where `datagen synthetic` nests this config without a prefix
    level: Annotated[Level, tyro.conf.arg(name="inconsistency")] = "medium"
    """Preset for every kind (none | low | medium | high); the per-kind fields below override it."""
    warp: Optional[float] = None
    """Peak smooth displacement of the object, in pixels at 256 px (scaled with resolution), at the back view."""
    phantom: Optional[float] = None
    """Probability, at the back view, that a label shows the phantom part (0..1)."""
    color_drift: Optional[float] = None
    """Peak relative gain/offset change per view, smooth in azimuth; hue turns by up to 60x this many degrees."""
    unseen_texture: Optional[float] = None
    """Blend (0..1) of an invented texture on the unseen side at the back view."""
    flicker: Optional[float] = None
    """Standard deviation of the relative brightness/colour jitter drawn independently per frame."""

    @classmethod
    def none(cls) -> InconsistencyConfig:
        """Clean labels: every kind off."""
        return cls(level="none")

    def strengths(self) -> dict[str, float]:
        """The effective strength of each kind (preset, then overrides), validated."""
        if self.level not in PRESETS:
            raise ValueError(f"inconsistency level {self.level!r} is not one of {sorted(PRESETS)}")
        values = dict(PRESETS[self.level])
        for kind in KINDS:
            override = getattr(self, kind)
            if override is not None:
                values[kind] = float(override)
        for kind, value in values.items():
            if value < 0 or (kind in ("phantom", "unseen_texture") and value > 1):
                limit = "in [0, 1]" if kind in ("phantom", "unseen_texture") else ">= 0"
                raise ValueError(f"inconsistency strength {kind}={value} must be {limit}")
        return values

    def to_dict(self) -> dict:
        """JSON-serialisable record: the level, the overrides and the effective strengths."""
        return {**asdict(self), "strengths": self.strengths()}


@dataclass(frozen=True)
class FramePerturbation:
    """Everything that makes one label differ from its clean render.

    Attributes:
        show_phantom: render the phantom part.
        variant_blend: blend of the invented unseen-side texture (0..1).
        variant_redraw: which invented texture (4D re-draws it over time).
        gain: [3] RGB gain.
        offset: [3] RGB offset.
        hue_deg: hue rotation in degrees.
        warp_px: peak displacement in pixels at the image's resolution.
        warp_seed: seed of the displacement field.
    """

    show_phantom: bool = False
    variant_blend: float = 0.0
    variant_redraw: int = 0
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    hue_deg: float = 0.0
    warp_px: float = 0.0
    warp_seed: int = 0

    @property
    def changes_color(self) -> bool:
        return self.gain != (1.0, 1.0, 1.0) or self.offset != (0.0, 0.0, 0.0) or self.hue_deg != 0.0


def view_ramp(azimuth_deg: Float[np.ndarray, "N"]) -> Float[np.ndarray, "N"]:
    """sin^2(azimuth / 2): 0 at the input view, 1 at the back."""
    ramp = np.sin(np.radians(np.asarray(azimuth_deg, dtype=np.float64)) / 2.0) ** 2
    # Exactly 0 at azimuth 0 and 360 (float sin(pi) is not), so the input view stays bit-identical to its render.
    return np.where(ramp < 1e-9, 0.0, ramp)


def unseen_ramp(azimuth_deg: Float[np.ndarray, "N"]) -> Float[np.ndarray, "N"]:
    """0 for |azimuth| <= 90 deg, growing linearly to 1 at 180 deg."""
    folded = np.abs((np.asarray(azimuth_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0)
    return np.clip((folded - 90.0) / 90.0, 0.0, 1.0)


def _smooth_periodic(rng: np.random.Generator, azimuth_deg: np.ndarray, channels: int) -> np.ndarray:
    """[N, channels] random smooth functions of azimuth (harmonics 1 and 2), each of unit RMS over the circle."""
    coefficients = rng.normal(size=(channels, 2, 2))  # channel, harmonic, cos/sin
    angles = np.radians(azimuth_deg)[:, None, None] * np.array([1.0, 2.0])[None, :, None]
    waves = np.stack([np.cos(angles[..., 0]), np.sin(angles[..., 0])], axis=-1)  # [N, 2, 2]
    values = np.einsum("nhk,chk->nc", waves, coefficients)
    return values / np.sqrt((coefficients**2).sum(axis=(1, 2)) / 2.0)[None, :]


def plan_perturbations(
    strengths: dict[str, float],
    azimuth_deg: Float[np.ndarray, "N"],
    seed: int,
    resolution: int,
    num_times: int | None = None,
) -> list[list[FramePerturbation]]:
    """Draws the perturbation of every frame.

    Args:
        strengths: effective strengths (`InconsistencyConfig.strengths()`).
        azimuth_deg: [N] azimuth of each view (static: each frame; 4D: each of the views shared by all times).
        seed: dataset seed.
        resolution: image size in pixels (scales `warp`).
        num_times: None for a static dataset (one time); else the number of times of a 4D time x view matrix.

    Returns:
        [times][views] perturbations (one row for static datasets).
    """
    rng = np.random.default_rng([seed, 0x1C0])
    azimuth_deg = np.asarray(azimuth_deg, dtype=np.float64)
    times = 1 if num_times is None else num_times
    num_views = len(azimuth_deg)
    ramp, unseen = view_ramp(azimuth_deg), unseen_ramp(azimuth_deg)

    drift = _smooth_periodic(rng, azimuth_deg, 7) * (strengths["color_drift"] * ramp)[:, None]
    phantom_draw = rng.uniform(size=(times, num_views))
    flicker_draw = rng.normal(size=(times, num_views, 4))
    warp_seeds = rng.integers(2**31, size=(times, num_views))
    redraws = np.concatenate([[0], np.cumsum(rng.uniform(size=times - 1) < REDRAW_PROBABILITY)])
    warp_scale = strengths["warp"] * resolution / WARP_REFERENCE_RESOLUTION

    plan = []
    for t in range(times):
        row = []
        for v in range(num_views):
            # Common brightness plus a smaller per-channel part, so flicker changes both level and colour.
            flicker = strengths["flicker"] * ramp[v] * (flicker_draw[t, v, 0] + 0.5 * flicker_draw[t, v, 1:])
            gain = 1.0 + drift[v, :3] + flicker
            offset = 0.5 * drift[v, 3:6]
            row.append(
                FramePerturbation(
                    show_phantom=bool(phantom_draw[t, v] < strengths["phantom"] * ramp[v]),
                    variant_blend=float(strengths["unseen_texture"] * unseen[v]),
                    variant_redraw=int(redraws[t]) if num_times is not None else 0,
                    gain=(float(gain[0]), float(gain[1]), float(gain[2])),
                    offset=(float(offset[0]), float(offset[1]), float(offset[2])),
                    hue_deg=float(60.0 * drift[v, 6]),
                    warp_px=float(warp_scale * ramp[v]),
                    warp_seed=int(warp_seeds[t, v]),
                )
            )
        plan.append(row)
    return plan


def apply_color(rgba: Float[np.ndarray, "H W 4"], perturbation: FramePerturbation) -> Float[np.ndarray, "H W 4"]:
    """Gain, offset, then a hue rotation about the grey axis, on the object's pixels; alpha is unchanged."""
    if not perturbation.changes_color:
        return rgba
    out = rgba.copy()
    covered = rgba[..., 3] > 0
    rgb = rgba[covered, :3] * np.asarray(perturbation.gain) + np.asarray(perturbation.offset)
    if perturbation.hue_deg != 0.0:
        rgb = rgb @ axis_angle_matrix(np.ones(3), np.radians(perturbation.hue_deg)).T
    out[covered, :3] = np.clip(rgb, 0.0, 1.0)
    return out


def displacement_field(height: int, width: int, peak_px: float, seed: int) -> Float[np.ndarray, "H W 2"]:
    """A smooth random displacement field (a 4x4 grid of random vectors, bicubically upsampled) whose largest
    vector is `peak_px` long."""
    coarse = np.random.default_rng(seed).normal(size=(4, 4, 2)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    return field * (peak_px / max(np.linalg.norm(field, axis=-1).max(), 1e-12))


def apply_warp(rgba: Float[np.ndarray, "H W 4"], perturbation: FramePerturbation) -> Float[np.ndarray, "H W 4"]:
    """Resamples the image along a smooth displacement field (premultiplied, so edges do not pick up black).

    The output at pixel p is the input at p + field(p). Only the object's bounding box grown by the peak
    displacement can change, so the resampling is done on that crop (same result, a fraction of the work).
    """
    if perturbation.warp_px <= 0.0:
        return rgba
    height, width = rgba.shape[:2]
    covered = rgba[..., 3] > 0
    rows, columns = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    if rows.size == 0:
        return rgba
    margin = int(np.ceil(perturbation.warp_px)) + 2
    top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, height)
    left, right = max(columns[0] - margin, 0), min(columns[-1] + margin + 1, width)
    field = displacement_field(height, width, perturbation.warp_px, perturbation.warp_seed)[top:bottom, left:right]
    crop = rgba[top:bottom, left:right]
    grid_x, grid_y = np.meshgrid(np.arange(right - left, dtype=np.float32), np.arange(bottom - top, dtype=np.float32))
    premultiplied = np.concatenate([crop[..., :3] * crop[..., 3:], crop[..., 3:]], axis=-1).astype(np.float32)
    map_x: np.ndarray = grid_x + field[..., 0].astype(np.float32)
    map_y: np.ndarray = grid_y + field[..., 1].astype(np.float32)
    warped = cv2.remap(
        premultiplied,
        map_x,
        map_y,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0.0, 0.0, 0.0, 0.0),
    )
    alpha = np.clip(warped[..., 3:], 0.0, 1.0)
    rgb = np.where(alpha > 0, warped[..., :3] / np.maximum(alpha, 1e-12), 0.0)
    out = np.zeros_like(rgba)
    out[top:bottom, left:right] = np.concatenate([np.clip(rgb, 0.0, 1.0), alpha], axis=-1)
    return out
