"""What a user chooses about an SV3D run, and the one entry point that builds the generator from it."""

from __future__ import annotations

from dataclasses import dataclass

from datagen.generators.base import MultiViewGenerator
from datagen.generators.sv3d.components import TINY_RANDOM, resolve_weights
from datagen.options import check_options
from datagen.user_errors import UserError

VAE_FACTOR = 8
"""sv3d_p's VAE downsampling: the image side must be a multiple of it (checked before the weights load)."""

__all__ = ["SV3DSettings", "TINY_RANDOM", "load_sv3d_generator"]


@dataclass
class SV3DSettings:
    """SV3D sampling settings; defaults are the reference ones (21 frames, 50 Euler EDM steps, 576 px) plus PAG."""

    weights: str
    """A diffusers-format directory (see `datagen convert-sv3d-weights`), a hub id, or `tiny-random`."""
    device: str = "auto"
    """`auto` (CUDA when present, else CPU), `cpu`, `cuda`, `cuda:1`, ..."""
    steps: int = 50
    """Euler EDM sampling steps (SV3D's reference: 50)."""
    frames_per_orbit: int = 21
    """Frames per SV3D call (sv3d_p was trained on 21)."""
    amplitudes_deg: tuple[float, ...] = (0.0, -20.0, 40.0)
    """Elevation amplitude of each orbit (elevation = amplitude x sin(azimuth)); RIGI's three orbits."""
    resolution: int = 576
    """Input and output size in pixels (sv3d_p was trained at 576)."""
    cpu_offload: bool = False
    """Keep each network on the CPU except while it runs (saves GPU memory, costs transfers)."""
    decode_chunk_size: int = 7
    """Frames the VAE decodes at once (fewer: less memory)."""
    progress: bool = True
    """Show progress bars per orbit and per step."""
    fp16: bool = True
    """Run the networks in float16 on CUDA (float32 on CPU regardless)."""
    # PAG defaults. RIGI (sec. 3.4, 4.2) applies PAG to SV3D but gives neither scale nor layers. diffusers' PAG
    # pipelines default to perturbing the UNet's middle-block self-attention ("mid"; AnimateDiff's video pipeline
    # "mid_block.*attn1") with pag_scale 3.0; we take both. The pattern only ever selects spatial self-attention:
    # SV3D's temporal attention ties the orbit's frames together, and degrading it could steer the samples away
    # from consistency rather than from blur. Not tuned on real SV3D outputs here.
    pag_scale: float = 3.0
    """Perturbed-attention guidance strength (0 = off: the plain SV3D sampler)."""
    pag_layers: str = "mid_block"
    """Regular expression selecting the UNet's spatial self-attentions to perturb (module names, `re.search`)."""


def load_sv3d_generator(settings: SV3DSettings) -> MultiViewGenerator:
    """Build the SV3D generator; missing weights raise a ``UserError`` naming the file before anything heavy loads.

    The generator's ``generate(image, seed=...)`` takes one framed ``[S, S, 3]`` uint8 image on white (``S`` =
    ``settings.resolution``) and returns the orbits' views with cameras.
    """
    weights = resolve_weights(settings.weights)
    check_options(settings)  # the commands' rules (steps, frames per orbit, amplitudes, PAG scale, ...)
    if settings.resolution % VAE_FACTOR:
        # Checked before loading: sv3d_p's VAE downsamples by 8 (the tiny test networks by a divisor of 8).
        raise UserError(f"--resolution {settings.resolution}: must be a multiple of {VAE_FACTOR} (SV3D's latent grid)")
    import torch

    from datagen.generators.sv3d.components import load_components
    from datagen.generators.sv3d.generator import SV3DGenerator

    device = settings.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"SV3D device={device}: no CUDA device is available here; use --device cpu (or auto)")
    cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    dtype = torch.float16 if (cuda and settings.fp16) else torch.float32
    components = load_components(weights, dtype)
    components.weights = settings.weights  # recorded as the user gave it
    return SV3DGenerator(components, settings)
