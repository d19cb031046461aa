"""`datagen convert`: what generators emit (frame folders, orbit videos, SyncDreamer grids, 4D image matrices)
-> a dataset. Each converter is a dataclass with ``main()``, used as a tyro subcommand."""

from datagen.convert.base import ConvertBase
from datagen.convert.matrix import ConvertMatrix
from datagen.convert.orbit import ConvertFrames, ConvertGrid, ConvertVideo
from datagen.images import ConvertError

__all__ = ["ConvertBase", "ConvertError", "ConvertFrames", "ConvertGrid", "ConvertMatrix", "ConvertVideo"]
