"""Tile intersection lists: gsplat's tile-box rule and order, and the finer culled grid the renderer composites."""

import torch
from gsplat.cuda._torch_impl import _isect_tiles

from splatcore.tiles import intersect_subtiles, intersect_tiles


def _screen_gaussians(n=60, width=70, height=50, n_cams=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    means2d = torch.rand(n_cams, n, 2, generator=gen) * torch.tensor([width + 30.0, height + 30.0]) - 15.0
    radii = torch.randint(0, 25, (n_cams, n), generator=gen, dtype=torch.int32)
    depths = torch.rand(n_cams, n, generator=gen) * 5 + 0.5
    depths[:, 10:14] = 2.0  # ties keep Gaussian order
    return means2d, radii, depths, width, height


def test_intersect_tiles_matches_gsplat_reference():
    means2d, radii, depths, width, height = _screen_gaussians()
    tile = 16
    tw, th = -(-width // tile), -(-height // tile)
    ours = intersect_tiles(means2d, radii, depths, tile, tw, th)
    tiles_per_gauss, isect_ids, flatten_ids = _isect_tiles(means2d, radii, depths, tile, tw, th)
    assert torch.equal(ours.tiles_per_gauss, tiles_per_gauss.int())
    # gsplat key: camera | tile | depth bits; ours: global tile id = camera * tiles + tile
    tile_bits = (tw * th).bit_length()
    cam = isect_ids >> 32 >> tile_bits
    tile_id = (isect_ids >> 32) & ((1 << tile_bits) - 1)
    assert torch.equal(ours.isect_tiles, cam * tw * th + tile_id)
    # gsplat's reference sorts with torch.sort (ties in any order); the CUDA radix sort, like ours, keeps equal
    # depths in Gaussian order, so compare against the reference re-sorted stably by (key, Gaussian).
    by_id = torch.argsort(flatten_ids, stable=True)
    order = by_id[torch.argsort(isect_ids[by_id], stable=True)]
    assert torch.equal(ours.flatten_ids, flatten_ids[order].long())
    counts = torch.bincount(ours.isect_tiles, minlength=2 * tw * th)
    assert torch.equal(ours.tile_offsets[1:] - ours.tile_offsets[:-1], counts)


def _pixel_pairs(isect, grid_w, grid_h, size, n_cams, n_gauss, width, height):
    """Set of (camera, Gaussian, pixel x, pixel y) pairs covered by an intersection list."""
    pairs = set()
    per_img = grid_w * grid_h
    for t, g in zip(isect.isect_tiles.tolist(), isect.flatten_ids.tolist(), strict=True):
        cam, local = divmod(t, per_img)
        ty, tx = divmod(local, grid_w)
        for y in range(ty * size, min((ty + 1) * size, height)):
            for x in range(tx * size, min((tx + 1) * size, width)):
                pairs.add((cam, g % n_gauss, x, y))
    return pairs


def test_subtiles_drop_only_pixels_whose_alpha_is_below_one_over_255():
    means2d, radii, depths, width, height = _screen_gaussians(n=25, seed=1)
    n_cams, n = radii.shape
    gen = torch.Generator().manual_seed(2)
    sx, sy = torch.rand(n_cams, n, generator=gen) * 20 + 0.5, torch.rand(n_cams, n, generator=gen) * 20 + 0.5
    rho = (torch.rand(n_cams, n, generator=gen) - 0.5) * 1.6
    cov = torch.stack([sx * sx, rho * sx * sy, sy * sy], -1)
    det = cov[..., 0] * cov[..., 2] - cov[..., 1] ** 2
    conics = torch.stack([cov[..., 2] / det, -cov[..., 1] / det, cov[..., 0] / det], -1)
    opac = torch.rand(n_cams, n, generator=gen)
    coarse = intersect_tiles(means2d, radii, depths, 16, 5, 4)
    fine = intersect_subtiles(means2d, radii, depths, conics, opac, 16, 4, width, height)
    coarse_pairs = _pixel_pairs(coarse, 5, 4, 16, n_cams, n, width, height)
    fine_pairs = _pixel_pairs(fine, 18, 13, 4, n_cams, n, width, height)
    assert fine_pairs <= coarse_pairs and len(fine_pairs) < 0.9 * len(coarse_pairs)
    for cam, g, x, y in coarse_pairs - fine_pairs:
        a, b, c = conics[cam, g].tolist()
        dx, dy = means2d[cam, g, 0].item() - (x + 0.5), means2d[cam, g, 1].item() - (y + 0.5)
        sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
        assert opac[cam, g].item() * torch.exp(torch.tensor(-sigma)).item() < 1.0 / 255.0
    # within each fine tile the order is still front to back
    for t in range(fine.tile_offsets.shape[0] - 1):
        ids = fine.flatten_ids[fine.tile_offsets[t] : fine.tile_offsets[t + 1]]
        d = depths.reshape(-1)[ids]
        assert (d[1:] >= d[:-1]).all()
