"""Efficient4D's reconstruction model: native 4D Gaussians sliced at the camera's time, confidence-weighted loss.

A `CpuSafeSplatfactoModel` subclass (so `ns-export gaussian-splat` and the viewer accept it) whose parameters are
4D Gaussians (see `efficient4d_ns.gaussians4d` and `efficient4d_ns.strategy` for the storage). For a camera at time
t the Gaussians are conditioned on t, those with temporal marginal p(t) < 0.05 are dropped, the rest are rasterized
as 3D Gaussians with explicit covariances Σ_{x|t} and opacity σ(o)·p(t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Literal, Optional, Tuple, Type

import torch
import torch.nn.functional as F
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor, nn

from efficient4d_ns import gaussians4d as g4
from efficient4d_ns.losses import confidence_weighted_loss, normalised_weights
from efficient4d_ns.sds import require_no_sds
from efficient4d_ns.strategy import Temporal4DStrategy
from nsglue.base_model import (
    CpuSafeSplatfactoModel,
    CpuSafeSplatfactoModelConfig,
    RenderResult,
    composite_render,
    splat_colors,
)
from nsglue.gaussians import knn_mean_distance


@dataclass
class Efficient4DModelConfig(CpuSafeSplatfactoModelConfig):
    """4D Gaussian splatting trained on a generated time × view image matrix (Efficient4D, stage 2).

    Defaults: initialisation, iterations and loss weights from the Efficient4D paper (§5.1); every other
    hyper-parameter is 4DGS's default (fudan-zvg/4d-gaussian-splatting `arguments/__init__.py`), step counts
    included (see the schedule note below).
    """

    _target: Type = field(default_factory=lambda: Efficient4DModel)
    random_init: bool = True
    """Generated datasets carry no points: start from random Gaussians (Efficient4D §5.1)."""
    num_random: int = 5000
    """Initial number of Gaussians (Efficient4D §5.1: 5,000)."""
    init_radius: float = 0.5
    """Initial means are uniform inside a sphere of this radius at the origin (Efficient4D §5.1)."""
    init_time_margin: float = 0.1
    """Initial temporal means are uniform in [−m·T, (1+m)·T] (4DGS `create_from_pcd`, m = 0.1), so Gaussians near
    the ends of the sequence are not half-cut by the time range."""
    time_duration: float = 1.0
    """Length T of the time range (dataset times lie in [0, T]); the period of the colour bands."""
    time_color_bands: int = 0
    """Number of time-varying colour bands cos(2πkΔt/T), k = 1..B (4DGS uses 2 with its 4D SH); 0: constant colour."""
    sh_degree: int = 0
    """Spatial SH degree; 0 stores colours as sigmoid logits (Efficient4D's objects are mostly diffuse)."""
    marginal_threshold: float = g4.MARGINAL_CULL_THRESHOLD
    """Gaussians with temporal marginal p(t) below this are not rasterized at time t (4DGS: 0.05)."""
    use_confidence: bool = True
    """Weight the losses by the cached confidence maps (False: the paper's ablation, plain 4DGS loss)."""
    lambda_rgb: float = 8000.0
    """λ̃_rgb of eq. (13) (paper: 8000). Normalised with lambda_ssim to sum to 1 (see efficient4d_ns.losses)."""
    lambda_ssim: float = 2000.0
    """λ̃_ssim of eq. (13) (paper: 2000)."""
    sds_lambda: float = 0.0
    """λ_SDS of eq. (13) (paper: 1). Must stay 0: the SDS term is not implemented, and a positive value is refused
    when parsed (efficient4d_ns.sds)."""
    sds_model_path: Optional[Path] = None
    """Reserved for the diffusion model SDS will use; not read."""
    export_time: float = 0.0
    """Time at which `ns-export gaussian-splat` (and the viewer's initial point cloud) slice the 4D Gaussians."""
    background_color: Literal["random", "black", "white"] = "white"
    """Background behind the Gaussians; SyncDreamer's images are on white, so are the confidence maps."""
    num_downscales: int = 0
    """No coarse-to-fine resolution schedule: generated images are small (256²)."""
    # Schedule: Efficient4D trains 1,500 iterations and keeps "all other 4DGS hyperparameters" (§5.1). 4DGS's
    # train.py counts densification, opacity resets and the position learning-rate decay in absolute steps,
    # separately from the iteration count, so these are 4DGS's values, not rescaled to 1,500: densification from
    # step 500 every 100 steps to the end (4DGS stops at 15,000), no opacity reset (the first is at 3,000), and
    # the position learning rate decays over 30,000 steps (efficient4d_ns.config), i.e. to 0.79x by step 1,500.
    warmup_length: int = 500
    """Start densifying after this step (4DGS densify_from_iter 500)."""
    refine_every: int = 100
    """Densify/prune interval (4DGS densification_interval 100)."""
    stop_split_at: int = 15000
    """Stop densifying at this step (4DGS densify_until_iter 15,000: past the 1,500-iteration run)."""
    reset_alpha_every: int = 30
    """Opacity reset every reset_alpha_every x refine_every = 3,000 steps (4DGS opacity_reset_interval)."""
    pause_refine_after_reset: Optional[int] = 0
    """No pause after an opacity reset (4DGS has none)."""
    cull_alpha_thresh: float = 0.005
    """Prune Gaussians whose opacity falls below this (4DGS: 0.005)."""
    densify_grad_thresh: float = 0.0002
    """Screen-space gradient threshold for densification (4DGS: 2e-4)."""
    densify_size_thresh: float = 0.01
    """Clone below / split above this spatial scale x scene_extent (4DGS: percent_dense 0.01)."""
    cull_scale_thresh: float = 0.1
    """Prune Gaussians larger than this x scene_extent after the first opacity reset (4DGS: 0.1)."""
    stop_screen_size_at: int = 0
    """No screen-size based split/prune (4DGS does not use it)."""

    def __post_init__(self) -> None:
        require_no_sds(self.sds_lambda, self.sds_model_path)  # at option parsing, before any data is read


class Efficient4DModel(CpuSafeSplatfactoModel):
    """4D Gaussians sliced at `camera.times`, rasterized through `splatcore.rasterize(..., covars=Σ_{x|t})`."""

    config: Efficient4DModelConfig

    def populate_modules(self) -> None:
        require_no_sds(self.config.sds_lambda, self.config.sds_model_path)  # configs loaded from YAML skip __init__
        super().populate_modules()
        self.loss_weights = normalised_weights(self.config.lambda_rgb, self.config.lambda_ssim)
        metadata = self.kwargs.get("metadata") or {}
        # Confidence maps of the training images, put there by the datamanager (for the viewer output).
        self.__dict__["train_confidence"] = metadata.get("confidence")

    # ---- parameters ------------------------------------------------------------------------------------------
    def make_gaussian_params(self, generator: torch.Generator) -> Dict[str, nn.Parameter]:
        """Random 4D Gaussians: means uniform in a ball, times uniform with a margin, identity rotations."""
        c = self.config
        n = c.num_random
        direction = F.normalize(torch.randn(n, 3, generator=generator), dim=-1)
        radius = c.init_radius * torch.rand(n, 1, generator=generator) ** (1.0 / 3.0)  # uniform in volume
        means = direction * radius
        margin = c.init_time_margin * c.time_duration
        times = -margin + (c.time_duration + 2 * margin) * torch.rand(n, 1, generator=generator)
        identity = torch.tensor([1.0, 0.0, 0.0, 0.0]).repeat(n, 1)
        params = {
            "means": means,
            "scales": torch.log(knn_mean_distance(means))[:, None].repeat(1, 3),
            "quats": identity.clone(),
            "features_dc": torch.rand(n, 3, generator=generator),
            "features_rest": torch.zeros(n, (c.sh_degree + 1) ** 2 - 1, 3),
            "opacities": torch.logit(torch.full((n, 1), 0.1)),
            "times": times,
            # 4DGS: initial temporal standard deviation sqrt(T / 5)
            "scales_t": torch.full((n, 1), 0.5 * math.log(c.time_duration / 5.0)),
            "quats_r": identity.clone(),
            "features_time": torch.zeros(n, c.time_color_bands, 3),
        }
        return {k: nn.Parameter(v.contiguous()) for k, v in params.items()}

    def make_strategy(self) -> Temporal4DStrategy:
        base = super().make_strategy()
        return Temporal4DStrategy(**{k: getattr(base, k) for k in base.__dataclass_fields__})

    def get_gaussian_param_groups(self) -> Dict[str, list]:
        return {name: [param] for name, param in self.gauss_params.items()}

    # ---- slicing and rendering -------------------------------------------------------------------------------
    def slice_at(self, t: float | Tensor) -> Tuple[Dict[str, Tensor], Tensor]:
        """The 3D Gaussians alive at time t.

        Returns:
            ({"means" [M, 3], "covars" [M, 3, 3], "opacities" [M] (σ(o)·p(t)), "features_dc" [M, 3],
            "features_rest" [M, K-1, 3]}, slice_ids [M] rows of the parameters they come from).
        """
        p = self.gauss_params
        cov4 = g4.covariance_4d(p["scales"], p["scales_t"], p["quats"], p["quats_r"])
        means_t, covars_t, marginal = g4.slice_at_time(p["means"], p["times"], cov4, t)
        keep = marginal >= self.config.marginal_threshold
        if not bool(keep.any()):  # keep the most present Gaussian so the renderer always has one
            keep = marginal == marginal.max()
        ids = torch.where(keep)[0]
        features_dc = g4.time_varying_dc(p["features_dc"], p["features_time"], p["times"], t, self.config.time_duration)
        sliced = {
            "means": means_t[ids],
            "covars": covars_t[ids],
            "opacities": torch.sigmoid(p["opacities"][ids, 0]) * marginal[ids],
            "features_dc": features_dc[ids],
            "features_rest": p["features_rest"][ids],
        }
        return sliced, ids

    def camera_time(self, camera: Cameras) -> float:
        """The camera's time (viewer slider, dataset frame), or `export_time` for cameras without one."""
        if camera.times is None:
            return float(self.config.export_time)
        return float(camera.times.reshape(-1)[0].item())

    def render_slice(self, sliced: Dict[str, Tensor], w2c_cv, K, width, height, background) -> RenderResult:
        """Rasterize sliced Gaussians with explicit covariances (sigmoid colours at SH degree 0)."""
        from splatcore import rasterize

        sh_degree = self.sh_degree_to_use()
        colors = splat_colors(sliced["features_dc"], sliced["features_rest"], sh_degree)
        with_depth = self.config.output_depth_during_training or not self.training
        render, alpha, info = rasterize(
            sliced["means"],
            None,
            None,
            sliced["opacities"],
            colors,
            w2c_cv,
            K,
            width,
            height,
            sh_degree=sh_degree,
            backgrounds=None,
            render_mode="RGB+ED" if with_depth else "RGB",
            covars=sliced["covars"],
            packed=False,
            absgrad=self.config.use_absgrad,
            rasterize_mode=self.config.rasterize_mode,
        )
        return composite_render(render, alpha, background, with_depth, info)

    def get_outputs(self, camera: Cameras) -> Dict[str, Tensor]:
        """Render the slice at the camera's time: `rgb`, `depth`, `accumulation`, `background` (+ `confidence`)."""
        if not isinstance(camera, Cameras):
            raise ValueError(f"get_outputs expects a Cameras object, got {type(camera).__name__}")
        if self.training and camera.shape[0] != 1:
            raise ValueError(f"training renders one camera at a time, got {camera.shape[0]}")
        t = self.camera_time(camera)
        sliced, slice_ids = self.slice_at(t)
        if self.crop_box is not None and not self.training:
            inside = self.crop_box.within(sliced["means"]).squeeze(-1)
            if not bool(inside.any()):
                return self.get_empty_outputs(
                    int(camera.width.item()), int(camera.height.item()), self.background_color
                )
            sliced = {k: v[inside] for k, v in sliced.items()}
            slice_ids = slice_ids[inside]
        w2c_cv, K, width, height = self.camera_render_setup(camera)
        self.last_size = (height, width)
        background = self._get_background_color()
        result = self.render_slice(sliced, w2c_cv, K, width, height, background)
        result.info["slice_ids"] = slice_ids
        if self.training:
            self.strategy.step_pre_backward(
                self.gauss_params, self.optimizers, self.strategy_state, self.step, result.info
            )
        self.info = result.info
        outputs = self.outputs_from_render(result, background, camera)
        if not self.training and self.train_confidence is not None:
            outputs["confidence"] = self.nearest_confidence(camera, t, height, width)
        return outputs

    def nearest_confidence(self, camera: Cameras, t: float, height: int, width: int) -> Tensor:
        """C_rgb of the training image nearest to the camera (centre distance + time difference), [H, W, 1]."""
        conf = self.train_confidence
        centres = conf["c2w"][:, :3, 3].to(self.device)
        centre = camera.camera_to_worlds.reshape(-1, 3, 4)[0, :3, 3].to(self.device)
        distance = (centres - centre).norm(dim=-1) + (conf["times"].to(self.device) - t).abs()
        index = int(distance.argmin())
        image = conf["conf_rgb"][index].to(self.device, torch.float32)[None, None] / 255.0
        return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)

    # ---- loss --------------------------------------------------------------------------------------------------
    def get_loss_dict(self, outputs, batch, metrics_dict=None) -> Dict[str, Tensor]:
        """Eq. (13): confidence-weighted L1 + D-SSIM with normalised weights (plus SDS when enabled)."""
        gt_rgb = self.composite_with_background(self.get_gt_img(batch["image"]), outputs["background"])
        pred_rgb = outputs["rgb"]
        conf_rgb = conf_ssim = None
        if self.config.use_confidence and "conf_rgb" in batch:
            conf_rgb = _resize_map(batch["conf_rgb"], pred_rgb.shape[:2])
            conf_ssim = _resize_map(batch["conf_ssim"], pred_rgb.shape[:2])
        weight_rgb, weight_ssim, _ = self.loss_weights
        loss_dict = confidence_weighted_loss(pred_rgb, gt_rgb, conf_rgb, conf_ssim, weight_rgb, weight_ssim)
        if self.training:
            self.camera_optimizer.get_loss_dict(loss_dict)
        return loss_dict

    # ---- what ns-export gaussian-splat and the viewer's point cloud read: the slice at export_time -------------
    def _export_slice(self) -> Tuple[Dict[str, Tensor], Tensor, Tensor]:
        with torch.no_grad():
            p = self.gauss_params
            cov4 = g4.covariance_4d(p["scales"], p["scales_t"], p["quats"], p["quats_r"])
            t = self.config.export_time
            means_t, covars_t, marginal = g4.slice_at_time(p["means"], p["times"], cov4, t)
            dc = g4.time_varying_dc(p["features_dc"], p["features_time"], p["times"], t, self.config.time_duration)
        return {"means": means_t, "covars": covars_t, "features_dc": dc}, marginal, cov4

    @property
    def num_points(self) -> int:
        return len(self.gauss_params["means"])

    @property
    def means(self) -> Tensor:
        return self._export_slice()[0]["means"]

    @property
    def scales(self) -> Tensor:
        scales, _ = g4.covariance_to_scale_quat(self._export_slice()[0]["covars"])
        return torch.log(scales)

    @property
    def quats(self) -> Tensor:
        return g4.covariance_to_scale_quat(self._export_slice()[0]["covars"])[1]

    @property
    def opacities(self) -> Tensor:
        """Logit of σ(o)·p(t); culled Gaussians (p(t) < threshold) get −20, so the exporter drops them."""
        _, marginal, _ = self._export_slice()
        with torch.no_grad():
            alive = marginal >= self.config.marginal_threshold
            opacity = torch.sigmoid(self.gauss_params["opacities"][:, 0]) * marginal
            logits = torch.logit(opacity.clamp(1e-8, 1 - 1e-6))
            return torch.where(alive, logits, torch.full_like(logits, -20.0))[:, None]

    @property
    def features_dc(self) -> Tensor:
        return self._export_slice()[0]["features_dc"]


def _resize_map(conf: Tensor, size: Tuple[int, int]) -> Tensor:
    """A confidence map [H, W] or [H, W, 1] (uint8 or float) as float [h, w] in [0, 1] at the render size."""
    conf = conf.squeeze(-1) if conf.dim() == 3 else conf
    conf = conf.float() / 255.0 if conf.dtype == torch.uint8 else conf.float()
    if tuple(conf.shape) != tuple(size):
        conf = F.interpolate(conf[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return conf
