"""What a user chooses about a SyncDreamer-T run, and the one entry point that builds the generator from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from datagen.generators.base import MultiViewGenerator

TINY_RANDOM = "tiny-random"
"""``checkpoint`` value that builds tiny randomly initialised networks: the views are noise; for the plumbing."""


@dataclass
class SyncDreamerSettings:
    """SyncDreamer-T sampling settings; defaults are the released code's (50 DDIM steps, eta 1, decomposed guidance)."""

    checkpoint: str
    """Path to `syncdreamer-pretrain.ckpt`, or `tiny-random` (tiny random networks: noise views, for the plumbing)."""
    clip_weights: str = ""
    """Path to OpenAI CLIP `ViT-L-14.pt` (the image encoder SyncDreamer conditions on)."""
    device: str = "auto"
    """`auto` (CUDA when present, else CPU), `cpu`, `cuda`, `cuda:1`, ..."""
    steps: int = 50
    """DDIM steps; must divide 1000 (the released sampler's timesteps)."""
    elevation_deg: float = 0.0
    """Elevation of the input view (degrees, > 0 = camera above the object)."""
    smooth: bool = True
    """Time-synchronous spatial volumes (SyncDreamer-T); --no-smooth samples every frame independently."""
    cyclic: bool = False
    """The clip loops: smoothing wraps around from the last frame to the first."""
    frames_per_batch: int = 4
    """Frames whose 16 views go through the noise predictor together (memory: about 4 per 40 GB GPU)."""
    views_per_batch: int = 16
    """Views per noise-predictor call (fewer: less memory, slower)."""
    guidance: Literal["decomposed", "cfg"] = "decomposed"
    """`decomposed` (Efficient4D's run; scales: --cfg-scales) or `cfg` (classifier-free; scale: --cfg-scale)."""
    cfg_scale: float = 2.0
    """Classifier-free guidance scale; used with --guidance cfg only (Efficient4D's --cfg_scale)."""
    cfg_scales: tuple[float, ...] = (2.0, 1.0)
    """Decomposed guidance scales (image, volume condition); used with --guidance decomposed only (as --cfg_scales)."""
    eta: float = 1.0
    """DDIM eta: 1 as the released sampler (stochastic), 0 deterministic."""
    autocast: bool = True
    """On CUDA, run the frustum volumes and the UNet in float16 autocast, as Efficient4D does."""
    progress: bool = True
    """Show a progress bar over the denoising steps."""


def load_syncdreamer_t_generator(settings: SyncDreamerSettings) -> MultiViewGenerator:
    """Build the SyncDreamer-T generator; missing files raise a ``UserError`` naming each one before heavy loading.

    The generator's ``generate(frames, seed=...)`` takes the clip's K framed ``[256, 256, 3]`` uint8 frames on white
    and returns the K x 16 views with ``time``, ``view`` and cameras.
    """
    from datagen.generators.syncdreamer.generator import build_generator

    return build_generator(settings)
