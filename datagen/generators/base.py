"""The generator seam: what a multi-view generator returns, and the interface it implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from jaxtyping import UInt8


@dataclass
class GeneratedView:
    """One generated frame and the camera it was generated for (``datagen.cameras`` conventions)."""

    image: UInt8[np.ndarray, "H W C"]
    """[H, W, 3|4] uint8 pixels; RGBA: alpha is the object mask; RGB: white background."""
    azimuth_deg: float
    """Azimuth in degrees, 0 = the input view, counter-clockwise seen from +z."""
    elevation_deg: float
    """Elevation in degrees, > 0 = camera above the object."""
    radius: float
    """Camera distance from the object at the origin."""
    orbit: int = 0
    """Orbit index, 0 = trained first (-1: belongs to no orbit)."""
    time: Optional[float] = None
    """Normalised time in [0, 1] (4D generators), else None."""
    view: Optional[int] = None
    """View index within a time x view matrix (4D generators), else None."""
    name: Optional[str] = None
    """File name under ``images/``; None: the dataset writer names it from orbit/index or time/view."""
    split: str = "train"
    """``"train"`` (pseudo-label) or ``"test"`` (ground truth, where a generator has it)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Further JSON-serialisable per-frame keys (e.g. ``{"input_view": True}``, ``{"interpolated": False}``)."""


@dataclass
class GeneratedFrames:
    """Everything a generator produced for one input: the views, one pinhole camera model, and how."""

    views: list[GeneratedView]
    """The frames in the order they should be listed."""
    fov_deg: float
    """Horizontal field of view of every view, in degrees (square pixels, centred principal point)."""
    record: dict[str, Any]
    """The dataset's ``generator`` record: name, model, seed, steps, guidance, ... (free-form, JSON)."""


class MultiViewGenerator(ABC):
    """A model that generates views of an object with known cameras from an image or a clip's frames."""

    name: str = "generator"
    """Recorded as ``generator.name`` in the dataset."""

    @abstractmethod
    def generate(self, inputs: Any, *, seed: int) -> GeneratedFrames:
        """Generate the views.

        Args:
            inputs: an [H, W, 3|4] uint8 image (image generators) or a list of them (clip generators).
            seed: random seed; the same seed and inputs give the same frames.
        """
