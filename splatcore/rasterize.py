"""``rasterize``: gsplat 1.4.0's ``rasterization`` on CUDA tensors, a pure-PyTorch tiled renderer elsewhere.

Both paths share the signature, the classic-mode semantics and the ``meta`` dictionary that gsplat's
``DefaultStrategy`` reads (``means2d`` with a readable ``.grad``, ``radii`` [C, N] int32, ``width``, ``height``,
``n_cameras``, ``gaussian_ids``), so densification behaves the same on CPU and GPU.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

import torch
from torch import Tensor

from splatcore._composite import composite_tiles
from splatcore._tile_layout import TileGrid
from splatcore.projection import covars_from_quat_scale, project_gaussians, symmetric_from_upper
from splatcore.sh import MAX_SH_DEGREE, eval_sh
from splatcore.tiles import intersect_subtiles

RenderMode = Literal["RGB", "D", "ED", "RGB+D", "RGB+ED"]
RENDER_MODES = ("RGB", "D", "ED", "RGB+D", "RGB+ED")


def _check(name: str, tensor: Optional[Tensor], shape: str, ok: bool) -> None:
    if not ok:
        got = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"{name} must have shape {shape}, got {got}")


def _shape(tensor) -> tuple:
    """Shape of a tensor, () for anything else (so shape tests fail instead of raising AttributeError)."""
    return tuple(tensor.shape) if isinstance(tensor, Tensor) else ()


def _check_finite(named: dict) -> None:
    """One ValueError naming the first tensor holding NaN/inf; a single host sync for all of them."""
    floats = {k: v for k, v in named.items() if isinstance(v, Tensor) and v.is_floating_point() and v.numel()}
    if not floats:
        return
    flags = torch.stack([torch.isfinite(v).all() for v in floats.values()])
    if bool(flags.all()):
        return
    bad = next(k for k, ok in zip(floats, flags.tolist(), strict=True) if not ok)
    raise ValueError(f"{bad} contains NaN or inf values; all inputs must be finite")


def _validate(means, quats, scales, opacities, colors, viewmats, Ks, width, height, sh_degree, backgrounds,
              render_mode, covars) -> None:  # fmt: skip
    """One ValueError per problem, naming the argument and the expected shape."""
    means_shape = _shape(means)
    _check("means", means, "[N, 3]", len(means_shape) == 2 and means_shape[1] == 3)
    n = means_shape[0]
    if covars is not None:
        _check("covars", covars, f"[N={n}, 3, 3]", _shape(covars) == (n, 3, 3))
    else:
        _check("quats", quats, f"[N={n}, 4] (or pass covars)", _shape(quats) == (n, 4))
        _check("scales", scales, f"[N={n}, 3] (or pass covars)", _shape(scales) == (n, 3))
    _check("opacities", opacities, f"[N={n}]", _shape(opacities) == (n,))
    vm_shape = _shape(viewmats)
    _check("viewmats", viewmats, "[C, 4, 4]", len(vm_shape) == 3 and vm_shape[1:] == (4, 4))
    c = vm_shape[0]
    _check("Ks", Ks, f"[C={c}, 3, 3]", _shape(Ks) == (c, 3, 3))
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ValueError(f"width and height must be positive ints, got width={width!r}, height={height!r}")
    if render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {RENDER_MODES}, got {render_mode!r}")
    col_shape = _shape(colors)
    if sh_degree is None:
        ok = (len(col_shape) == 2 and col_shape[0] == n) or (len(col_shape) == 3 and col_shape[:2] == (c, n))
        _check("colors", colors, f"[N={n}, D] or [C={c}, N={n}, D] (sh_degree=None)", ok)
        n_ch = col_shape[-1]
    else:
        if not (isinstance(sh_degree, int) and 0 <= sh_degree <= MAX_SH_DEGREE):
            raise ValueError(f"sh_degree must be None or an int in 0..{MAX_SH_DEGREE}, got {sh_degree!r}")
        k_min = (sh_degree + 1) ** 2
        ok = (len(col_shape) == 3 and col_shape[0] == n) or (len(col_shape) == 4 and col_shape[:2] == (c, n))
        ok = ok and col_shape[-1] == 3 and col_shape[-2] >= k_min
        _check("colors", colors, f"SH coefficients [N={n}, K>={k_min}, 3] or [C={c}, N={n}, K>={k_min}, 3]", ok)
        n_ch = 3
    if backgrounds is not None and render_mode not in ("D", "ED"):
        _check("backgrounds", backgrounds, f"[C={c}, D={n_ch}]", _shape(backgrounds) == (c, n_ch))
    _check_finite(dict(means=means, quats=quats, scales=scales, covars=covars, opacities=opacities, colors=colors,
                       viewmats=viewmats, Ks=Ks, backgrounds=backgrounds))  # fmt: skip


def rasterize(
    means: Tensor,  # [N, 3]
    quats: Optional[Tensor],  # [N, 4] wxyz
    scales: Optional[Tensor],  # [N, 3] linear
    opacities: Tensor,  # [N]
    colors: Tensor,  # [(C,) N, D] or [(C,) N, K, 3]
    viewmats: Tensor,  # [C, 4, 4]
    Ks: Tensor,  # [C, 3, 3]
    width: int,
    height: int,
    near_plane: float = 0.01,
    far_plane: float = 1e10,
    radius_clip: float = 0.0,
    eps2d: float = 0.3,
    sh_degree: Optional[int] = None,
    packed: bool = False,
    tile_size: int = 16,
    backgrounds: Optional[Tensor] = None,
    render_mode: RenderMode = "RGB",
    sparse_grad: bool = False,
    absgrad: bool = False,
    rasterize_mode: Literal["classic", "antialiased"] = "classic",
    channel_chunk: int = 32,
    distributed: bool = False,
    camera_model: Literal["pinhole", "ortho", "fisheye"] = "pinhole",
    covars: Optional[Tensor] = None,
    cpu_chunk_size: int = 32,
    cpu_tile_size: int = 8,
) -> tuple[Tensor, Tensor, dict]:
    """Rasterize 3D Gaussians into C images; same arguments and outputs as gsplat 1.4.0 ``rasterization``.

    On CUDA tensors this calls ``gsplat.rasterization``. Elsewhere it runs a differentiable PyTorch renderer with
    gsplat's classic semantics (EWA projection with the 1.3x-FOV Jacobian clamp, 0.3 px dilation, 3-sigma tile
    boxes, alpha = min(0.999, o exp(-sigma)), alphas below 1/255 skipped, termination before T < 1e-4, pixel centres
    at +0.5, depth order within each tile). Differences: ``packed`` defaults to False (the [C, N] meta layout that
    splatfacto and ``DefaultStrategy(packed=False)`` use); the PyTorch path supports only ``packed=False``,
    the pinhole camera and no ``sparse_grad``/``distributed``.

    Args:
        means: [N, 3] world centres.
        quats: [N, 4] wxyz rotations (need not be normalised); None when ``covars`` is given.
        scales: [N, 3] linear scales; None when ``covars`` is given.
        opacities: [N] opacities in [0, 1].
        colors: [N, D] or [C, N, D] values, or SH coefficients [N, K, 3] / [C, N, K, 3] when ``sh_degree`` is set
            (colour = max(SH + 0.5, 0)).
        viewmats: [C, 4, 4] world-to-camera, OpenCV axes (x right, y down, z forward).
        Ks: [C, 3, 3] pinhole intrinsics.
        width: image width.
        height: image height.
        near_plane: cull Gaussians with camera z below this.
        far_plane: cull Gaussians with camera z above this.
        radius_clip: cull Gaussians whose pixel radius is not above this.
        eps2d: 2D covariance dilation (pixels^2).
        sh_degree: None for plain colours, else the SH degree to evaluate.
        packed: gsplat's packed mode (CUDA only).
        tile_size: tile edge in pixels.
        backgrounds: [C, D] colours behind the Gaussians (ignored for "D"/"ED").
        render_mode: "RGB", "D" (accumulated depth), "ED" (expected depth), "RGB+D", "RGB+ED"; depth is appended
            as the last channel.
        sparse_grad: gsplat option (CUDA only).
        absgrad: also store ``meta["means2d"].absgrad`` (sum over pixels of |grad|) during backward.
        rasterize_mode: "classic" or "antialiased" (opacity times the dilation compensation).
        channel_chunk: gsplat's channel batching (CUDA only; the PyTorch path does all channels at once).
        distributed: gsplat option (CUDA only).
        camera_model: gsplat option; the PyTorch path supports "pinhole".
        covars: [N, 3, 3] world covariances used instead of quats/scales (upper triangle read, as gsplat).
        cpu_chunk_size: Gaussians per tile per step in the PyTorch path (speed/memory trade-off only).
        cpu_tile_size: tile edge the PyTorch path composites with; ``gcd(tile_size, cpu_tile_size)`` is used.
            Pixels still follow gsplat's ``tile_size`` culling rule; smaller tiles only skip pixel/Gaussian pairs
            whose alpha is below 1/255, so the image does not depend on it.

    Returns:
        render_colors [C, H, W, D(+1)], render_alphas [C, H, W, 1] and meta (gsplat keys: ``camera_ids``,
        ``gaussian_ids``, ``radii``, ``means2d``, ``depths``, ``conics``, ``opacities``, ``tile_width``,
        ``tile_height``, ``tiles_per_gauss``, ``isect_ids``, ``flatten_ids``, ``isect_offsets``, ``width``,
        ``height``, ``tile_size``, ``n_cameras``).
    """
    _validate(means, quats, scales, opacities, colors, viewmats, Ks, width, height, sh_degree, backgrounds,
              render_mode, covars)  # fmt: skip
    if means.is_cuda:
        import gsplat

        return gsplat.rasterization(
            means, quats, scales, opacities, colors, viewmats, Ks, width, height,
            near_plane=near_plane, far_plane=far_plane, radius_clip=radius_clip, eps2d=eps2d, sh_degree=sh_degree,
            packed=packed, tile_size=tile_size, backgrounds=backgrounds, render_mode=render_mode,
            sparse_grad=sparse_grad, absgrad=absgrad, rasterize_mode=rasterize_mode, channel_chunk=channel_chunk,
            distributed=distributed, camera_model=camera_model, covars=covars,
        )  # fmt: skip
    for flag, value in (("packed", packed), ("sparse_grad", sparse_grad), ("distributed", distributed)):
        if value:
            raise ValueError(f"{flag}=True needs CUDA tensors (gsplat); the PyTorch renderer supports {flag}=False")
    if camera_model != "pinhole":
        raise ValueError(f"camera_model={camera_model!r} needs CUDA tensors; the PyTorch renderer supports 'pinhole'")
    if rasterize_mode not in ("classic", "antialiased"):
        raise ValueError(f"rasterize_mode must be 'classic' or 'antialiased', got {rasterize_mode!r}")
    return _rasterize_torch(means, quats, scales, opacities, colors, viewmats, Ks, width, height, near_plane,
                            far_plane, radius_clip, eps2d, sh_degree, tile_size, backgrounds, render_mode, absgrad,
                            rasterize_mode, covars, cpu_chunk_size, math.gcd(tile_size, cpu_tile_size))  # fmt: skip


def _rasterize_torch(means, quats, scales, opacities, colors, viewmats, Ks, width, height, near_plane, far_plane,
                     radius_clip, eps2d, sh_degree, tile_size, backgrounds, render_mode, absgrad, rasterize_mode,
                     covars, chunk, subtile):  # fmt: skip
    n_gauss, n_cams = means.shape[0], viewmats.shape[0]
    covars_w = symmetric_from_upper(covars) if covars is not None else covars_from_quat_scale(quats, scales)
    proj = project_gaussians(means, covars_w, viewmats, Ks, width, height, eps2d, near_plane, far_plane,
                             radius_clip, calc_compensations=rasterize_mode == "antialiased")  # fmt: skip
    visible = proj.radii > 0  # [C, N]
    opac_cn = opacities[None, :].expand(n_cams, n_gauss)
    if proj.compensations is not None:
        opac_cn = opac_cn * proj.compensations

    if sh_degree is None:
        colors_cn = colors.expand(n_cams, -1, -1) if colors.dim() == 2 else colors
    else:
        cam_centres = torch.linalg.inv(viewmats)[:, :3, 3]  # as gsplat, valid for any invertible viewmat
        dirs = means[None, :, :] - cam_centres[:, None, :]  # [C, N, 3]
        shs = colors.expand(n_cams, -1, -1, -1) if colors.dim() == 3 else colors
        colors_cn = eval_sh(sh_degree, shs, dirs)
        # gsplat evaluates SH only for visible pairs (zero elsewhere), then applies its +0.5 / clamp rule.
        colors_cn = torch.where(visible[..., None], colors_cn, 0.0)
        colors_cn = torch.clamp_min(colors_cn + 0.5, 0.0)

    if render_mode in ("RGB+D", "RGB+ED"):
        colors_cn = torch.cat([colors_cn, proj.depths[..., None]], dim=-1)
        if backgrounds is not None:
            backgrounds = torch.cat([backgrounds, torch.zeros_like(backgrounds[:, :1])], dim=-1)
    elif render_mode in ("D", "ED"):
        colors_cn = proj.depths[..., None]
        if backgrounds is not None:
            backgrounds = torch.zeros(n_cams, 1, dtype=means.dtype, device=means.device)

    tile_width = math.ceil(width / tile_size)
    tile_height = math.ceil(height / tile_size)
    isect = intersect_subtiles(proj.means2d.detach(), proj.radii, proj.depths.detach(), proj.conics.detach(),
                               opac_cn.detach(), tile_size, subtile, width, height)  # fmt: skip
    grid = TileGrid(n_cams, width, height, subtile, -(-width // subtile), -(-height // subtile))
    render_colors, render_alphas = composite_tiles(
        proj.means2d.reshape(n_cams * n_gauss, 2),
        proj.conics.reshape(n_cams * n_gauss, 3),
        colors_cn.reshape(n_cams * n_gauss, colors_cn.shape[-1]),
        opac_cn.reshape(n_cams * n_gauss),
        backgrounds,
        isect.flatten_ids,
        isect.isect_tiles,
        isect.tile_offsets,
        grid,
        chunk=chunk,
        absgrad_target=proj.means2d if absgrad else None,
    )
    if render_mode in ("ED", "RGB+ED"):
        render_colors = torch.cat(
            [render_colors[..., :-1], render_colors[..., -1:] / render_alphas.clamp(min=1e-10)], dim=-1
        )
    meta = {
        "camera_ids": None,
        "gaussian_ids": None,
        "radii": proj.radii,
        "means2d": proj.means2d,
        "depths": proj.depths,
        "conics": proj.conics,
        "opacities": opac_cn,
        "tile_width": tile_width,
        "tile_height": tile_height,
        "tiles_per_gauss": isect.tiles_per_gauss,
        # Intersection lists of the PyTorch path refer to its own cpu_tile_size grid, not gsplat's tile grid.
        "isect_ids": _isect_ids(isect.isect_tiles, isect.flatten_ids, proj.depths),
        "flatten_ids": isect.flatten_ids.int(),
        "isect_offsets": isect.tile_offsets[:-1].int().reshape(n_cams, grid.tile_height, grid.tile_width),
        "cpu_tile_size": subtile,
        "width": width,
        "height": height,
        "tile_size": tile_size,
        "n_cameras": n_cams,
    }
    return render_colors, render_alphas, meta


@torch.no_grad()
def _isect_ids(isect_tiles: Tensor, flatten_ids: Tensor, depths: Tensor) -> Tensor:
    """gsplat-style int64 keys ``(global tile << 32) | float32 depth bits`` of the PyTorch path's intersections."""
    depth_bits = depths.detach().reshape(-1)[flatten_ids].float().view(torch.int32).long() & 0xFFFFFFFF
    return (isect_tiles << 32) | depth_bits
