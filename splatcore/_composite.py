"""Tiled front-to-back alpha compositing of projected Gaussians with a hand-written backward (pure PyTorch).

Math (per pixel, Gaussians in depth order, gsplat 1.4.0 classic rules):
    sigma_i = 0.5 (a dx^2 + c dy^2) + b dx dy,  dx = mean_x - px,  pixel centres at +0.5
    alpha_i = min(0.999, o_i exp(-sigma_i)),  skipped when alpha_i < 1/255
    stop before the first Gaussian whose alpha would take T below 1e-4 (it and everything after are dropped)
    C = sum_i c_i alpha_i T_i + T_final bg,  render_alpha = 1 - T_final

Speed comes from batching: every active tile takes its next chunk of K Gaussians at once, and the log-alphas of a
chunk for all pixels are one matrix product, because in tile-local pixel coordinates (u, v)
    log alpha_raw = log o - sigma = [u^2, uv, v^2, u, v, 1] . k(mean, conic, o)
Local coordinates keep the expanded quadratic well conditioned (|u|, |v| <= tile/2). Tiles drop out once every
pixel has terminated or their list is exhausted. The backward pass replays the same chunks front to back: the
colour behind Gaussian i is the pixel total minus the running prefix, so no per-Gaussian state is stored.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor

ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.999
T_MIN = 1e-4
_SENTINEL_LOG_ALPHA = -1e4  # padding rows of a chunk: exp() underflows to exactly 0


class TileGrid(NamedTuple):
    """Image tiling: tiles are numbered camera-major, then row-major."""

    n_cams: int
    width: int
    height: int
    tile_size: int
    tile_width: int
    tile_height: int

    @property
    def n_tiles(self) -> int:
        return self.n_cams * self.tile_width * self.tile_height


def pixel_features(tile_size: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """[P, 6] monomials [u^2, uv, v^2, u, v, 1] of the tile-local pixel centres (P = tile_size^2, row-major)."""
    coords = torch.arange(tile_size, dtype=dtype, device=device) + 0.5 - 0.5 * tile_size
    v, u = torch.meshgrid(coords, coords, indexing="ij")
    u, v = u.reshape(-1), v.reshape(-1)
    return torch.stack([u * u, u * v, v * v, u, v, torch.ones_like(u)], dim=-1)


def tile_centres(tile_ids: Tensor, grid: TileGrid, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """Pixel-space centres (x, y) of global tile ids."""
    in_image = tile_ids % (grid.tile_width * grid.tile_height)
    cx = (in_image % grid.tile_width).to(dtype) * grid.tile_size + 0.5 * grid.tile_size
    cy = (in_image // grid.tile_width).to(dtype) * grid.tile_size + 0.5 * grid.tile_size
    return cx, cy


def log_alpha_coeffs(mu: Tensor, mv: Tensor, conics: Tensor, log_opac: Tensor) -> Tensor:
    """[M, 6] coefficients k with log alpha_raw = features . k, for tile-local centres (mu, mv)."""
    a, b, c = conics.unbind(-1)
    quad = 0.5 * a * mu * mu + b * mu * mv + 0.5 * c * mv * mv
    return torch.stack([-0.5 * a, -b, -0.5 * c, a * mu + b * mv, b * mu + c * mv, log_opac - quad], dim=-1)


def image_to_tiles(img: Tensor, grid: TileGrid) -> Tensor:
    """[C, H, W, D] -> [tiles, D, P] (zero padded to whole tiles)."""
    ts, tw, th = grid.tile_size, grid.tile_width, grid.tile_height
    n_ch = img.shape[-1]
    padded = torch.nn.functional.pad(img, (0, 0, 0, tw * ts - grid.width, 0, th * ts - grid.height))
    tiles = padded.reshape(grid.n_cams, th, ts, tw, ts, n_ch).permute(0, 1, 3, 5, 2, 4)
    return tiles.reshape(grid.n_tiles, n_ch, ts * ts)


def tiles_to_image(tiles: Tensor, grid: TileGrid) -> Tensor:
    """[tiles, D, P] -> [C, H, W, D] (padding cropped)."""
    ts, tw, th = grid.tile_size, grid.tile_width, grid.tile_height
    n_ch = tiles.shape[1]
    img = tiles.reshape(grid.n_cams, th, tw, n_ch, ts, ts).permute(0, 1, 4, 2, 5, 3)
    return img.reshape(grid.n_cams, th * ts, tw * ts, n_ch)[:, : grid.height, : grid.width]


class _Chunk(NamedTuple):
    tiles: Tensor  # [A] active tile ids
    idx: Tensor  # [A, K] rows into the per-intersection arrays (sentinel row for padding)
    alpha_raw: Tensor  # [A, K, P] o exp(-sigma) before clamping
    alpha: Tensor  # [A, K, P] composited alphas (0 where skipped or after termination)
    t_before: Tensor  # [A, K, P] transmittance in front of each Gaussian
    t_after_last: Tensor  # [A, P] transmittance after the chunk
    terminated: Tensor  # [A, P] pixel hit the T_MIN rule inside this chunk


def _run_chunk(tiles, k, chunk, offsets, coeffs, feats, t_carry, done) -> _Chunk:
    """Evaluate chunk ``k`` of the active ``tiles`` given carried transmittance and done flags ([A, P])."""
    n_active = tiles.shape[0]
    start = offsets[tiles] + k * chunk
    end = offsets[tiles + 1]
    pos = start[:, None] + torch.arange(chunk, device=tiles.device)
    idx = torch.where(pos < end[:, None], pos, coeffs.shape[0] - 1)
    log_alpha = (coeffs[idx].reshape(n_active * chunk, 6) @ feats.T).reshape(n_active, chunk, -1)
    alpha_raw = torch.exp(log_alpha)
    alpha = torch.where(alpha_raw >= ALPHA_MIN, alpha_raw.clamp(max=ALPHA_MAX), 0.0)
    # Done pixels enter with T = 0 so nothing more composites there; their true T is kept in t_carry.
    t_in = torch.where(done, 0.0, t_carry)[:, None, :]
    next_t = t_in * torch.cumprod(1.0 - alpha, dim=1)
    ok = next_t > T_MIN  # prefix-true along K, since T only decreases
    alpha = alpha * ok
    t_after = t_in * torch.cumprod(1.0 - alpha, dim=1)
    t_before = t_after / (1.0 - alpha)
    terminated = ~ok[:, -1, :] & ~done
    return _Chunk(tiles, idx, alpha_raw, alpha, t_before, t_after[:, -1, :], terminated)


def _chunks(offsets, coeffs, feats, chunk, n_tiles, n_pix, valid_pix):
    """Generator over chunks with the active-set bookkeeping shared by forward and backward.

    Yields (chunk, t_carry, done) where t_carry/done are full [tiles, P] state tensors updated in place after the
    consumer has used the yielded chunk.
    """
    lengths = offsets[1:] - offsets[:-1]
    dtype = coeffs.dtype
    t_carry = torch.ones(n_tiles, n_pix, dtype=dtype, device=coeffs.device)
    done = (~valid_pix).expand(n_tiles, n_pix).clone()
    tiles = torch.nonzero(lengths > 0).squeeze(1)
    k = 0
    while tiles.numel() > 0:
        state_done = done[tiles]
        ch = _run_chunk(tiles, k, chunk, offsets, coeffs, feats, t_carry[tiles], state_done)
        yield ch, t_carry, done
        new_done = state_done | ch.terminated
        t_carry[tiles] = torch.where(state_done, t_carry[tiles], ch.t_after_last)
        done[tiles] = new_done
        k += 1
        keep = (lengths[tiles] > k * chunk) & ~new_done.all(dim=1)
        tiles = tiles[keep]


class _CompositeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, colors, opacities, backgrounds, flatten_ids, isect_tiles, offsets, grid, chunk,
                absgrad):  # fmt: skip
        dtype, device = means2d.dtype, means2d.device
        n_ch = colors.shape[-1]
        n_pix = grid.tile_size * grid.tile_size
        feats = pixel_features(grid.tile_size, dtype, device)
        tcx, tcy = tile_centres(isect_tiles, grid, dtype)
        mu = means2d[flatten_ids, 0] - tcx
        mv = means2d[flatten_ids, 1] - tcy
        log_opac = torch.log(opacities[flatten_ids].clamp(min=torch.finfo(dtype).tiny))
        coeffs = log_alpha_coeffs(mu, mv, conics[flatten_ids], log_opac)
        sentinel = torch.zeros(1, 6, dtype=dtype, device=device)
        sentinel[0, 5] = _SENTINEL_LOG_ALPHA
        coeffs = torch.cat([coeffs, sentinel])
        colors_isect = torch.cat([colors[flatten_ids], torch.zeros(1, n_ch, dtype=dtype, device=device)])
        valid_pix = _valid_pixels(grid, device)

        accum = torch.zeros(grid.n_tiles, n_ch, n_pix, dtype=dtype, device=device)
        t_final = None
        for ch, t_carry, _ in _chunks(offsets, coeffs, feats, chunk, grid.n_tiles, n_pix, valid_pix):
            weights = ch.alpha * ch.t_before  # [A, K, P]
            accum[ch.tiles] += torch.bmm(colors_isect[ch.idx].transpose(1, 2), weights)
            t_final = t_carry
        if t_final is None:
            t_final = torch.ones(grid.n_tiles, n_pix, dtype=dtype, device=device)
        out = accum
        if backgrounds is not None:
            bg_tiles = backgrounds.repeat_interleave(grid.tile_width * grid.tile_height, dim=0)  # [tiles, D]
            out = accum + t_final[:, None, :] * bg_tiles[:, :, None]
        render = tiles_to_image(out, grid)
        alphas = tiles_to_image((1.0 - t_final)[:, None, :], grid)
        ctx.save_for_backward(means2d, conics, opacities, backgrounds, flatten_ids, isect_tiles, offsets, coeffs,
                              colors_isect, accum, t_final)  # fmt: skip
        ctx.grid, ctx.chunk, ctx.absgrad, ctx.n_ch = grid, chunk, absgrad, n_ch
        ctx.n_pairs = colors.shape[0]
        return render, alphas

    @staticmethod
    def backward(ctx, g_render, g_alphas):
        (means2d, conics, opacities, backgrounds, flatten_ids, isect_tiles, offsets, coeffs, colors_isect, accum,
         t_final) = ctx.saved_tensors  # fmt: skip
        grid, chunk = ctx.grid, ctx.chunk
        dtype, device = means2d.dtype, means2d.device
        n_pix = grid.tile_size * grid.tile_size
        feats = pixel_features(grid.tile_size, dtype, device)
        g_c = image_to_tiles(g_render.to(dtype), grid)  # [tiles, D, P]
        g_a = image_to_tiles(g_alphas.to(dtype), grid)[:, 0, :]  # [tiles, P]
        # d out / d T_final per pixel: background colour minus the alpha output.
        g_t_final = -g_a
        g_backgrounds = None
        if backgrounds is not None:
            tiles_per_img = grid.tile_width * grid.tile_height
            bg_tiles = backgrounds.repeat_interleave(tiles_per_img, dim=0)
            g_t_final = g_t_final + (g_c * bg_tiles[:, :, None]).sum(1)
            if ctx.needs_input_grad[4]:
                per_tile = (g_c * t_final[:, None, :]).sum(2)  # [tiles, D]
                g_backgrounds = per_tile.reshape(grid.n_cams, tiles_per_img, -1).sum(1)
        resid = t_final * g_t_final  # [tiles, P]
        total = (accum * g_c).sum(1)  # [tiles, P] sum_j (c_j . g) w_j
        prefix = torch.zeros_like(total)

        n_rows = coeffs.shape[0]
        g_coeffs = torch.zeros(n_rows, 6, dtype=dtype, device=device)
        g_colors_isect = torch.zeros(n_rows, ctx.n_ch, dtype=dtype, device=device)
        g_abs = torch.zeros(n_rows, 2, dtype=dtype, device=device) if ctx.absgrad is not None else None
        valid_pix = _valid_pixels(grid, device)
        for ch, _, _ in _chunks(offsets, coeffs, feats, chunk, grid.n_tiles, n_pix, valid_pix):
            g_c_a = g_c[ch.tiles]  # [A, D, P]
            weights = ch.alpha * ch.t_before
            g_colors_isect.index_put_(
                (ch.idx.reshape(-1),), torch.bmm(weights, g_c_a.transpose(1, 2)).reshape(-1, ctx.n_ch), accumulate=True
            )
            e = torch.bmm(colors_isect[ch.idx], g_c_a)  # [A, K, P] c_i . g
            ew = e * weights
            run = prefix[ch.tiles][:, None, :] + torch.cumsum(ew, dim=1)
            prefix[ch.tiles] = run[:, -1, :]
            behind = total[ch.tiles][:, None, :] - run + resid[ch.tiles][:, None, :]
            g_alpha = ch.t_before * e - behind / (1.0 - ch.alpha)
            # Clamped alphas (0.999) pass no gradient to sigma and opacity, as in gsplat.
            g_log = torch.where(ch.alpha_raw <= ALPHA_MAX, g_alpha * ch.alpha, 0.0)  # [A, K, P]
            g_k = (g_log.reshape(-1, n_pix) @ feats).reshape(-1, 6)
            g_coeffs.index_put_((ch.idx.reshape(-1),), g_k, accumulate=True)
            if g_abs is not None:
                g_abs.index_put_((ch.idx.reshape(-1),), _abs_mean_grads(coeffs[ch.idx], g_log, feats), accumulate=True)

        g_coeffs, g_colors_isect = g_coeffs[:-1], g_colors_isect[:-1]
        tcx, tcy = tile_centres(isect_tiles, grid, dtype)
        mu = means2d[flatten_ids, 0] - tcx
        mv = means2d[flatten_ids, 1] - tcy
        a, b, c = conics[flatten_ids].unbind(-1)
        g0, g1, g2, g3, g4, g5 = g_coeffs.unbind(-1)
        g_mu = g3 * a + g4 * b - g5 * (a * mu + b * mv)
        g_mv = g3 * b + g4 * c - g5 * (b * mu + c * mv)
        g_a_con = -0.5 * g0 + g3 * mu - 0.5 * mu * mu * g5
        g_b_con = -g1 + g3 * mv + g4 * mu - mu * mv * g5
        g_c_con = -0.5 * g2 + g4 * mv - 0.5 * mv * mv * g5

        n_pairs = ctx.n_pairs
        g_means2d = torch.zeros(n_pairs, 2, dtype=dtype, device=device)
        g_means2d.index_add_(0, flatten_ids, torch.stack([g_mu, g_mv], dim=-1))
        g_conics = torch.zeros(n_pairs, 3, dtype=dtype, device=device)
        g_conics.index_add_(0, flatten_ids, torch.stack([g_a_con, g_b_con, g_c_con], dim=-1))
        g_colors = torch.zeros(n_pairs, ctx.n_ch, dtype=dtype, device=device)
        g_colors.index_add_(0, flatten_ids, g_colors_isect)
        g_log_opac = torch.zeros(n_pairs, dtype=dtype, device=device)
        g_log_opac.index_add_(0, flatten_ids, g5)
        # d log o / d o = 1 / o; the gradient is exactly 0 wherever o < 1/255 (all alphas skipped).
        g_opac = torch.where(opacities > 0, g_log_opac / opacities.clamp(min=torch.finfo(dtype).tiny), 0.0)
        if g_abs is not None:
            abs_pairs = torch.zeros(n_pairs, 2, dtype=dtype, device=device)
            abs_pairs.index_add_(0, flatten_ids, g_abs[:-1])
            target = ctx.absgrad[0]
            target.absgrad = abs_pairs.reshape(target.shape)
        return g_means2d, g_conics, g_colors, g_opac, g_backgrounds, None, None, None, None, None, None


def _abs_mean_grads(k: Tensor, g_log: Tensor, feats: Tensor) -> Tensor:
    """Sum over pixels of |d loss / d mean2d| per pixel ([A*K, 2]); gsplat's ``absgrad`` statistic.

    d log alpha / d mean_x = -(a dx + b dy) = 2 k0 u + k1 v + k3 (dx = mean - pixel), likewise for y.
    """
    lin_x = torch.stack([2.0 * k[..., 0], k[..., 1], k[..., 3]], dim=-1)  # coefficients of [u, v, 1]
    lin_y = torch.stack([k[..., 1], 2.0 * k[..., 2], k[..., 4]], dim=-1)
    uv1 = feats[:, 3:6]  # [P, 3]
    gx = (g_log * (lin_x @ uv1.T)).abs().sum(-1)
    gy = (g_log * (lin_y @ uv1.T)).abs().sum(-1)
    return torch.stack([gx, gy], dim=-1).reshape(-1, 2)


def _valid_pixels(grid: TileGrid, device: torch.device) -> Tensor:
    """[tiles, P] (or broadcastable) mask of tile pixels inside the image."""
    ones = torch.ones(grid.n_cams, grid.height, grid.width, 1, device=device)
    return image_to_tiles(ones, grid)[:, 0, :] > 0


def composite_tiles(
    means2d: Tensor,
    conics: Tensor,
    colors: Tensor,
    opacities: Tensor,
    backgrounds: Optional[Tensor],
    flatten_ids: Tensor,
    isect_tiles: Tensor,
    tile_offsets: Tensor,
    grid: TileGrid,
    chunk: int = 32,
    absgrad_target: Optional[Tensor] = None,
) -> tuple[Tensor, Tensor]:
    """Composite camera/Gaussian pairs into images.

    Args:
        means2d: [C*N, 2] pixel centres of the flattened camera/Gaussian pairs.
        conics: [C*N, 3] inverse 2D covariances (a, b, c).
        colors: [C*N, D] colours/features.
        opacities: [C*N] in [0, 1].
        backgrounds: [C, D] or None.
        flatten_ids: [M] pair index of each intersection, sorted by (tile, depth).
        isect_tiles: [M] global tile id of each intersection.
        tile_offsets: [tiles + 1] list starts.
        grid: image tiling.
        chunk: Gaussians per tile processed per step.
        absgrad_target: if given, backward stores the per-pixel sum of |d loss / d means2d| as
            ``absgrad_target.absgrad`` (reshaped to its shape), as gsplat's ``absgrad=True`` does.

    Returns:
        render [C, H, W, D] and alphas [C, H, W, 1].
    """
    return _CompositeFn.apply(
        means2d,
        conics,
        colors,
        opacities,
        backgrounds,
        flatten_ids,
        isect_tiles,
        tile_offsets,
        grid,
        chunk,
        None if absgrad_target is None else [absgrad_target],  # a list keeps autograd from treating it as an input
    )
