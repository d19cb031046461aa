"""RIGI vs. the single-model baseline on synthetic objects with inconsistent and with clean pseudo-labels.

    .venv/bin/python benchmarks/rigi_synthetic.py [--seeds 1 2 3 4 5] [--steps 1500] [--resolution 96]
        [--ablations rigi-grad-u rigi-lambda1 rigi-lambda10 rigi-white-bg]

For every object (seed) and label kind (``medium`` inconsistencies, ``none`` = clean) it trains rigi-splat and the
single 3DGS baseline (``dual_model False``; and stock splatfacto where a CUDA device exists) with the paper preset's
settings (LPIPS off, its schedule stopped at ``--steps``), evaluates model 1 on the 36 clean ground-truth views
(test split) and writes ``results.json``, ``results.md`` (per object, mean and standard deviation over objects of
PSNR/SSIM, the floater measure and the Gaussian count; LPIPS when its weights are present) and one figure per object
(label, ground truth, model 1, model 2, uncertainty) into ``--output-dir`` (default bench_out/rigi/).

Floater measure: the mean accumulated opacity model 1 renders outside the ground-truth silhouette (GT alpha < 0.5),
over the 36 views: 0 for an asset with nothing outside the object.
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
    "rigi-grad-u": {"detach_uncertainty": False},
    "rigi-lambda1": {"uncertainty_lambda": 1.0},
    "rigi-lambda10": {"uncertainty_lambda": 10.0},
    "rigi-white-bg": {"background_color": "white"},
}
"""Optional rigi-splat variants (model config overrides), run with ``--ablations rigi-grad-u ...``."""


def train(data_dir: Path, method: str, steps: int, run_dir: Path, seed: int, num_random: int):
    """Train one method in-process and return its pipeline (eval mode)."""
    from rigi_ns.config import rigi_splat

    if method == "splatfacto":
        config = _stock_splatfacto(steps)
    else:
        config = copy.deepcopy(rigi_splat.config)
        config.max_num_iterations = steps
        config.pipeline.model.lpips_lambda = 0.0  # pretrained LPIPS weights are not available offline
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
    """Mean PSNR/SSIM (LPIPS when available), floater opacity and Gaussian count of model 1 on the test split."""
    metrics = pipeline.get_average_eval_image_metrics(step=None)
    result = {k: float(v) for k, v in metrics.items() if k in ("psnr", "ssim", "lpips")}
    result["floaters"] = floater_opacity(pipeline)
    result["gaussians"] = float(pipeline.model.gauss_params["means"].shape[0])
    return result


@torch.no_grad()
def floater_opacity(pipeline) -> float:
    """Mean accumulated opacity of model 1 outside the ground-truth silhouette (alpha < 0.5) over the test views."""
    model, dataset = pipeline.model, pipeline.datamanager.eval_dataset
    model.eval()
    outside_sum, outside_count = 0.0, 0
    for index in range(len(dataset)):
        image = dataset.get_data(index, image_type="uint8")["image"]
        if image.shape[-1] != 4:
            raise ValueError("the floater measure needs RGBA ground truth (the synthetic generator writes it)")
        outside = image[..., 3] < 128
        camera = dataset.cameras[index : index + 1].to(model.device)
        accumulation = model.get_outputs_for_camera(camera)["accumulation"][..., 0].cpu()
        outside_sum += float(accumulation[outside].sum())
        outside_count += int(outside.sum())
    return outside_sum / max(outside_count, 1)


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
    """Per object, mean and standard deviation over objects, one table per label kind; then each rigi variant
    against the baseline: mean paired difference +- its standard deviation over objects."""
    lines = []
    metrics = [m for m in ("psnr", "ssim", "lpips", "floaters", "gaussians") if all(m in r["metrics"] for r in results)]
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
        present = [m for m in methods if any((s, m) in table for s in seeds)]
        for name, reduce in (("mean", np.mean), ("std", np.std)):
            cells = [
                f"{reduce([table[(s, m)][k] for s in seeds if (s, m) in table]):.4f}" if m in present else "-"
                for m in methods
                for k in metrics
            ]
            lines.append(f"| **{name}** | " + " | ".join(cells) + " |")
        for variant in (m for m in present if m.startswith("rigi") and "baseline" in present):
            paired = [s for s in seeds if (s, variant) in table and (s, "baseline") in table]
            diffs = []
            for k in metrics:
                d = np.array([table[(s, variant)][k] - table[(s, "baseline")][k] for s in paired])
                diffs.append(f"{k} {d.mean():+.4f} ± {d.std():.4f}")
            floater_ratio = np.mean([table[(s, variant)]["floaters"] for s in paired]) / max(
                np.mean([table[(s, "baseline")]["floaters"] for s in paired]), 1e-12
            )
            lines.append(
                f"\n{variant} - baseline over {len(paired)} objects: {', '.join(diffs)}; "
                f"floater opacity {100 * (floater_ratio - 1):+.1f} %"
            )
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
    resolution: int = 96
    """Label and render resolution in pixels."""
    steps: int = 1500
    """Training iterations per run (every method gets the same; the paper runs 5,000)."""
    num_random: int = 10000
    """Initial Gaussians per set (paper preset: 10,000; the CPU renderer's cost grows with it)."""
    ablations: Tuple[str, ...] = ()
    """Extra rigi-splat variants (choices: rigi-grad-u, rigi-lambda1, rigi-lambda10, rigi-white-bg)."""
    skip_baseline_methods: bool = False
    """Train only the ablations (for a run that adds variants to objects already measured elsewhere)."""

    def main(self) -> None:
        from datagen.synthetic.scenes import InconsistencyConfig, make_static_dataset

        unknown = [a for a in self.ablations if a not in ABLATIONS]
        if unknown:
            raise SystemExit(f"unknown --ablations {unknown}; choose from {sorted(ABLATIONS)}")
        base = () if self.skip_baseline_methods else METHODS
        methods = base + tuple(self.ablations) + (("splatfacto",) if torch.cuda.is_available() else ())
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
                if level == self.levels[0] and {"rigi", "baseline"} <= set(pipelines):
                    figure(pipelines["rigi"], pipelines["baseline"], self.output_dir / f"figure_seed{seed}_{level}.png")
        print(self._save(results, methods))
        print(f"wrote {self.output_dir / 'results.json'}, {self.output_dir / 'results.md'} and figures")

    def _save(self, results: List[dict], methods: Tuple[str, ...]) -> str:
        """Write results.json and results.md (after every run, so an interrupted benchmark keeps its numbers)."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        settings = {"steps": self.steps, "resolution": self.resolution, "num_random": self.num_random}
        settings["threads"] = torch.get_num_threads()
        settings["seeds"], settings["levels"] = list(self.seeds), list(self.levels)
        (self.output_dir / "results.json").write_text(json.dumps({"settings": settings, "results": results}, indent=2))
        table = markdown_table(results, methods)
        (self.output_dir / "results.md").write_text(
            f"# rigi-splat vs. single-model baseline\n\n{self.steps} steps, {self.resolution} px, {self.num_random} "
            f"initial Gaussians per set; model 1 on the 36 ground-truth views; floaters = mean accumulated opacity "
            f"outside the ground-truth silhouette.\n{table}"
        )
        return table


if __name__ == "__main__":
    tyro.cli(Benchmark).main()
