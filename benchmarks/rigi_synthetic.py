"""RIGI vs. the single-model baseline on synthetic objects with inconsistent and with clean pseudo-labels.

    .venv/bin/python benchmarks/rigi_synthetic.py [--seeds 1 2 3 4 5] [--steps 300] [--resolution 48]

For every object (seed) and label kind (``medium`` inconsistencies, ``none`` = clean) it trains rigi-splat and the
single 3DGS baseline (``dual_model False``; and stock splatfacto where a CUDA device exists) with the same schedule,
iterations and resolution, evaluates model 1 on the 36 clean ground-truth views (test split), and writes
``results.json``, ``results.md`` (per object and mean PSNR/SSIM, LPIPS when its weights are present) and one figure
per object (label, ground truth, model 1, model 2, uncertainty) into ``--output-dir`` (default bench_out/rigi/).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import tyro

METHODS = ("rigi", "baseline")
"""rigi: two sets + uncertainty-weighted loss; baseline: one set, plain L1/D-SSIM; same everything else."""
ABLATIONS: Dict[str, Dict[str, object]] = {
    "rigi-detach": {"detach_uncertainty": True},
    "rigi-lambda1": {"uncertainty_lambda": 1.0},
    "rigi-lambda2": {"uncertainty_lambda": 2.0},
}
"""Optional rigi-splat variants (model config overrides), run with ``--ablations rigi-detach ...``."""


def train(data_dir: Path, method: str, steps: int, run_dir: Path, seed: int, num_random: int):
    """Train one method in-process and return its pipeline (eval mode)."""
    from rigi_ns.config import cpu_trainer_config

    if method == "splatfacto":
        config = _stock_splatfacto(steps)
    else:
        config = cpu_trainer_config(steps)
        config.pipeline.model.dual_model = method.startswith("rigi")
        for name, value in ABLATIONS.get(method, {}).items():
            setattr(config.pipeline.model, name, value)
        config.pipeline.model.num_random = num_random
        config.pipeline.model.init_seed = 2 * seed
        config.pipeline.model.twin_seed = 2 * seed + 1
    config.pipeline.datamanager.data = data_dir
    config.pipeline.datamanager.dataparser.data = data_dir
    config.output_dir = run_dir
    config.experiment_name = method
    config.timestamp = "run"
    config.vis = "tensorboard"
    config.steps_per_eval_image = config.steps_per_eval_all_images = steps + 1  # evaluated below instead
    config.steps_per_eval_batch = 0
    config.save_only_latest_checkpoint = True
    trainer = config.setup(local_rank=0, world_size=1)
    trainer.setup()
    trainer.train()
    trainer.pipeline.eval()
    return trainer.pipeline


def _stock_splatfacto(steps: int):
    """nerfstudio's splatfacto on our dataparser, same length (CUDA only: it calls gsplat directly)."""
    from nerfstudio.configs.method_configs import method_configs

    from datagen.dataparser import GeneratedDataParserConfig

    config = copy.deepcopy(method_configs["splatfacto"])
    config.method_name = "splatfacto"
    config.max_num_iterations = steps
    config.pipeline.datamanager.dataparser = GeneratedDataParserConfig()
    config.pipeline.model.random_init = True
    config.pipeline.model.sh_degree = 0
    return config


@torch.no_grad()
def evaluate(pipeline) -> Dict[str, float]:
    """Mean PSNR/SSIM (and LPIPS when available) of model 1 over the test split (clean ground truth)."""
    metrics = pipeline.get_average_eval_image_metrics(step=None)
    return {k: float(v) for k, v in metrics.items() if k in ("psnr", "ssim", "lpips")}


