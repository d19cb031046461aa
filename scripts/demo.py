"""The README demo: synthetic dataset -> `ns-train rigi-splat-cpu` -> `ns-export gaussian-splat` -> turntable.

    .venv/bin/python scripts/demo.py            (or: make demo)

Runs on CPU in a few minutes and writes everything under ``demo_out/``: the dataset, the training run, the exported
PLY, ``turntable.gif``/``turntable.mp4`` of model 1 and ``uncertainty.png`` (model 1 | model 2 | uncertainty).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tyro

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def run(step: str, args: list) -> None:
    """Run one stage as the user would type it, echoing the command; stop the demo if it fails."""
    command = [str(a) for a in args]
    print(f"\n==> {step}\n$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)
    print(f"    ({time.perf_counter() - started:.0f} s)", flush=True)


@dataclass
class Demo:
    """One image-to-3D run on a synthetic object with inconsistent pseudo-labels."""

    output_dir: Path = Path("demo_out")
    """Everything the demo writes goes here (replaced on every run)."""
    seed: int = 3
    """Synthetic object seed."""
    resolution: int = 48
    """Label resolution in pixels (the CPU preset is sized for 48)."""
    inconsistency: str = "medium"
    """Strength of the seeded label inconsistencies (none, low, medium, high)."""
    max_num_iterations: int = 300
    """Training steps (the rigi-splat-cpu default)."""

    def main(self) -> None:
        started = time.perf_counter()
        out = (REPO / self.output_dir).resolve()
        if out.exists():
            shutil.rmtree(out)
        data = out / "data"
        run(
            "1/4 synthetic dataset (63 pseudo-labels on the SV3D orbits + 36 ground-truth views)",
            [BIN / "datagen", "synthetic", "--output-dir", data, "--seed", self.seed, "--resolution", self.resolution]
            + ["--inconsistency", self.inconsistency],
        )
        run(
            "2/4 train rigi-splat-cpu (two Gaussian sets, uncertainty-weighted loss)",
            [BIN / "ns-train", "rigi-splat-cpu", "--data", data, "--output-dir", out / "outputs"]
            + ["--experiment-name", "demo", "--timestamp", "demo", "--vis", "tensorboard"]
            + ["--viewer.quit-on-train-completion", "True", "--max-num-iterations", self.max_num_iterations],
        )
        config = out / "outputs" / "demo" / "rigi-splat-cpu" / "demo" / "config.yml"
        run(
            "3/4 export model 1 as a 3DGS PLY",
            [BIN / "ns-export", "gaussian-splat", "--load-config", config, "--output-dir", out / "export"],
        )
        run(
            "4/4 turntable and uncertainty map",
            [sys.executable, REPO / "scripts" / "turntable.py", "--load-config", config, "--output-dir", out],
        )
        print(f"\nDemo finished in {time.perf_counter() - started:.0f} s. Outputs:")
        for name in ("turntable.gif", "turntable.mp4", "uncertainty.png", "export/splat.ply", "data"):
            print(f"  {out / name}")
        print(f"  training run: {config.parent}  (ns-viewer --load-config {config})")


if __name__ == "__main__":
    tyro.cli(Demo).main()
