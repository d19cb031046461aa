"""Efficient4D on animated synthetic objects: confidence on (paper / released) vs off, at equal iterations.

    .venv/bin/python benchmarks/e4d_synthetic.py [--seeds 3 4 5] [--steps 300] [--output-dir bench_out/e4d]

For each seed a dynamic dataset with temporally inconsistent labels (flicker, warps, colour drift: the `medium`
preset unless --inconsistency says otherwise) is made with `make_dynamic_dataset`; every variant trains the same
number of iterations from the same initialisation and is evaluated against clean ground truth:

- PSNR / SSIM at the test split (held-out views at training times, and training views at held-out times);
- PSNR at the training views against their clean renders (how much of the label noise was absorbed);
- temporal stability: mean absolute change between consecutive held-out-time frames of a view, rendered vs ground
  truth (|rendered − GT| of that figure is reported as the stability error; lower is better).

Writes `results.json`, `results.md` and `strip_<seed>.png` (GT | each variant at a held-out view over time) into
--output-dir, and prints seconds per 100 iterations.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Tuple

import imageio.v2 as imageio
import numpy as np
import torch
import tyro

VARIANTS = {
    "no-confidence": {"use_confidence": False},
    "confidence-paper": {"use_confidence": True, "confidence_mode": "paper"},
    "confidence-released": {"use_confidence": True, "confidence_mode": "released"},
}


def make_data(root: Path, seed: int, resolution: int, num_times: int, level: str) -> Path:
    from datagen.synthetic.inconsistency import InconsistencyConfig
    from datagen.synthetic.scenes import make_dynamic_dataset

    out = root / f"seed{seed}-{level}-r{resolution}-t{num_times}"
    if (out / "transforms.json").is_file():
        return out
    return make_dynamic_dataset(
        out, seed=seed, resolution=resolution, num_times=num_times, inconsistency=InconsistencyConfig(level=level)
    )


def train(data: Path, variant: dict, steps: int, work: Path, num_random: int):
    """Train one variant in-process with nerfstudio's Trainer; returns (pipeline, seconds)."""
    from efficient4d_ns.config import efficient4d, optimizers_4dgs

    config = efficient4d.config
    config = replace(config, output_dir=work, max_num_iterations=steps, vis="tensorboard")
    config.machine.device_type = "cuda" if torch.cuda.is_available() else "cpu"
    model = replace(
        config.pipeline.model, use_confidence=variant["use_confidence"], num_random=num_random, stop_split_at=steps // 2
    )
    datamanager = replace(config.pipeline.datamanager, data=data)
    datamanager.dataparser = replace(datamanager.dataparser, data=data)
    if "confidence_mode" in variant:
        datamanager = replace(datamanager, confidence_mode=variant["confidence_mode"])
    config.pipeline = replace(config.pipeline, model=model, datamanager=datamanager)
    config.optimizers = optimizers_4dgs(steps)  # the position learning rate decays over this run's length
    config.steps_per_eval_image = steps + 1
    config.steps_per_eval_all_images = steps + 1
    config.steps_per_save = steps + 1
    config.set_timestamp()
    trainer = config.setup(local_rank=0, world_size=1)
    trainer.setup()
    # confidence maps are computed (or loaded) during setup; time only the optimisation
    start = time.perf_counter()
    trainer.train()
    return trainer.pipeline, time.perf_counter() - start


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(-10 * np.log10(max(np.mean((a - b) ** 2), 1e-12)))


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    from efficient4d_ns.confidence import ssim_map

    return float(ssim_map(a, b).mean())


def _on_white(path: Path) -> np.ndarray:
    from efficient4d_ns.confidence import load_rgb_white

    return load_rgb_white(path)


