"""The README demo: synthetic dataset -> `ns-train rigi-splat-cpu` -> `ns-export` -> `ns-eval` -> turntable.

    .venv/bin/python scripts/demo.py            (or: make demo)

Runs on CPU in a few minutes and writes everything under ``demo_out/``: the dataset, the training run, the exported
PLY, ``eval.json`` (PSNR/SSIM on the dataset's 36 ground-truth views), ``turntable.gif``/``turntable.mp4`` of
model 1, ``uncertainty.png`` (model 1 | model 2 | uncertainty) and ``figures.json`` (the figures printed at the end).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import tyro

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def run(step: str, args: list) -> None:
    """Run one stage as the user would type it, echoing the command; stop the demo if it fails."""
    command = [str(a) for a in args]
    print(f"\n==> {step}\n$ {' '.join(command)}", flush=True)
    # One torch thread per stage unless the user chose: two-thread runs of the rasterizer can stall on a small
    # loaded CPU (README, rasterizer figures), and with one thread the demo's idle wall time is its CPU time.
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    started, cpu_started = time.perf_counter(), children_cpu_seconds()
    subprocess.run(command, check=True, cwd=REPO, env=env)
    print(
        f"    ({time.perf_counter() - started:.0f} s, CPU time {children_cpu_seconds() - cpu_started:.0f} s)",
        flush=True,
    )


def children_cpu_seconds() -> float:
    """User + system CPU time of every finished child process so far (all threads, all stages)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def asset_figures(eval_json: Path, ply: Path) -> dict:
    """The demo's figures: ns-eval's PSNR/SSIM and the exported PLY's opacity statistics.

    Args:
        eval_json: what ``ns-eval --output-path`` wrote.
        ply: the 3DGS PLY ``ns-export gaussian-splat`` wrote (opacities stored as logits).
    """
    from splatcore.ply import read_splat_ply

    results = json.loads(Path(eval_json).read_text())["results"]
    opacity = 1.0 / (1.0 + np.exp(-read_splat_ply(ply).opacity_logits.astype(np.float64)))
    return {
        "psnr": float(results["psnr"]),
        "ssim": float(results["ssim"]),
        "gaussians": int(opacity.size),
        "median_opacity": float(np.median(opacity)),
        "fraction_opacity_above_half": float(np.mean(opacity > 0.5)),
    }


@dataclass
class Demo:
    """One image-to-3D run on a synthetic object with inconsistent pseudo-labels."""

    output_dir: Path = Path("demo_out")
    """Everything the demo writes goes here (replaced on every run)."""
    seed: int = 3
    """Synthetic object seed."""
    resolution: int = 128
    """Label resolution in pixels (the CPU preset is sized for 128)."""
    inconsistency: str = "medium"
    """Strength of the seeded label inconsistencies (none, low, medium, high)."""
    max_num_iterations: Optional[int] = None
    """Training steps; default: the rigi-splat-cpu preset's 1,000, the length its schedule is laid out for."""
    turntable_size: int = 128
    """Side of the turntable frames in pixels."""

    def main(self) -> dict:
        started = time.perf_counter()
        out = (REPO / self.output_dir).resolve()
        if out.exists():
            shutil.rmtree(out)
        data = out / "data"
        run(
            "1/5 synthetic dataset (63 pseudo-labels on the SV3D orbits + 36 ground-truth views)",
            [BIN / "datagen", "synthetic", "--output-dir", data, "--seed", self.seed, "--resolution", self.resolution]
            + ["--inconsistency", self.inconsistency],
        )
        steps = [] if self.max_num_iterations is None else ["--max-num-iterations", self.max_num_iterations]
        run(
            "2/5 train rigi-splat-cpu (two Gaussian sets, uncertainty-weighted loss)",
            [BIN / "ns-train", "rigi-splat-cpu", "--data", data, "--output-dir", out / "outputs"]
            + ["--experiment-name", "demo", "--timestamp", "demo", "--vis", "tensorboard"]
            + ["--viewer.quit-on-train-completion", "True"]
            + steps,
        )
        config = out / "outputs" / "demo" / "rigi-splat-cpu" / "demo" / "config.yml"
        run(
            "3/5 export model 1 as a 3DGS PLY",
            [BIN / "ns-export", "gaussian-splat", "--load-config", config, "--output-dir", out / "export"],
        )
        run(
            "4/5 evaluate model 1 on the 36 ground-truth views",
            [BIN / "ns-eval", "--load-config", config, "--output-path", out / "eval.json"],
        )
        run(
            "5/5 turntable and uncertainty map",
            [sys.executable, REPO / "scripts" / "turntable.py", "--load-config", config, "--output-dir", out]
            + ["--size", self.turntable_size],
        )
        figures = asset_figures(out / "eval.json", out / "export" / "splat.ply")
        figures.update(
            wall_seconds=time.perf_counter() - started,
            cpu_seconds=children_cpu_seconds(),
            seed=self.seed,
            resolution=self.resolution,
        )
        (out / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(
            f"\nDemo finished in {figures['wall_seconds']:.0f} s (CPU time of all stages {figures['cpu_seconds']:.0f} s)."
        )
        print(
            f"Ground-truth views: PSNR {figures['psnr']:.2f} dB, SSIM {figures['ssim']:.3f}.  Exported PLY: "
            f"{figures['gaussians']} Gaussians, median opacity {figures['median_opacity']:.2f}, "
            f"{100 * figures['fraction_opacity_above_half']:.0f} % above 0.5."
        )
        print("Outputs:")
        for name in ("turntable.gif", "turntable.mp4", "uncertainty.png", "export/splat.ply", "eval.json", "data"):
            print(f"  {out / name}")
        print(f"  training run: {config.parent}  (ns-viewer --load-config {config})")
        return figures


if __name__ == "__main__":
    tyro.cli(Demo).main()
