"""Stage-1 generators behind one seam: a generator turns an input (an image, a clip's frames) into views with
cameras (:class:`GeneratedFrames`); :mod:`datagen.assemble` turns those into a dataset. Heavy models live in
sub-modules that import their dependencies lazily; :class:`FakeGenerator` stands in for them in tests."""

from datagen.generators.base import GeneratedFrames, GeneratedView, MultiViewGenerator
from datagen.generators.fake import FakeGenerator

__all__ = ["FakeGenerator", "GeneratedFrames", "GeneratedView", "MultiViewGenerator"]
