"""SV3D (``sv3d_p``) on diffusers with perturbed-attention guidance: orbits of views of an object from one image.

Heavy dependencies (diffusers models, transformers' CLIP) are imported lazily, so importing this package is cheap.
"""

from datagen.generators.sv3d.convert import convert_sv3d_checkpoint
from datagen.generators.sv3d.settings import TINY_RANDOM, SV3DSettings, load_sv3d_generator

__all__ = ["SV3DSettings", "TINY_RANDOM", "convert_sv3d_checkpoint", "load_sv3d_generator"]
