"""What a user chooses about an SV3D run, and the one entry point that builds the generator from it."""

from __future__ import annotations

from dataclasses import dataclass

from datagen.generators.base import MultiViewGenerator

TINY_RANDOM = "tiny-random"
"""``weights`` value that builds tiny randomly initialised networks: the frames are noise; for trying the plumbing."""


@dataclass
class SV3DSettings:
    """SV3D sampling settings; defaults are the reference ones (21 frames, 50 Euler EDM steps, 576 px)."""

    weights: str
    """A diffusers-format directory (see ``datagen convert-sv3d-weights``), a hub id, or ``tiny-random``."""
    device: str = "auto"
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda``, ``cuda:1``, ..."""
    steps: int = 50
    frames_per_orbit: int = 21
    amplitudes_deg: tuple[float, ...] = (0.0, -20.0, 40.0)
    resolution: int = 576
    cpu_offload: bool = False
    decode_chunk_size: int = 7
    progress: bool = True


def load_sv3d_generator(settings: SV3DSettings) -> MultiViewGenerator:
    """Build the SV3D generator; missing weights raise a ``UserError`` naming the file before anything heavy loads.

    The generator's ``generate(image, seed=...)`` takes one framed ``[S, S, 3]`` uint8 image on white (``S`` =
    ``settings.resolution``) and returns the orbits' views with cameras.
    """
    raise NotImplementedError("SV3D generator")
