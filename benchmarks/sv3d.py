"""SV3D time and GPU memory: seconds and peak memory per orbit and for RIGI's three orbits, with and without PAG.

    .venv/bin/python benchmarks/sv3d.py --weights DIR [--steps 50] [--resolution 576] [--output bench_out/sv3d.json]

Needs CUDA and the converted sv3d_p weights (``datagen convert-sv3d-weights``); elsewhere it says so and exits 0.
Runs fp16 at 576 x 576 by default, 21 frames per orbit, on one framed synthetic input (a disc on white); one
warm-up orbit is sampled first and not counted. PAG adds a third UNet branch per step, so it costs about 1.5x the
UNet time and more activation memory.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import tyro


@dataclass
class Args:
    weights: Optional[Path] = None
    """Converted sv3d_p directory (``datagen convert-sv3d-weights sv3d_p.safetensors DIR``)."""
    steps: int = 50
    """Sampling steps (SV3D's reference: 50)."""
    resolution: int = 576
    """Image size (SV3D's: 576)."""
    pag_scale: float = 3.0
    """PAG strength of the 'with PAG' runs."""
    cpu_offload: bool = False
    """Measure with model CPU offload."""
    output: Path = Path("bench_out/sv3d.json")
    """Where the figures are written."""


def _framed_disc(size: int) -> np.ndarray:
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    image[(xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (size / 3) ** 2] = (180, 60, 40)
    return image


def _measure(generator, image: np.ndarray, amplitudes: tuple[float, ...]) -> dict:
    import torch

    generator.settings.amplitudes_deg = amplitudes
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    generator.generate(image, seed=0)
    torch.cuda.synchronize()
    return {
        "orbits": len(amplitudes),
        "seconds": round(time.perf_counter() - start, 2),
        "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
    }


def main(args: Args) -> int:
    import torch

    if not torch.cuda.is_available():
        print("benchmarks/sv3d.py: no CUDA device here; SV3D's time and memory are only measured on a GPU.")
        return 0
    if args.weights is None:
        print("benchmarks/sv3d.py: pass --weights DIR (the converted sv3d_p; see docs/sv3d.md); nothing measured.")
        return 0
    from datagen.generators.sv3d import SV3DSettings, load_sv3d_generator

    image = _framed_disc(args.resolution)
    base = SV3DSettings(
        weights=str(args.weights),
        device="cuda",
        steps=args.steps,
        resolution=args.resolution,
        cpu_offload=args.cpu_offload,
        progress=False,
    )
    results = {"device": torch.cuda.get_device_name(), "steps": args.steps, "resolution": args.resolution, "runs": []}
    for pag_scale in (0.0, args.pag_scale):
        generator = load_sv3d_generator(replace(base, pag_scale=pag_scale))
        _measure(generator, image, (0.0,))  # warm-up: kernels, allocator
        for amplitudes in ((0.0,), (0.0, -20.0, 40.0)):
            run = {"pag_scale": pag_scale, **_measure(generator, image, amplitudes)}
            results["runs"].append(run)
            print(run)
        del generator
        torch.cuda.empty_cache()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(tyro.cli(Args)))