def _tile(image: np.ndarray, text: str) -> np.ndarray:
    import cv2

    tile = (np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8).copy()
    scale = max(tile.shape[0] / 256, 0.3)
    cv2.putText(tile, text, (2, int(12 * scale) + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, (0, 0, 0), 1)
    return tile


def _label_on_white(image: torch.Tensor) -> np.ndarray:
    image = image.float() / 255.0 if image.dtype == torch.uint8 else image.float()
    if image.shape[-1] == 4:
        image = image[..., :3] * image[..., 3:] + (1 - image[..., 3:])
    return image.cpu().numpy()


@torch.no_grad()
def figure(rigi_pipeline, baseline_pipeline, path: Path) -> None:
    """Row 1 at a training view: label | model 1 | model 2 | uncertainty; row 2 at a test view: ground truth |
    model 1 | model 2 | baseline. Renders on white."""
    import imageio.v2 as imageio
    from nerfstudio.utils import colormaps

    def render(pipeline, camera):
        model = pipeline.model
        model.eval()  # get_average_eval_image_metrics switches the pipeline back to training mode
        model.set_background(torch.ones(3, device=model.device))
        return {k: v.cpu() for k, v in model.get_outputs_for_camera(camera.to(model.device)).items() if v is not None}

    dm = rigi_pipeline.datamanager
    rows = []
    for split, index in (("train", len(dm.train_dataset) // 3), ("test", 0)):
        dataset = dm.train_dataset if split == "train" else dm.eval_dataset
        camera = dataset.cameras[index : index + 1]
        label = _label_on_white(dataset.get_data(index, image_type="uint8")["image"])
        rigi, base = render(rigi_pipeline, camera), render(baseline_pipeline, camera)
        if split == "train":
            first, last = (
                _tile(label, "label"),
                _tile(colormaps.apply_colormap(rigi["uncertainty"]).numpy(), "uncertainty"),
            )
        else:
            first, last = _tile(label, "ground truth"), _tile(base["rgb"].numpy(), "baseline")
        tiles = [first, _tile(rigi["rgb"].numpy(), "model 1"), _tile(rigi["rgb_2"].numpy(), "model 2"), last]
        rows.append(np.concatenate(tiles, axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(path, np.concatenate(rows, axis=0))


def markdown_table(results: List[dict], methods: Tuple[str, ...]) -> str:
    """Per object and mean metrics, one table per label kind, plus the rigi - baseline difference of the means."""
    lines = []
    metrics = [m for m in ("psnr", "ssim", "lpips") if all(m in r["metrics"] for r in results)]
    for level in sorted({r["labels"] for r in results}):
        rows = [r for r in results if r["labels"] == level]
        lines += [
            f"\n### labels: {level}\n",
            "| object | " + " | ".join(f"{m} {k}" for m in methods for k in metrics) + " |",
        ]
        lines.append("|---" * (1 + len(methods) * len(metrics)) + "|")
        seeds = sorted({r["seed"] for r in rows})
        table = {(r["seed"], r["method"]): r["metrics"] for r in rows}
        for seed in seeds:
            cells = [f"{table[(seed, m)][k]:.4f}" if (seed, m) in table else "-" for m in methods for k in metrics]
            lines.append(f"| seed {seed} | " + " | ".join(cells) + " |")
        means = {
            m: {k: float(np.mean([table[(s, m)][k] for s in seeds if (s, m) in table])) for k in metrics}
            for m in methods
        }
        lines.append("| **mean** | " + " | ".join(f"**{means[m][k]:.4f}**" for m in methods for k in metrics) + " |")
        for variant in (m for m in methods if m.startswith("rigi") and "baseline" in methods):
            diff = ", ".join(f"{k} {means[variant][k] - means['baseline'][k]:+.4f}" for k in metrics)
            lines.append(f"\n{variant} - baseline (mean): {diff}")
    return "\n".join(lines) + "\n"


@dataclass
class Benchmark:
    """Train and evaluate rigi-splat vs. the single-model baseline on synthetic objects."""

    output_dir: Path = Path("bench_out/rigi")
    """Results, figures, datasets and runs go here."""
    seeds: Tuple[int, ...] = (1, 2, 3, 4, 5)
    """Synthetic objects (one per seed)."""
    levels: Tuple[str, ...] = ("medium", "none")
    """Label kinds: seeded inconsistencies, and clean labels."""
    resolution: int = 48
    """Label and render resolution in pixels."""
    steps: int = 300
    """Training iterations per run (every method gets the same)."""
    num_random: int = 500
    """Initial Gaussians per set (the CPU renderer's cost grows with it)."""
    ablations: Tuple[str, ...] = ()
    """Extra rigi-splat variants to train alongside (choices: rigi-detach, rigi-lambda1, rigi-lambda2)."""

    def main(self) -> None:
        from datagen.synthetic.scenes import InconsistencyConfig, make_static_dataset

        unknown = [a for a in self.ablations if a not in ABLATIONS]
        if unknown:
            raise SystemExit(f"unknown --ablations {unknown}; choose from {sorted(ABLATIONS)}")
        methods = METHODS + tuple(self.ablations) + (("splatfacto",) if torch.cuda.is_available() else ())
        if "splatfacto" not in methods:
            print("stock splatfacto skipped: it needs a CUDA device (gsplat's rasterizer)")
        results, started = [], time.perf_counter()
        total = len(self.seeds) * len(self.levels) * len(methods)
        for level in self.levels:  # level-major: an interrupted run still has every object at the first level
            for seed in self.seeds:
                data = self.output_dir / "data" / f"seed{seed}-{level}"
                if not (data / "transforms.json").exists():
                    make_static_dataset(
                        data, seed=seed, resolution=self.resolution, inconsistency=InconsistencyConfig(level=level)
                    )
                pipelines = {}
                for method in methods:
                    run_started = time.perf_counter()
                    run_dir = self.output_dir / "runs" / data.name
                    pipelines[method] = train(data, method, self.steps, run_dir, seed, self.num_random)
                    metrics = evaluate(pipelines[method])
                    metrics["train_eval_s"] = time.perf_counter() - run_started
                    results.append({"seed": seed, "labels": level, "method": method, "metrics": metrics})
                    self._save(results, methods)
                    print(
                        f"[{len(results)}/{total}] seed {seed} labels {level:6s} {method:10s} "
                        + " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
                        + f"  (elapsed {time.perf_counter() - started:.0f} s)",
                        flush=True,
                    )
                if level == self.levels[0]:
                    figure(pipelines["rigi"], pipelines["baseline"], self.output_dir / f"figure_seed{seed}_{level}.png")
        print(self._save(results, methods))
        print(f"wrote {self.output_dir / 'results.json'}, {self.output_dir / 'results.md'} and figures")

    def _save(self, results: List[dict], methods: Tuple[str, ...]) -> str:
        """Write results.json and results.md (after every run, so an interrupted benchmark keeps its numbers)."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        settings = {"steps": self.steps, "resolution": self.resolution, "num_random": self.num_random}
        settings["seeds"], settings["levels"] = list(self.seeds), list(self.levels)
        (self.output_dir / "results.json").write_text(json.dumps({"settings": settings, "results": results}, indent=2))
        table = markdown_table(results, methods)
        (self.output_dir / "results.md").write_text(
            f"# rigi-splat vs. single-model baseline\n\n{self.steps} steps, {self.resolution} px, {self.num_random} "
            f"initial Gaussians per set; model 1 on the 36 ground-truth views.\n{table}"
        )
        return table


if __name__ == "__main__":
    tyro.cli(Benchmark).main()
