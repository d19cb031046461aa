"""Shared Gaussian machinery: differentiable rasterization (gsplat on CUDA, PyTorch tiles elsewhere), SH, cameras.

``splatcore`` never imports nerfstudio. The function ``rasterize`` shadows its submodule's name on purpose, so
``from splatcore import rasterize`` gives the function (import ``splatcore.rasterize`` members by module path).
"""

from splatcore.rasterize import rasterize

__all__ = ["rasterize"]
