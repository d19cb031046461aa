"""Tile/Gaussian intersections sorted by (camera, tile, depth), as gsplat 1.4.0's ``isect_tiles``.

A Gaussian touches every tile of the box ``floor((mean - radius) / tile)`` .. ``ceil((mean + radius) / tile)``
(exclusive) clamped to the tile grid. Pure tensor code, no autograd.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from jaxtyping import Float, Int
from torch import Tensor


class TileIntersections(NamedTuple):
    """Flat intersection lists; entries of one (camera, tile) are contiguous and sorted front to back."""

    tiles_per_gauss: Int[Tensor, "C N"]
    """number of tiles each camera/Gaussian pair touches."""
    isect_tiles: Int[Tensor, " M"]
    """global tile id ``camera * tiles_per_image + tile_y * tile_width + tile_x`` of each intersection (int64)."""
    flatten_ids: Int[Tensor, " M"]
    """index into the flattened [C * N] camera/Gaussian pairs (int64)."""
    tile_offsets: Int[Tensor, " T1"]
    """[C * tile_height * tile_width + 1] start of each tile's list in the sorted arrays; the last entry is M."""


@torch.no_grad()
def tile_bounds(
    means2d: Float[Tensor, "C N 2"], radii: Int[Tensor, "C N"], tile_size: int, tile_width: int, tile_height: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Inclusive-min / exclusive-max tile box of each camera/Gaussian pair ([C, N] int64 each: x0, y0, x1, y1)."""
    radius_tiles = radii.to(means2d.dtype) / tile_size
    tx = means2d[..., 0] / tile_size
    ty = means2d[..., 1] / tile_size
    x0 = torch.floor(tx - radius_tiles).clamp(0, tile_width).long()
    y0 = torch.floor(ty - radius_tiles).clamp(0, tile_height).long()
    x1 = torch.ceil(tx + radius_tiles).clamp(0, tile_width).long()
    y1 = torch.ceil(ty + radius_tiles).clamp(0, tile_height).long()
    visible = radii > 0
    x1 = torch.where(visible, x1, x0)
    y1 = torch.where(visible, y1, y0)
    return x0, y0, x1, y1


@torch.no_grad()
def intersect_tiles(
    means2d: Float[Tensor, "C N 2"],
    radii: Int[Tensor, "C N"],
    depths: Float[Tensor, "C N"],
    tile_size: int,
    tile_width: int,
    tile_height: int,
) -> TileIntersections:
    """All (camera, tile, Gaussian) intersections, sorted by camera, tile, then depth (stable in Gaussian order).

    Args:
        means2d: [C, N, 2] projected centres in pixels.
        radii: [C, N] pixel radii, 0 for culled pairs.
        depths: [C, N] camera z used as the sort key within a tile.
        tile_size: tile edge in pixels.
        tile_width: number of tile columns.
        tile_height: number of tile rows.

    Returns:
        :class:`TileIntersections`.
    """
    n_cams, n_gauss = radii.shape
    x0, y0, x1, y1 = tile_bounds(means2d, radii, tile_size, tile_width, tile_height)
    width_t = (x1 - x0).reshape(-1)
    count = width_t * (y1 - y0).reshape(-1)  # [C*N]
    tiles_per_image = tile_width * tile_height
    return _expand_rectangles(
        count, width_t, x0, y0, depths, count.reshape(n_cams, n_gauss).int(), tile_width, tiles_per_image, n_cams
    )


@torch.no_grad()
def intersect_subtiles(
    means2d: Float[Tensor, "C N 2"],
    radii: Int[Tensor, "C N"],
    depths: Float[Tensor, "C N"],
    conics: Float[Tensor, "C N 3"],
    opacities: Float[Tensor, "C N"],
    tile_size: int,
    subtile_size: int,
    width: int,
    height: int,
) -> TileIntersections:
    """Intersections on a finer grid of ``subtile_size`` tiles, culled without changing the rendered result.

    A pixel sees a Gaussian only if (1) its ``tile_size`` tile lies in the Gaussian's 3-sigma tile box (gsplat's
    rule) and (2) ``o exp(-sigma) >= 1/255`` there; pixels failing (2) are skipped by the compositing rule anyway.
    The set where (2) can hold is the ellipse ``sigma <= log(255 o)``, whose axis-aligned box has half-widths
    ``sqrt(2 log(255 o) Sigma_xx)`` and ``sqrt(2 log(255 o) Sigma_yy)`` (Sigma = inverse conic). A subtile is
    listed when it meets both boxes (with a small safety margin), so far fewer pixel/Gaussian pairs are evaluated.

    Args:
        means2d: [C, N, 2] projected centres in pixels.
        radii: [C, N] pixel radii, 0 for culled pairs.
        depths: [C, N] camera z, the sort key.
        conics: [C, N, 3] inverse 2D covariances (a, b, c).
        opacities: [C, N] opacities actually composited (after any antialiasing compensation).
        tile_size: gsplat's tile size; must be a multiple of ``subtile_size``.
        subtile_size: edge of the tiles listed here.
        width: image width.
        height: image height.

    Returns:
        :class:`TileIntersections` whose tile ids refer to the subtile grid (``ceil(width / subtile_size)``
        columns, ``ceil(height / subtile_size)`` rows per camera); ``tiles_per_gauss`` counts gsplat tiles.
    """
    if tile_size % subtile_size:
        raise ValueError(f"tile_size={tile_size} must be a multiple of subtile_size={subtile_size}")
    n_cams, n_gauss = radii.shape
    tile_w, tile_h = -(-width // tile_size), -(-height // tile_size)
    sub_w, sub_h = -(-width // subtile_size), -(-height // subtile_size)
    x0, y0, x1, y1 = tile_bounds(means2d, radii, tile_size, tile_w, tile_h)
    tiles_per_gauss = ((x1 - x0) * (y1 - y0)).int()
    ratio = tile_size // subtile_size
    x0, y0 = x0 * ratio, y0 * ratio
    x1, y1 = torch.clamp(x1 * ratio, max=sub_w), torch.clamp(y1 * ratio, max=sub_h)

    a, b, c = conics.unbind(-1)
    det = (a * c - b * b).clamp(min=1e-30)
    level = torch.log(opacities.clamp(min=1e-30) * 255.0).clamp(min=0.0)
    # Margin: relative 1e-3 on the extent plus 1e-2 px, so rounding can only keep more pairs, never fewer.
    half_x = torch.sqrt(2.0 * level * c / det) * 1.001 + 1e-2
    half_y = torch.sqrt(2.0 * level * a / det) * 1.001 + 1e-2
    mx, my = means2d[..., 0], means2d[..., 1]
    # Pixel column j has centre j + 0.5; it can be reached when |j + 0.5 - mx| <= half_x.
    ox0 = torch.floor((mx - half_x - 0.5) / subtile_size)
    ox1 = torch.floor((mx + half_x - 0.5) / subtile_size) + 1
    oy0 = torch.floor((my - half_y - 0.5) / subtile_size)
    oy1 = torch.floor((my + half_y - 0.5) / subtile_size) + 1
    big = float(max(sub_w, sub_h) + 1)
    x0 = torch.maximum(x0, ox0.clamp(-1, big).long())
    y0 = torch.maximum(y0, oy0.clamp(-1, big).long())
    x1 = torch.minimum(x1, ox1.clamp(-1, big).long())
    y1 = torch.minimum(y1, oy1.clamp(-1, big).long())
    reachable = (radii > 0) & (opacities * 255.0 >= 1.0) & torch.isfinite(half_x) & torch.isfinite(half_y)
    width_t = torch.where(reachable & (x1 > x0) & (y1 > y0), x1 - x0, 0).reshape(-1)
    count = width_t * (y1 - y0).clamp(min=0).reshape(-1)

    tiles_per_image = sub_w * sub_h
    return _expand_rectangles(count, width_t, x0, y0, depths, tiles_per_gauss, sub_w, tiles_per_image, n_cams)


def _expand_rectangles(
    count: Int[Tensor, " CN"],
    width_t: Int[Tensor, " CN"],
    x0: Int[Tensor, "C N"],
    y0: Int[Tensor, "C N"],
    depths: Float[Tensor, "C N"],
    tiles_per_gauss: Int[Tensor, "C N"],
    grid_width: int,
    tiles_per_image: int,
    n_cams: int,
) -> TileIntersections:
    """Expand each (camera, Gaussian) tile rectangle into flat intersections sorted by (tile, depth).

    `count` = rectangle area in tiles (0 = none), `width_t` its width, (x0, y0) its first tile. Equal depths keep
    Gaussian order, as gsplat's stable radix sort does.
    """
    device = count.device
    n_gauss = depths.shape[1]
    n_tiles = n_cams * tiles_per_image
    pair_ids = torch.nonzero(count > 0).squeeze(1)
    counts = count[pair_ids]
    total = int(counts.sum().item()) if pair_ids.numel() else 0
    tile_offsets = torch.zeros(n_tiles + 1, dtype=torch.long, device=device)
    if total == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return TileIntersections(tiles_per_gauss, empty, empty.clone(), tile_offsets)
    # Local index k inside a rectangle -> tile (x0 + k % w, y0 + k // w).
    flatten_ids = torch.repeat_interleave(pair_ids, counts)
    starts = torch.cumsum(counts, 0) - counts
    local = torch.arange(total, device=device) - torch.repeat_interleave(starts, counts)
    w_rep = width_t[flatten_ids]
    tile_x = x0.reshape(-1)[flatten_ids] + local % w_rep
    tile_y = y0.reshape(-1)[flatten_ids] + local // w_rep
    isect_tiles = (flatten_ids // n_gauss) * tiles_per_image + tile_y * grid_width + tile_x
    # One sort on (tile, depth rank); the rank comes from a stable sort, so equal depths keep Gaussian order.
    n_pairs = n_cams * n_gauss
    depth_rank = torch.empty(n_pairs, dtype=torch.long, device=device)
    depth_rank[torch.argsort(depths.reshape(-1), stable=True)] = torch.arange(n_pairs, device=device)
    order = torch.argsort(isect_tiles * n_pairs + depth_rank[flatten_ids])
    isect_tiles = isect_tiles[order]
    flatten_ids = flatten_ids[order]
    tile_offsets[1:] = torch.cumsum(torch.bincount(isect_tiles, minlength=n_tiles), 0)
    return TileIntersections(tiles_per_gauss, isect_tiles, flatten_ids, tile_offsets)
