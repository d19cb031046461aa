"""SyncDreamer-T (Efficient4D stage 1) on CUDA: seconds and peak GPU memory per frame at 16 views, 256 x 256.

    .venv/bin/python benchmarks/syncdreamer_t.py --checkpoint ckpt/syncdreamer-pretrain.ckpt \\
        --clip-weights ckpt/ViT-L-14.pt [--frames 16] [--frames-per-batch 4] [--steps 50]
    .venv/bin/python benchmarks/syncdreamer_t.py --random-weights     # the released sizes, random weights

Measures one frame (16 views) and then a clip of --frames frames denoised together (time-synchronous volumes,
decomposed guidance, eta 1, float16 autocast for the frustum volumes and the UNet, as Efficient4D runs it), and
prints them next to the paper's figure: about 2 minutes of image generation "if parallel denoising is allowed"
(Efficient4D, section 5; the README runs 16 frames on eight A6000s, 4 frames per 40 GB GPU). With
--random-weights the timing and memory are those of the real networks, the images are noise. Without CUDA it says
so and exits 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import tyro

PAPER_SECONDS = 120.0
"""Efficient4D, section 5: "about 2 minutes for image generation if parallel denoising is allowed"."""


@dataclass
class Args:
    checkpoint: str = ""
    """syncdreamer-pretrain.ckpt."""
    clip_weights: str = ""
    """OpenAI ViT-L-14.pt."""
    random_weights: bool = False
    """Time the released network sizes with random weights (no files needed; the views are noise)."""
    frames: int = 16
    """Frames of the clip run."""
    frames_per_batch: int = 4
    """Frames through the UNet together."""
    steps: int = 50
    """DDIM steps."""
    seed: int = 0


def clip_frames(count: int) -> list[np.ndarray]:
    frames = []
    for k in range(count):
        frame = np.full((256, 256, 3), 255, np.uint8)
        frame[70:186, 60 + 4 * k : 176 + 4 * k] = (200, 60 + 8 * k, 40)
        frames.append(frame)
    return frames


def timed(generator, frames: list[np.ndarray], seed: int) -> tuple[float, float]:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    generator.generate(frames, seed=seed)
    torch.cuda.synchronize()
    return time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30


def main(args: Args) -> int:
    if not torch.cuda.is_available():
        print("syncdreamer_t: no CUDA device here; nothing measured (SyncDreamer-T needs a GPU for real runs).")
        return 0
    from datagen.generators.syncdreamer.generator import SyncDreamerTGenerator
    from datagen.generators.syncdreamer.loading import VIT_L_14, random_networks
    from datagen.generators.syncdreamer.model import SyncDreamerConfig
    from datagen.generators.syncdreamer.settings import SyncDreamerSettings, load_syncdreamer_t_generator

    settings = SyncDreamerSettings(
        args.checkpoint or "random",
        args.clip_weights,
        device="cuda",
        steps=args.steps,
        frames_per_batch=args.frames_per_batch,
        progress=False,
    )
    if args.random_weights:
        networks = random_networks(SyncDreamerConfig(), VIT_L_14)
        for module in (networks.model, networks.vae, networks.clip):
            module.to("cuda")
        generator = SyncDreamerTGenerator(networks, settings, torch.device("cuda"))
    else:
        generator = load_syncdreamer_t_generator(settings)
    name = torch.cuda.get_device_name()
    generator.generate(clip_frames(1), seed=args.seed)  # warm-up (kernels, allocator)
    one, one_memory = timed(generator, clip_frames(1), args.seed)
    clip, clip_memory = timed(generator, clip_frames(args.frames), args.seed)
    weights = "random weights (released sizes)" if args.random_weights else args.checkpoint
    print(f"SyncDreamer-T on {name}, {args.steps} DDIM steps, 16 views at 256 px, {weights}")
    print(f"  1 frame:            {one:7.1f} s   peak {one_memory:5.1f} GiB")
    print(
        f"  {args.frames} frames (batches of {args.frames_per_batch}): {clip:7.1f} s = {clip / args.frames:5.1f} s/frame"
        f"   peak {clip_memory:5.1f} GiB"
    )
    print(
        f"  paper (Efficient4D sec. 5): about {PAPER_SECONDS:.0f} s of image generation with parallel denoising"
        f" (README: 16 frames on eight A6000s, 4 frames per 40 GB GPU); one GPU here: {clip / PAPER_SECONDS:.1f} x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(Args)))
