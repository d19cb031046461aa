"""Time splatcore.rasterize (forward + backward) against a dense PyTorch reference, and gsplat on CUDA.

Scene: Gaussians uniformly in a unit ball seen from radius 4 with the SV3D field of view, scales chosen so the
splat covers the object like a trained one (the ball is mostly opaque, Gaussians a few pixels wide).
Timings are the best of several repeats, since the machine may be shared. Usage:

    python benchmarks/rasterizer.py [--quick] [--threads N] [--repeats R]
"""

from __future__ import annotations

import concurrent.futures
import functools
import math
import multiprocessing
import resource
import time
from dataclasses import dataclass
from typing import Optional

import torch
import tyro

from splatcore import rasterize
from splatcore.projection import covars_from_quat_scale, project_gaussians

DENSE_MAX_WORK = 200_000_000  # dense reference only up to N * pixels = 2e8 (it takes seconds to minutes)


def make_scene(n: int, size: int, device: torch.device, seed: int = 0):
    """Gaussians in a unit ball, camera at radius 4 on -z looking at the origin, FOV 33.8 degrees."""
    gen = torch.Generator().manual_seed(seed)
    dirs = torch.nn.functional.normalize(torch.randn(n, 3, generator=gen), dim=-1)
    means = dirs * torch.rand(n, 1, generator=gen) ** (1.0 / 3.0)
    quats = torch.randn(n, 4, generator=gen)
    # Mean spacing of n points in the unit ball is ~ (4.19 / n)^(1/3); scales of that order cover it.
    scales = torch.exp(torch.randn(n, 3, generator=gen) * 0.3) * 0.6 * (4.19 / n) ** (1.0 / 3.0)
    opacities = torch.rand(n, generator=gen) * 0.6 + 0.35
    colors = torch.rand(n, 3, generator=gen)
    viewmat = torch.eye(4)[None].clone()
    viewmat[0, 2, 3] = 4.0
    focal = 0.5 * size / math.tan(math.radians(33.8 / 2))
    Ks = torch.tensor([[[focal, 0.0, size / 2], [0.0, focal, size / 2], [0.0, 0.0, 1.0]]])
    tensors = (means, quats, scales, opacities, colors, viewmat, Ks)
    return [t.to(device) for t in tensors]


def dense_render(means, quats, scales, opacities, colors, viewmat, Ks, size):
    """Reference: every Gaussian against every pixel, depth-sorted, T = cumprod(1 - alpha) (autograd)."""
    proj = project_gaussians(means, covars_from_quat_scale(quats, scales), viewmat, Ks, size, size)
    vis = proj.radii[0] > 0
    order = torch.argsort(proj.depths[0][vis])
    m2d, con = proj.means2d[0][vis][order], proj.conics[0][vis][order]
    opac, col = opacities[vis][order], colors[vis][order]
    ys, xs = torch.meshgrid(torch.arange(size, device=means.device), torch.arange(size, device=means.device),
                            indexing="ij")  # fmt: skip
    pix = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1).to(means.dtype) + 0.5
    rows = []
    for start in range(0, pix.shape[0], 1024):  # pixel blocks keep memory bounded
        d = m2d[None] - pix[start : start + 1024, None]  # [B, M, 2]
        sigma = 0.5 * (con[:, 0] * d[..., 0] ** 2 + con[:, 2] * d[..., 1] ** 2) + con[:, 1] * d[..., 0] * d[..., 1]
        alpha = torch.clamp(opac * torch.exp(-sigma), max=0.999)
        alpha = alpha * (alpha >= 1.0 / 255.0)
        trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha[:, :-1]], dim=1), dim=1)
        rows.append((alpha * trans) @ col)
    return torch.cat(rows).reshape(1, size, size, 3)


def time_fn(fn, repeats: int) -> tuple[float, float]:
    """Best wall time in ms over ``repeats`` runs, and the peak RSS growth in MiB (CPU) or peak CUDA memory."""
    best = float("inf")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # process peak so far (KiB on Linux)
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    if cuda:
        mem = torch.cuda.max_memory_allocated() / 2**20
    else:
        mem = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024.0  # ru_maxrss is KiB on Linux
    return best * 1000.0, mem