@torch.no_grad()
def evaluate(pipeline, data: Path) -> tuple[dict, dict]:
    """Metrics against clean ground truth; also returns rendered held-out-time sequences per view (for strips)."""
    model = pipeline.model
    model.eval()
    dm = pipeline.datamanager
    test = dm.eval_dataset
    meta = test.metadata.get("frame_meta", {})
    views = meta["view"].tolist() if "view" in meta else [-1] * len(test)
    psnrs, ssims = [], []
    sequences: dict[int, list] = defaultdict(list)
    for i in range(len(test)):
        camera = test.cameras[i : i + 1].to(model.device)
        rgb = model.get_outputs_for_camera(camera)["rgb"].cpu().numpy()
        gt = _on_white(test.image_filenames[i])
        psnrs.append(_psnr(rgb, gt))
        ssims.append(_ssim(rgb, gt))
        if views[i] >= 0:
            sequences[views[i]].append((float(camera.times.item()), rgb, gt))
    stability_render, stability_gt = [], []
    for seq in sequences.values():
        seq.sort(key=lambda item: item[0])
        for (_, r0, g0), (_, r1, g1) in zip(seq[:-1], seq[1:], strict=True):
            stability_render.append(np.abs(r1 - r0).mean())
            stability_gt.append(np.abs(g1 - g0).mean())
    # training views against their clean renders (a subsample keeps this cheap)
    train = dm.train_dataset
    clean_psnr = []
    for i in range(0, len(train), max(len(train) // 48, 1)):
        clean_path = data / "ground_truth" / "images" / Path(train.image_filenames[i]).name
        if clean_path.is_file():
            rgb = model.get_outputs_for_camera(train.cameras[i : i + 1].to(model.device))["rgb"].cpu().numpy()
            clean_psnr.append(_psnr(rgb, _on_white(clean_path)))
    metrics = {
        "test_psnr": float(np.mean(psnrs)),
        "test_ssim": float(np.mean(ssims)),
        "train_views_clean_psnr": float(np.mean(clean_psnr)) if clean_psnr else float("nan"),
        "temporal_change_render": float(np.mean(stability_render)) if stability_render else float("nan"),
        "temporal_change_gt": float(np.mean(stability_gt)) if stability_gt else float("nan"),
        "gaussians": int(model.num_points),
    }
    metrics["temporal_stability_error"] = abs(metrics["temporal_change_render"] - metrics["temporal_change_gt"])
    return metrics, sequences


def strip(sequences_by_variant: dict[str, dict], path: Path) -> None:
    """Rows: ground truth, then each variant; columns: held-out times at the first held-out-time view."""
    first = next(iter(sequences_by_variant.values()))
    view = sorted(first)[0]
    rows = [np.concatenate([gt for _, _, gt in first[view]], axis=1)]
    rows += [np.concatenate([rgb for _, rgb, _ in seqs[view]], axis=1) for seqs in sequences_by_variant.values()]
    imageio.imwrite(path, (np.clip(np.concatenate(rows, axis=0), 0, 1) * 255).astype(np.uint8))


Variant = Literal["no-confidence", "confidence-paper", "confidence-released"]


@dataclass
class Settings:
    """Efficient4D on animated synthetic objects: confidence on (paper / released) vs off, at equal iterations."""

    seeds: Tuple[int, ...] = (3, 4, 5)
    """Synthetic objects (one per seed)."""
    steps: int = 300
    """Training iterations per run."""
    num_random: int = 3000
    """Initial Gaussians."""
    resolution: int = 96
    """Label and render resolution in pixels."""
    num_times: int = 9
    """Training times of each dataset."""
    inconsistency: str = "medium"
    """Preset strength of the label inconsistencies (none | low | medium | high)."""
    variants: Tuple[Variant, ...] = ("no-confidence", "confidence-paper", "confidence-released")
    """Which variants to train."""
    output_dir: Path = Path("bench_out/e4d")
    """Results, strips, datasets and runs go here."""


def main() -> None:
    args = tyro.cli(Settings)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    results: dict = {"settings": {k: str(v) for k, v in vars(args).items()}, "runs": {}}
    seconds_per_100 = []
    for seed in args.seeds:
        data = make_data(args.output_dir / "data", seed, args.resolution, args.num_times, args.inconsistency)
        sequences_by_variant = {}
        for name in args.variants:
            torch.manual_seed(0)
            pipeline, seconds = train(
                data, VARIANTS[name], args.steps, args.output_dir / "runs" / f"seed{seed}-{name}", args.num_random
            )
            metrics, sequences = evaluate(pipeline, data)
            metrics["seconds_per_100_iterations"] = 100 * seconds / args.steps
            seconds_per_100.append(metrics["seconds_per_100_iterations"])
            results["runs"].setdefault(str(seed), {})[name] = metrics
            sequences_by_variant[name] = sequences
            print(f"seed {seed} {name}: {json.dumps(metrics)}", flush=True)
        strip(sequences_by_variant, args.output_dir / f"strip_{seed}.png")
    means = {
        name: {
            key: float(np.mean([results["runs"][str(s)][name][key] for s in args.seeds]))
            for key in results["runs"][str(args.seeds[0])][name]
        }
        for name in args.variants
    }
    results["mean"] = means
    results["device"] = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    (args.output_dir / "results.json").write_text(json.dumps(results, indent=2))
    keys = ["test_psnr", "test_ssim", "train_views_clean_psnr", "temporal_stability_error", "gaussians"]
    lines = [
        f"# Efficient4D synthetic benchmark ({args.inconsistency} inconsistency, {args.steps} iterations, "
        f"seeds {args.seeds}, {results['device']})",
        "",
        "| variant | " + " | ".join(keys) + " | s/100 it |",
        "|---" * (len(keys) + 2) + "|",
    ]
    for name, m in means.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{m[k]:.4g}" for k in keys) + f" | {m['seconds_per_100_iterations']:.1f} |"
        )
    if "no-confidence" in means:
        for name in means:
            if name != "no-confidence":
                gain = means[name]["test_psnr"] - means["no-confidence"]["test_psnr"]
                lines.append(f"\n{name} vs no-confidence: {gain:+.2f} dB test PSNR (target ≥ +0.3 dB)")
    (args.output_dir / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"seconds per 100 iterations: {np.mean(seconds_per_100):.1f}")


if __name__ == "__main__":
    main()
