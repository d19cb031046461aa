"""Tile bookkeeping shared by the compositing passes: grid, tile-local pixel features, image <-> tile layouts."""

from __future__ import annotations

from typing import NamedTuple

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor


class TileGrid(NamedTuple):
    """Image tiling: tiles are numbered camera-major, then row-major; P = tile_size^2 pixels per tile."""

    n_cams: int
    width: int
    height: int
    tile_size: int
    tile_width: int
    tile_height: int

    @property
    def n_tiles(self) -> int:
        return self.n_cams * self.tile_width * self.tile_height

    @property
    def n_pix(self) -> int:
        return self.tile_size * self.tile_size


def pixel_features(tile_size: int, dtype: torch.dtype, device: torch.device) -> Float[Tensor, "P 6"]:
    """[P, 6] monomials [u^2, uv, v^2, u, v, 1] of tile-local pixel centres (row-major pixels).

    (u, v) is the pixel centre (x + 0.5, y + 0.5) minus the tile centre, so |u|, |v| < tile_size / 2.
    """
    coords = torch.arange(tile_size, dtype=dtype, device=device) + 0.5 - 0.5 * tile_size
    v, u = torch.meshgrid(coords, coords, indexing="ij")
    u, v = u.reshape(-1), v.reshape(-1)
    return torch.stack([u * u, u * v, v * v, u, v, torch.ones_like(u)], dim=-1)


def tile_centres(
    tile_ids: Int[Tensor, "M"], grid: TileGrid, dtype: torch.dtype
) -> tuple[Float[Tensor, "M"], Float[Tensor, "M"]]:
    """Pixel-space centres (x, y) of global tile ids."""
    in_image = tile_ids % (grid.tile_width * grid.tile_height)
    cx = (in_image % grid.tile_width).to(dtype) * grid.tile_size + 0.5 * grid.tile_size
    cy = (in_image // grid.tile_width).to(dtype) * grid.tile_size + 0.5 * grid.tile_size
    return cx, cy


def log_alpha_coeffs(
    mu: Float[Tensor, "M"], mv: Float[Tensor, "M"], conics: Float[Tensor, "M 3"], log_opac: Float[Tensor, "M"]
) -> Float[Tensor, "M 6"]:
    """[M, 6] coefficients k such that ``log(o exp(-sigma)) = pixel_features . k``.

    Args:
        mu: [M] Gaussian centre x minus the tile centre x.
        mv: [M] Gaussian centre y minus the tile centre y.
        conics: [M, 3] (a, b, c) with sigma = 0.5 (a dx^2 + c dy^2) + b dx dy.
        log_opac: [M] log opacity.
    """
    a, b, c = conics.unbind(-1)
    quad = 0.5 * a * mu * mu + b * mu * mv + 0.5 * c * mv * mv
    return torch.stack([-0.5 * a, -b, -0.5 * c, a * mu + b * mv, b * mu + c * mv, log_opac - quad], dim=-1)


def image_to_tiles(img: Float[Tensor, "C H W D"], grid: TileGrid) -> Float[Tensor, "tiles P D"]:
    """[C, H, W, D] -> [tiles, P, D] (zero padded to whole tiles)."""
    ts, tw, th = grid.tile_size, grid.tile_width, grid.tile_height
    n_ch = img.shape[-1]
    padded = torch.nn.functional.pad(img, (0, 0, 0, tw * ts - grid.width, 0, th * ts - grid.height))
    tiles = padded.reshape(grid.n_cams, th, ts, tw, ts, n_ch).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(grid.n_tiles, ts * ts, n_ch)


def tiles_to_image(tiles: Float[Tensor, "tiles P D"], grid: TileGrid) -> Float[Tensor, "C H W D"]:
    """[tiles, P, D] -> [C, H, W, D] (padding cropped)."""
    ts, tw, th = grid.tile_size, grid.tile_width, grid.tile_height
    n_ch = tiles.shape[-1]
    img = tiles.reshape(grid.n_cams, th, tw, ts, ts, n_ch).permute(0, 1, 3, 2, 4, 5)
    return img.reshape(grid.n_cams, th * ts, tw * ts, n_ch)[:, : grid.height, : grid.width]


def valid_pixels(grid: TileGrid, device: torch.device) -> Bool[Tensor, "tiles P"]:
    """[tiles, P] bool mask of tile pixels that lie inside the image."""
    ones = torch.ones(grid.n_cams, grid.height, grid.width, 1, device=device)
    return image_to_tiles(ones, grid)[:, :, 0] > 0
