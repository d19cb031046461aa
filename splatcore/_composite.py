"""Tiled front-to-back alpha compositing of projected Gaussians with a hand-written backward (pure PyTorch).

Math (per pixel, Gaussians in depth order, gsplat 1.4.0 classic rules):
    sigma_i = 0.5 (a dx^2 + c dy^2) + b dx dy,  dx = mean_x - px,  pixel centres at +0.5
    alpha_i = min(0.999, o_i exp(-sigma_i)),  skipped when alpha_i < 1/255
    stop before the first Gaussian whose alpha would take T to 1e-4 or below (it and everything after are dropped)
    C = sum_i c_i alpha_i T_i + T_final bg,  render_alpha = 1 - T_final

Speed comes from batching: every active tile takes its next chunk of K Gaussians at once, and the log-alphas of a
chunk for all pixels are one matrix product, because in tile-local pixel coordinates (u, v)
    log alpha_raw = log o - sigma = [u^2, uv, v^2, u, v, 1] . k(mean, conic, o)
(local coordinates keep the expanded quadratic well conditioned). Chunks are [A tiles, P pixels, K Gaussians] with
Gaussians last, so the transmittance scan runs over contiguous memory. Tiles leave the active set once every pixel
has terminated or their list is exhausted. The forward pass keeps each chunk's weights alpha_i T_i and
transmittances; the backward pass walks the chunks front to back and gets the colour behind Gaussian i as the
pixel's total minus a running prefix, which replaces gsplat's back-to-front sweep.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from splatcore._tile_layout import (
    TileGrid,
    image_to_tiles,
    log_alpha_coeffs,
    pixel_features,
    tile_centres,
    tiles_to_image,
    valid_pixels,
)

ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.999
LOG_ALPHA_MAX = math.log(ALPHA_MAX)
T_MIN = 1e-4
_SENTINEL_LOG_ALPHA = -1e4  # padding rows of a chunk: exp() underflows to exactly 0


class _Chunk(NamedTuple):
    """What the backward pass needs from one forward chunk."""

    tiles: Int[Tensor, "A"]  # tile ids
    idx: Int[Tensor, "A K"]  # rows of the per-intersection arrays (sentinel row for padding)
    weights: Float[Tensor, "A P K"]  # alpha_i T_i, zero where not composited
    next_t: Float[Tensor, "A P K"]  # T after each Gaussian, zero from the terminating one on
    clamped: Optional[Bool[Tensor, "A P K"]]  # alpha hit the 0.999 clamp (None when nowhere)


def _alpha_floor(dtype: torch.dtype) -> float:
    """Largest value below 1/255 in ``dtype``: ``threshold(x, floor)`` keeps exactly the alphas >= 1/255."""
    one_255 = torch.tensor(ALPHA_MIN, dtype=dtype)
    return float(torch.nextafter(one_255, torch.zeros_like(one_255)))


def _chunk_weights(
    coeffs_chunk: Float[Tensor, "A K 6"], feats: Float[Tensor, "P 6"], t_in: Float[Tensor, "A P"], alpha_floor: float
):
    """Compositing weights of one chunk for all its pixels.

    Args:
        coeffs_chunk: [A, K, 6] log-alpha coefficients.
        feats: [P, 6] pixel features.
        t_in: [A, P] transmittance entering the chunk, 0 for pixels that are done.
        alpha_floor: see :func:`_alpha_floor`.

    Returns:
        weights [A, P, K], next_t [A, P, K], t_last [A, P] (T after the chunk, or at the stop for pixels that
        terminated in it), terminated [A, P] bool, clamped [A, P, K] bool or None.
    """
    log_alpha = torch.matmul(feats, coeffs_chunk.transpose(1, 2))  # [A, P, K]
    clamped = None
    if float(log_alpha.amax()) > LOG_ALPHA_MAX:  # rare: only opacities above 0.999 reach the clamp
        clamped = log_alpha > LOG_ALPHA_MAX
    # threshold_ exists at runtime but is missing from torch's stubs.
    alpha = log_alpha.clamp_(max=LOG_ALPHA_MAX).exp_()
    torch.nn.functional.threshold_(alpha, alpha_floor, 0.0)  # type: ignore[attr-defined]
    one_minus = torch.rsub(alpha, 1.0)
    next_t = torch.cumprod(one_minus, dim=-1).mul_(t_in[:, :, None])
    last = next_t[:, :, -1].clone()
    # gsplat stops at the first Gaussian with next_T <= 1e-4 and composites neither it nor anything after it;
    # next_t only decreases along K, so zeroing next_t <= 1e-4 masks exactly those.
    torch.nn.functional.threshold_(next_t, T_MIN, 0.0)  # type: ignore[attr-defined]
    terminated = (last <= T_MIN) & (t_in > 0)
    t_last = last
    if bool(terminated.any()):
        rows = next_t[terminated]  # [n, K]
        kept = (rows > 0).sum(-1)
        at_stop = rows.gather(-1, (kept - 1).clamp(min=0)[:, None])[:, 0]
        t_last = last.masked_scatter(terminated, torch.where(kept > 0, at_stop, t_in[terminated]))
    weights = alpha.div_(one_minus).mul_(next_t)  # alpha_i * T_before_i, with T_before = T_after / (1 - alpha)
    return weights, next_t, t_last, terminated, clamped


def _forward_pass(coeffs, colors_isect, offsets, grid: TileGrid, chunk: int, keep_chunks: bool):
    """Composite all tiles; returns accum [tiles, D, P] (without background), t_final [tiles, P], chunks."""
    dtype, device = coeffs.dtype, coeffs.device
    n_ch, n_pix = colors_isect.shape[-1], grid.n_pix
    feats = pixel_features(grid.tile_size, dtype, device)
    floor = _alpha_floor(dtype)
    lengths = offsets[1:] - offsets[:-1]
    accum = torch.zeros(grid.n_tiles, n_ch, n_pix, dtype=dtype, device=device)
    t_final = torch.ones(grid.n_tiles, n_pix, dtype=dtype, device=device)
    tiles = torch.nonzero(lengths > 0).squeeze(1)
    t_run = valid_pixels(grid, device)[tiles].to(dtype)  # [A, P] T of live pixels, 0 once done (or padding)
    t_cur = torch.ones_like(t_run)  # [A, P] T of every pixel (frozen at the stop)
    acc = torch.zeros(tiles.shape[0], n_ch, n_pix, dtype=dtype, device=device)
    arange = torch.arange(chunk, device=device)
    chunks: list[_Chunk] = []
    k = 0
    while tiles.numel() > 0:
        pos = (offsets[tiles] + k * chunk)[:, None] + arange
        idx = torch.where(pos < offsets[tiles + 1][:, None], pos, coeffs.shape[0] - 1)
        weights, next_t, t_last, terminated, clamped = _chunk_weights(coeffs[idx], feats, t_run, floor)
        acc.baddbmm_(colors_isect[idx].transpose(1, 2), weights.transpose(1, 2))
        if keep_chunks:
            chunks.append(_Chunk(tiles, idx, weights, next_t, clamped))
        t_cur = torch.where(t_run > 0, t_last, t_cur)
        t_run = t_last.masked_fill(terminated, 0.0)
        k += 1
        keep = (lengths[tiles] > k * chunk) & (t_run.amax(dim=1) > 0)
        if not bool(keep.all()):
            gone = tiles[~keep]
            accum[gone] = acc[~keep]
            t_final[gone] = t_cur[~keep]
            tiles, acc, t_run, t_cur = tiles[keep], acc[keep], t_run[keep], t_cur[keep]
    return accum, t_final, chunks


def _backward_pass(chunks: list[_Chunk], coeffs, colors_isect, g_c, behind, grid: TileGrid, with_abs: bool):
    """Per-intersection gradients of the log-alpha coefficients [M+1, 6] and colours [M+1, D] (+ abs grads)."""
    dtype, device = coeffs.dtype, coeffs.device
    n_rows, n_ch = coeffs.shape[0], colors_isect.shape[-1]
    feats_t = pixel_features(grid.tile_size, dtype, device).T.contiguous()  # [6, P]
    g_c_t = g_c.transpose(1, 2).contiguous()  # [tiles, D, P]
    g_coeffs = torch.zeros(n_rows, 6, dtype=dtype, device=device)
    g_colors = torch.zeros(n_rows, n_ch, dtype=dtype, device=device)
    g_abs = torch.zeros(n_rows, 2, dtype=dtype, device=device) if with_abs else None
    tri = None
    tiny = torch.finfo(dtype).tiny
    for ch in chunks:
        n_k = ch.idx.shape[1]
        if tri is None:
            tri = torch.ones(n_k, n_k, dtype=dtype, device=device).triu_()  # running sums as one matrix product
        rows = ch.idx.reshape(-1)
        behind_in = behind[ch.tiles]  # [A, P]
        e = torch.bmm(g_c[ch.tiles], colors_isect[ch.idx].transpose(1, 2))  # [A, P, K] colour . gradient
        run = torch.matmul(e * ch.weights, tri)  # inclusive prefix sums along K
        behind[ch.tiles] = behind_in - run[:, :, -1]
        # d loss / d log alpha_i = w_i (c_i . g) - alpha_i / (1 - alpha_i) * behind_i, and
        # alpha_i / (1 - alpha_i) = w_i / T_after_i (w_i = 0 wherever T_after_i was zeroed).
        ratio = torch.rsub(run, behind_in[:, :, None]).div_(ch.next_t.clamp(min=tiny))
        g_log = e.sub_(ratio).mul_(ch.weights)
        if ch.clamped is not None:  # clamped alphas pass no gradient to sigma and opacity, as in gsplat
            g_log.masked_fill_(ch.clamped, 0.0)
        g_coeffs[rows] = torch.matmul(feats_t, g_log).transpose(1, 2).reshape(-1, 6)
        g_colors[rows] = torch.bmm(g_c_t[ch.tiles], ch.weights).transpose(1, 2).reshape(-1, n_ch)
        if g_abs is not None:
            g_abs[rows] = _abs_mean_grads(coeffs[ch.idx], g_log, feats_t.T)
    return g_coeffs, g_colors, g_abs


class _CompositeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, colors, opacities, backgrounds, flatten_ids, isect_tiles, offsets, grid, chunk,
                absgrad):  # fmt: skip
        coeffs, colors_isect = _per_intersection(means2d, conics, colors, opacities, flatten_ids, isect_tiles, grid)
        keep_chunks = any(ctx.needs_input_grad[:5])
        accum, t_final, chunks = _forward_pass(coeffs, colors_isect, offsets, grid, chunk, keep_chunks)
        out = accum
        if backgrounds is not None:
            bg_tiles = backgrounds.repeat_interleave(grid.tile_width * grid.tile_height, dim=0)  # [tiles, D]
            out = accum + t_final[:, None, :] * bg_tiles[:, :, None]
        render = tiles_to_image(out.transpose(1, 2), grid)
        alphas = tiles_to_image((1.0 - t_final)[:, :, None], grid)
        ctx.save_for_backward(means2d, conics, opacities, backgrounds, flatten_ids, isect_tiles, coeffs,
                              colors_isect, accum, t_final)  # fmt: skip
        ctx.chunks, ctx.grid, ctx.absgrad, ctx.n_pairs = chunks, grid, absgrad, colors.shape[0]
        return render, alphas

    @staticmethod
    def backward(ctx, g_render, g_alphas):
        (means2d, conics, opacities, backgrounds, flatten_ids, isect_tiles, coeffs, colors_isect, accum,
         t_final) = ctx.saved_tensors  # fmt: skip
        grid = ctx.grid
        dtype = means2d.dtype
        g_c = image_to_tiles(g_render.to(dtype), grid)  # [tiles, P, D]
        g_a = image_to_tiles(g_alphas.to(dtype), grid)[:, :, 0]  # [tiles, P]
        # d loss / d T_final per pixel: background term minus the alpha output's gradient.
        g_t_final = -g_a
        g_backgrounds = None
        if backgrounds is not None:
            tiles_per_img = grid.tile_width * grid.tile_height
            bg_tiles = backgrounds.repeat_interleave(tiles_per_img, dim=0)
            g_t_final = g_t_final + (g_c * bg_tiles[:, None, :]).sum(-1)
            if ctx.needs_input_grad[4]:
                per_tile = (g_c * t_final[:, :, None]).sum(1)  # [tiles, D]
                g_backgrounds = per_tile.reshape(grid.n_cams, tiles_per_img, -1).sum(1)
        # (Colour behind the first Gaussian) . gradient, including the background / alpha-output term.
        behind = (accum.transpose(1, 2) * g_c).sum(-1) + t_final * g_t_final  # [tiles, P]
        g_coeffs, g_colors_isect, g_abs = _backward_pass(
            ctx.chunks, coeffs, colors_isect, g_c, behind, grid, ctx.absgrad is not None
        )
        g_means2d, g_conics, g_colors, g_opac = _pair_grads(
            g_coeffs[:-1], g_colors_isect[:-1], means2d, conics, opacities, flatten_ids, isect_tiles, grid,
            ctx.n_pairs,
        )  # fmt: skip
        if g_abs is not None:
            abs_pairs = torch.zeros(ctx.n_pairs, 2, dtype=dtype, device=means2d.device)
            abs_pairs.index_add_(0, flatten_ids, g_abs[:-1])
            target = ctx.absgrad[0]
            target.absgrad = abs_pairs.reshape(target.shape)
        return g_means2d, g_conics, g_colors, g_opac, g_backgrounds, None, None, None, None, None, None


def _per_intersection(means2d, conics, colors, opacities, flatten_ids, isect_tiles, grid):
    """Log-alpha coefficients [M + 1, 6] and colours [M + 1, D] per intersection, plus a padding sentinel row."""
    dtype, device = means2d.dtype, means2d.device
    tcx, tcy = tile_centres(isect_tiles, grid, dtype)
    mu = means2d[flatten_ids, 0] - tcx
    mv = means2d[flatten_ids, 1] - tcy
    log_opac = torch.log(opacities[flatten_ids].clamp(min=torch.finfo(dtype).tiny))
    coeffs = log_alpha_coeffs(mu, mv, conics[flatten_ids], log_opac)
    sentinel = torch.zeros(1, 6, dtype=dtype, device=device)
    sentinel[0, 5] = _SENTINEL_LOG_ALPHA
    colors_isect = torch.cat([colors[flatten_ids], torch.zeros(1, colors.shape[-1], dtype=dtype, device=device)])
    return torch.cat([coeffs, sentinel]), colors_isect


def _pair_grads(g_coeffs, g_colors_isect, means2d, conics, opacities, flatten_ids, isect_tiles, grid, n_pairs):
    """Chain rule from per-intersection coefficient gradients to per camera/Gaussian pair gradients."""
    dtype, device = means2d.dtype, means2d.device
    tcx, tcy = tile_centres(isect_tiles, grid, dtype)
    mu = means2d[flatten_ids, 0] - tcx
    mv = means2d[flatten_ids, 1] - tcy
    a, b, c = conics[flatten_ids].unbind(-1)
    g0, g1, g2, g3, g4, g5 = g_coeffs.unbind(-1)
    g_mu = g3 * a + g4 * b - g5 * (a * mu + b * mv)
    g_mv = g3 * b + g4 * c - g5 * (b * mu + c * mv)
    g_a = -0.5 * g0 + g3 * mu - 0.5 * mu * mu * g5
    g_b = -g1 + g3 * mv + g4 * mu - mu * mv * g5
    g_c = -0.5 * g2 + g4 * mv - 0.5 * mv * mv * g5
    g_means2d = torch.zeros(n_pairs, 2, dtype=dtype, device=device)
    g_means2d.index_add_(0, flatten_ids, torch.stack([g_mu, g_mv], dim=-1))
    g_conics = torch.zeros(n_pairs, 3, dtype=dtype, device=device)
    g_conics.index_add_(0, flatten_ids, torch.stack([g_a, g_b, g_c], dim=-1))
    g_colors = torch.zeros(n_pairs, g_colors_isect.shape[-1], dtype=dtype, device=device)
    g_colors.index_add_(0, flatten_ids, g_colors_isect)
    g_log_opac = torch.zeros(n_pairs, dtype=dtype, device=device)
    g_log_opac.index_add_(0, flatten_ids, g5)
    # d log o / d o = 1 / o; the gradient is exactly 0 wherever o < 1/255 (all its alphas are skipped).
    g_opac = torch.where(opacities > 0, g_log_opac / opacities.clamp(min=torch.finfo(dtype).tiny), 0.0)
    return g_means2d, g_conics, g_colors, g_opac


def _abs_mean_grads(
    k: Float[Tensor, "A K 6"], g_log: Float[Tensor, "A P K"], feats: Float[Tensor, "P 6"]
) -> Float[Tensor, "AK 2"]:
    """Sum over pixels of |d loss / d mean2d| ([A*K, 2]) from g_log [A, P, K]; gsplat's ``absgrad`` statistic.

    d log alpha / d mean_x = -(a dx + b dy) = 2 k0 u + k1 v + k3 (dx = mean - pixel), likewise for y.
    """
    lin_x = torch.stack([2.0 * k[..., 0], k[..., 1], k[..., 3]], dim=-1)  # [A, K, 3] coefficients of [u, v, 1]
    lin_y = torch.stack([k[..., 1], 2.0 * k[..., 2], k[..., 4]], dim=-1)
    uv1 = feats[:, 3:6]  # [P, 3]
    gx = (g_log * torch.matmul(uv1, lin_x.transpose(1, 2))).abs().sum(1)  # [A, K]
    gy = (g_log * torch.matmul(uv1, lin_y.transpose(1, 2))).abs().sum(1)
    return torch.stack([gx, gy], dim=-1).reshape(-1, 2)


def composite_tiles(
    means2d: Float[Tensor, "CN 2"],
    conics: Float[Tensor, "CN 3"],
    colors: Float[Tensor, "CN D"],
    opacities: Float[Tensor, "CN"],
    backgrounds: Optional[Float[Tensor, "C D"]],
    flatten_ids: Int[Tensor, "M"],
    isect_tiles: Int[Tensor, "M"],
    tile_offsets: Int[Tensor, "tiles+1"],
    grid: TileGrid,
    chunk: int = 32,
    absgrad_target: Optional[Tensor] = None,
) -> tuple[Float[Tensor, "C H W D"], Float[Tensor, "C H W 1"]]:
    """Composite camera/Gaussian pairs into images (differentiable in means2d, conics, colors, opacities, bg).

    Args:
        means2d: [C*N, 2] pixel centres of the flattened camera/Gaussian pairs.
        conics: [C*N, 3] inverse 2D covariances (a, b, c).
        colors: [C*N, D] colours/features.
        opacities: [C*N] in [0, 1].
        backgrounds: [C, D] or None.
        flatten_ids: [M] pair index of each intersection, sorted by (tile, depth).
        isect_tiles: [M] global tile id of each intersection (tiles of ``grid``).
        tile_offsets: [tiles + 1] list starts.
        grid: image tiling used for compositing.
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