def fwd_bwd(render_fn, params):
    def run():
        for p in params:
            p.grad = None
        out = render_fn()
        out.sum().backward()

    return run


@dataclass
class Settings:
    """What to measure."""

    quick: bool = False
    """1k and 10k Gaussians at 64 and 128 pixels only."""
    threads: Optional[int] = None
    """torch CPU threads (default: torch's choice)."""
    repeats: int = 5
    """Repeats per measurement (best is reported)."""


def main() -> None:
    args = tyro.cli(Settings, description=__doc__.splitlines()[0])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    counts = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]
    sizes = [64, 128] if args.quick else [64, 128, 256]
    print(f"device={device} threads={args.threads or torch.get_num_threads()} repeats={args.repeats} (best of; "
          "machine may be shared); MiB = peak RSS growth of a fresh process (CPU) or peak CUDA memory")  # fmt: skip
    print(f"{'N':>7} {'size':>5} {'tiled ms':>9} {'tiled MiB':>9} {'dense ms':>9} {'dense MiB':>9} {'ratio':>7}"
          f" {'gsplat ms':>9}")  # fmt: skip
    for n in counts:
        for size in sizes:
            print(_row(n, size, device, args), flush=True)


def _tiled(means, quats, scales, opacities, colors, viewmat, Ks, size):
    return rasterize(means, quats, scales, opacities, colors, viewmat, Ks, size, size)[0]


def _gsplat(means, quats, scales, opacities, colors, viewmat, Ks, size):
    from gsplat import rasterization

    return rasterization(means, quats, scales, opacities, colors, viewmat, Ks, size, size, packed=False)[0]


def _measure(kind: str, n: int, size: int, repeats: int, threads: int | None) -> tuple[float, float]:
    """Time one renderer in this process (meant to run in a fresh child so its peak RSS is its own)."""
    if threads:
        torch.set_num_threads(threads)
    if kind == "gsplat":
        scene = [t.requires_grad_(i < 5) for i, t in enumerate(make_scene(n, size, torch.device("cuda")))]
    else:
        scene = [t.requires_grad_(i < 5) for i, t in enumerate(make_scene(n, size, torch.device("cpu")))]
    fn = {"tiled": _tiled, "dense": dense_render, "gsplat": _gsplat}[kind]
    return time_fn(fwd_bwd(functools.partial(fn, *scene, size), scene[:5]), repeats)


def _measure_in_child(*args) -> tuple[float, float]:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_measure, *args).result()


def _row(n: int, size: int, device: torch.device, args) -> str:
    """One table row: tiled (and dense where feasible) on CPU, gsplat on CUDA; each in a fresh process."""
    tiled_ms, tiled_mem = _measure_in_child("tiled", n, size, args.repeats, args.threads)
    dense_txt = mem_txt = ratio_txt = "skipped"
    work = n * size * size
    if work <= DENSE_MAX_WORK and not (args.quick and work > 2e8):
        dense_ms, dense_mem = _measure_in_child("dense", n, size, 1 if work > 1e8 else 2, args.threads)
        dense_txt, mem_txt, ratio_txt = f"{dense_ms:9.1f}", f"{dense_mem:9.1f}", f"{dense_ms / tiled_ms:7.1f}"
    gsplat_txt = "-"
    if device.type == "cuda":
        gsplat_ms, _ = _measure_in_child("gsplat", n, size, args.repeats, args.threads)
        gsplat_txt = f"{gsplat_ms:9.2f}"
    return (f"{n:>7} {size:>5} {tiled_ms:9.1f} {tiled_mem:9.1f} {dense_txt:>9} {mem_txt:>9} {ratio_txt:>7}"
            f" {gsplat_txt:>9}")  # fmt: skip


if __name__ == "__main__":
    main()
