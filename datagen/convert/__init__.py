"""`datagen convert`: what generators emit (frame folders, orbit videos, SyncDreamer grids, 4D image matrices)
-> a dataset; and the Blender / NeRF-synthetic layout. Each converter is a dataclass with ``main()``, used as a tyro subcommand."""

from datagen.convert.base import ConvertBase
from datagen.convert.blender import ConvertBlender
from datagen.convert.matrix import ConvertMatrix
from datagen.convert.orbit import ConvertFrames, ConvertGrid, ConvertVideo
from datagen.images import ConvertError

__all__ = [
    "ConvertBase",
    "ConvertBlender",
    "ConvertError",
    "ConvertFrames",
    "ConvertGrid",
    "ConvertMatrix",
    "ConvertVideo",
]
