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
from typing import Any, Dict, Literal, Optional, Tuple, Type

import torch
import torch.nn.functional as F
from nerfstudio.cameras.cameras import Cameras
from torch import Tensor, nn

from efficient4d_ns import gaussians4d as g4
from efficient4d_ns.losses import confidence_weighted_loss, normalised_weights
from efficient4d_ns.sds import require_no_sds
from efficient4d_ns.strategy import Temporal4DStrategy
from nsglue.base_model import CpuSafeSplatfactoModel
from nsglue.gaussians import knn_mean_distance
from nsglue.presets import Densification3DGSModelConfig
from splatcore.render import Splats


@dataclass
class Efficient4DModelConfig(Densification3DGSModelConfig):
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
    # Schedule: Efficient4D trains 1,500 iterations and keeps "all other 4DGS hyperparameters" (§5.1), i.e. the
    # 3DGS schedule of the base class in absolute steps: densification from step 500 every 100 steps to the end,
    # no opacity reset (the first is at 3,000), and the position learning rate decays over 30,000 steps
    # (efficient4d_ns.config), i.e. to 0.79x by step 1,500.

    def __post_init__(self) -> None:
        require_no_sds(self.sds_lambda, self.sds_model_path)  # at option parsing, before any data is read


class Efficient4DModel(CpuSafeSplatfactoModel):
    """4D Gaussians sliced at `camera.times`, rasterized through `splatcore.rasterize(..., covars=Σ_{x|t})`."""

    config: Efficient4DModelConfig

    def populate_modules(self) -> None:
        require_no_sds(self.config.sds_lambda, self.config.sds_model_path)  # configs loaded from YAML skip __init__
        super().populate_modules()
        self._export_cache: Optional[Tuple[tuple, Dict[str, Tensor]]] = None
        self.loss_weights = normalised_weights(self.config.lambda_rgb, self.config.lambda_ssim)
        metadata = self.kwargs.get("metadata") or {}
        # Confidence maps of the training images, put there by the datamanager (for the viewer output).
        self.train_confidence: Optional[Dict[str, Tensor]] = metadata.get("confidence")

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
        s = g4.slice_params(self.gauss_params, t, self.config.time_duration)
        keep = s.marginal >= self.config.marginal_threshold
        if not bool(keep.any()):  # keep the most present Gaussian so the renderer always has one
            keep = s.marginal == s.marginal.max()
        ids = torch.where(keep)[0]
        sliced = {
            "means": s.means[ids],
            "covars": s.covars[ids],
            "opacities": s.opacities[ids],
            "features_dc": s.features_dc[ids],
            "features_rest": self.gauss_params["features_rest"][ids],
        }
        return sliced, ids

    def camera_time(self, camera: Cameras) -> float:
        """The camera's time (viewer slider, dataset frame), or `export_time` for cameras without one."""
        if camera.times is None:
            return float(self.config.export_time)
        return float(camera.times.reshape(-1)[0].item())

    def splats_for_camera(self, camera: Cameras) -> Optional[Splats]:
        """The slice at the camera's time (crop box applied in eval), with the parameter rows it comes from."""
        sliced, slice_ids = self.slice_at(self.camera_time(camera))
        if self.crop_box is not None and not self.training:
            inside = self.crop_box.within(sliced["means"]).squeeze(-1)
            if not bool(inside.any()):
                return None
            sliced = {k: v[inside] for k, v in sliced.items()}
            slice_ids = slice_ids[inside]
        return Splats(**sliced, ids=slice_ids)

    def get_outputs(self, camera: Cameras) -> Dict[str, Any]:  # type: ignore[override]  # Cameras, as splatfacto
        """Render the slice at the camera's time: `rgb`, `depth`, `accumulation`, `background` (+ `confidence`)."""
        outputs = super().get_outputs(camera)
        if not self.training and self.train_confidence is not None:
            height, width = outputs["rgb"].shape[:2]
            outputs["confidence"] = self.nearest_confidence(camera, self.camera_time(camera), height, width)
        return outputs

    def nearest_confidence(self, camera: Cameras, t: float, height: int, width: int) -> Tensor:
        """C_rgb of the training image nearest to the camera (centre distance + time difference), [H, W, 1]."""
        conf = self.train_confidence
        assert conf is not None
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
    def _export_slice(self) -> Dict[str, Tensor]:
        """The slice at `export_time` in splatfacto's storage convention, computed once per parameter state.

        The exporter and the viewer read the properties below one after another; the eigendecomposition behind
        scales and quats runs once and is reused until a parameter changes (in place or replaced) or the time does.
        """
        p = self.gauss_params
        key = (self.config.export_time, tuple((id(v), v.data_ptr(), v._version, v.shape) for v in p.values()))
        if self._export_cache is not None and self._export_cache[0] == key:
            return self._export_cache[1]
        with torch.no_grad():
            s = g4.slice_params(p, self.config.export_time, self.config.time_duration)
            scales, quats = g4.covariance_to_scale_quat(s.covars)
            # culled Gaussians (p(t) < threshold) get opacity logit −20, so the exporter drops them
            alive = s.marginal >= self.config.marginal_threshold
            logits = torch.logit(s.opacities.clamp(1e-8, 1 - 1e-6))
            logits = torch.where(alive, logits, torch.full_like(logits, -20.0))[:, None]
        exported = {
            "means": s.means,
            "scales": torch.log(scales),
            "quats": quats,
            "opacities": logits,
            "features_dc": s.features_dc,
        }
        self._export_cache = (key, exported)
        return exported

    @property
    def num_points(self) -> int:
        return len(self.gauss_params["means"])

    @property
    def means(self) -> Tensor:
        return self._export_slice()["means"]

    @property
    def scales(self) -> Tensor:
        return self._export_slice()["scales"]

    @property
    def quats(self) -> Tensor:
        return self._export_slice()["quats"]

    @property
    def opacities(self) -> Tensor:
        """Logit of σ(o)·p(t); culled Gaussians (p(t) < threshold) get −20, so the exporter drops them."""
        return self._export_slice()["opacities"]

    @property
    def features_dc(self) -> Tensor:
        return self._export_slice()["features_dc"]


def _resize_map(conf: Tensor, size: Tuple[int, int]) -> Tensor:
    """A confidence map [H, W] or [H, W, 1] (uint8 or float) as float [h, w] in [0, 1] at the render size."""
    conf = conf.squeeze(-1) if conf.dim() == 3 else conf
    conf = conf.float() / 255.0 if conf.dtype == torch.uint8 else conf.float()
    if tuple(conf.shape) != tuple(size):
        conf = F.interpolate(conf[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return conf
