"""What a user chooses about a SyncDreamer-T run, and the one entry point that builds the generator from it."""

from __future__ import annotations

from dataclasses import dataclass

from datagen.generators.base import MultiViewGenerator

TINY_RANDOM = "tiny-random"
"""``checkpoint`` value that builds tiny randomly initialised networks: the views are noise; for the plumbing."""


@dataclass
class SyncDreamerSettings:
    """SyncDreamer-T sampling settings; defaults are the released code's (50 DDIM steps, eta 1, decomposed guidance)."""

    checkpoint: str
    """Path to ``syncdreamer-pretrain.ckpt``, or ``tiny-random``."""
    clip_weights: str = ""
    """Path to OpenAI CLIP ``ViT-L-14.pt`` (the image encoder SyncDreamer conditions on)."""
    device: str = "auto"
    steps: int = 50
    elevation_deg: float = 0.0
    """Elevation of the input view (degrees, > 0 = camera above the object)."""
    smooth: bool = True
    """Time-synchronous spatial volumes (SyncDreamer-T); False samples every frame independently of the others."""
    cyclic: bool = False
    """The clip loops: smoothing wraps around from the last frame to the first."""
    frames_per_batch: int = 4
    progress: bool = True


def load_syncdreamer_t_generator(settings: SyncDreamerSettings) -> MultiViewGenerator:
    """Build the SyncDreamer-T generator; missing files raise a ``UserError`` naming each one before heavy loading.

    The generator's ``generate(frames, seed=...)`` takes the clip's K framed ``[256, 256, 3]`` uint8 frames on white
    and returns the K x 16 views with ``time``, ``view`` and cameras.
    """
    raise NotImplementedError("SyncDreamer-T generator")
