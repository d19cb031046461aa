"""Method specifications `rigi-splat` (the paper's schedule) and `rigi-splat-cpu` (a small CPU preset).

Loaded by nerfstudio's plugin registry for every `ns-*` command, so it only builds configs; it imports the model and
datamanager modules for their config classes, which need nothing beyond what nerfstudio itself imports.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict

from nerfstudio.configs.base_config import ViewerConfig
from nerfstudio.engine.optimizers import AdamOptimizerConfig
from nerfstudio.engine.schedulers import ExponentialDecaySchedulerConfig
from nerfstudio.engine.trainer import TrainerConfig
from nerfstudio.plugins.types import MethodSpecification

from datagen.dataparser import GeneratedDataParserConfig
from nsglue.device import default_machine_config
from nsglue.pipeline import ReportingPipelineConfig
from nsglue.presets import POSITION_LR_DECAY_STEPS, optimizers_3dgs
from rigi_ns.datamanager import RigiDatamanagerConfig
from rigi_ns.model import TWIN_SUFFIX, RigiSplatModelConfig

PAPER_STEPS = 5000
"""RIGI trains 5,000 iterations (paper, "Implementation Details")."""

SCENE_EXTENT = 4.4
"""3DGS's cameras_extent, 1.1 x the camera radius (4.0 for SV3D orbits): it scales the position learning rate and
the strategy's 3D size thresholds (the model's ``scene_extent``)."""


def gaussian_optimizers(lr_decay_steps: int = POSITION_LR_DECAY_STEPS) -> Dict[str, dict]:
    """3DGS learning rates for one Gaussian set (position lr x the extent, decaying 100x over lr_decay_steps)."""
    return optimizers_3dgs(SCENE_EXTENT, lr_decay_steps)


def rigi_optimizers(lr_decay_steps: int = POSITION_LR_DECAY_STEPS) -> Dict[str, dict]:
    """Optimizers for both sets (twin names carry the ``_2`` suffix) and the (off by default) camera optimizer."""
    one_set = gaussian_optimizers(lr_decay_steps)
    twin = {key + TWIN_SUFFIX: dict(value) for key, value in gaussian_optimizers(lr_decay_steps).items()}
    camera = {
        "camera_opt": {
            "optimizer": AdamOptimizerConfig(lr=1e-4, eps=1e-15),
            "scheduler": ExponentialDecaySchedulerConfig(lr_final=5e-7, max_steps=lr_decay_steps),
        }
    }
    return {**one_set, **twin, **camera}


def _trainer(
    method_name: str, model: RigiSplatModelConfig, max_steps: int, lr_decay_steps: int, **kwargs
) -> TrainerConfig:
    return TrainerConfig(
        method_name=method_name,
        max_num_iterations=max_steps,
        mixed_precision=False,
        machine=default_machine_config(),
        pipeline=ReportingPipelineConfig(
            datamanager=RigiDatamanagerConfig(dataparser=GeneratedDataParserConfig(), cache_images_type="uint8"),
            model=replace(model, scene_extent=SCENE_EXTENT),
        ),
        optimizers=rigi_optimizers(lr_decay_steps),
        viewer=ViewerConfig(num_rays_per_chunk=1 << 15),
        **kwargs,
    )


rigi_splat = MethodSpecification(
    config=_trainer(
        "rigi-splat",
        RigiSplatModelConfig(),
        PAPER_STEPS,
        POSITION_LR_DECAY_STEPS,
        steps_per_eval_image=500,
        steps_per_eval_batch=0,
        steps_per_save=1000,
        steps_per_eval_all_images=PAPER_STEPS,
        vis="viewer",
    ),
    description=(
        "RIGI stage 2: two randomly initialised Gaussian sets trained side by side on generated views; their "
        "disagreement U=|I1-I2| down-weights inconsistent pixels (L1/exp(5U)+5U, D-SSIM 0.2, LPIPS 0.5). Paper "
        "schedule: 5,000 steps, SH 0, resolution 0.25/0.5/1.0, orbits entering at 0/50/80 %. Needs the pretrained "
        "LPIPS backbone on disk (or --pipeline.model.lpips-lambda 0)."
    ),
)

CPU_STEPS = 1000
"""Steps of the CPU preset (same resolution and orbit schedule fractions as the paper preset)."""

CPU_NUM_RANDOM = 3000
"""Initial Gaussians per set in the CPU preset (the paper's 10,000 cost ~3x the render time on CPU)."""


def cpu_trainer_config(steps: int = CPU_STEPS, method_name: str = "rigi-splat-cpu") -> TrainerConfig:
    """The CPU preset for ``steps`` iterations: a compressed schedule, unlike the paper preset.

    3DGS's absolute step counts would not densify at all in a thousand steps (warm-up 500), so this preset
    scales them with the run: warm-up 10 %, densify every 5 % until 50 % with 3DGS's gradient threshold, and the
    position learning rate decays over 6x the run (as 5,000 of 30,000 steps do in the paper preset, ending at
    0.46x). 3,000 initial Gaussians per set, no LPIPS.

    No opacity reset. A reset sets every opacity to 0.01 (logit -4.6); Adam at the 3DGS opacity rate 0.05 needs
    at least ~135 steps of one-signed gradient to bring a Gaussian back to 0.9, and 3DGS gives it thousands (a
    reset every 3,000 of 30,000 steps; the paper preset's one reset at 3,000 leaves 2,000). Compressed into a
    short run, a reset leaves most Gaussians half-transparent at the end (median opacity 0.19 instead of 0.62 at
    1,000 steps), and the pruning one refinement later removes those still below 0.005. The random background
    already penalises the floaters a reset is meant to clear (on labels with alpha). Runs much shorter than 1,000
    steps end pale whatever the densification settings (opacities start at 0.1 and have not risen yet).
    """
    refine_every = max(steps // 20, 1)
    stop_split_at = steps // 2
    model = replace(
        RigiSplatModelConfig(),
        lpips_lambda=0.0,
        num_random=CPU_NUM_RANDOM,
        densify_grad_thresh=0.0002,
        warmup_length=steps // 10,
        refine_every=refine_every,
        stop_split_at=stop_split_at,
        # The first reset would fall after densification stops, where the strategy no longer acts: none happens.
        reset_alpha_every=stop_split_at // refine_every + 1,
        pause_refine_after_reset=0,
    )
    return _trainer(
        method_name,
        model,
        steps,
        steps * POSITION_LR_DECAY_STEPS // PAPER_STEPS,
        steps_per_eval_image=max(steps // 3, 1),
        steps_per_eval_batch=0,
        steps_per_save=steps,
        steps_per_eval_all_images=steps,
        vis="tensorboard",
    )


rigi_splat_cpu = MethodSpecification(
    config=cpu_trainer_config(),
    description=(
        "RIGI on a CPU budget: 1,000 steps, 3,000 initial Gaussians per set, no LPIPS loss (its pretrained weights "
        "are usually absent offline), densification scaled to the length, no opacity reset; same resolution and "
        "orbit schedule fractions as rigi-splat. Sized for labels of about 128 px (`datagen synthetic "
        "--resolution 128`)."
    ),
)
