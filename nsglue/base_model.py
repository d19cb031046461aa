"""A splatfacto that runs on CPU and offline: the base class of the project's Gaussian models.

Stock splatfacto (nerfstudio 1.1.5) cannot run without CUDA and network: it moves seed colours and intrinsics to
``.cuda()``, calls gsplat's CUDA-only ``rasterization`` directly, and builds a torchmetrics LPIPS that downloads
AlexNet. This subclass overrides exactly those hooks (``populate_modules``, ``get_outputs``, the image metrics) and
renders through :func:`splatcore.rasterize`, which uses gsplat on CUDA tensors and a PyTorch renderer elsewhere.
Subclasses choose what to draw for a camera through one hook, ``splats_for_camera``; the render itself (and the
densification statistics it feeds) stays here. It stays a ``SplatfactoModel`` because ``ns-export gaussian-splat`` and the viewer check for that class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Literal, Mapping, NamedTuple, Optional, Tuple, Type

import torch
from gsplat.strategy import DefaultStrategy
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.cameras.rays import RayBundle
from nerfstudio.engine.optimizers import Optimizers
from nerfstudio.models.splatfacto import SplatfactoModel, SplatfactoModelConfig
from nerfstudio.utils.colors import get_color
from nerfstudio.utils.rich_utils import CONSOLE
from pytorch_msssim import SSIM
from torch import Tensor, nn

from nsglue.finite_guard import guard_callbacks
from nsglue.gaussians import initial_gaussian_params, rebind_optimizers
from nsglue.ray_bundles import camera_from_ray_bundle, depth_along_rays, straight_rgba
from nsglue.strategy import NoInitialResetStrategy
from splatcore.cameras import viewmat_from_c2w_gl
from splatcore.render import RenderResult, Splats, render_splats, splats_from_params

VISER_GREY = (0.1490, 0.1647, 0.2157)
"""Eval/viewer background when training uses random backgrounds (the viewer's default colour, as splatfacto)."""


@dataclass
class CpuSafeSplatfactoModelConfig(SplatfactoModelConfig):
    """Splatfacto that renders through ``splatcore.rasterize`` and never downloads weights."""

    _target: Type = field(default_factory=lambda: CpuSafeSplatfactoModel)
    use_absgrad: bool = False
    """Densify on absolute screen-space gradients. Only gsplat's CUDA backward provides them, so off by default
    (the CPU renderer returns plain gradients); use densify_grad_thresh 0.0002 (3DGS) without it."""
    densify_grad_thresh: float = 0.0002
    """Screen-space gradient norm above which Gaussians are densified (3DGS value for plain gradients)."""
    init_seed: int = 0
    """Seed of the random initialisation (means, quaternions, colours)."""
    pause_refine_after_reset: Optional[int] = None
    """Steps after each opacity reset without densification; None: splatfacto's num_train_data + refine_every."""
    eval_lpips_net: Literal["alex", "vgg", "squeeze", "none"] = "alex"
    """Backbone of the LPIPS eval metric; omitted (with a notice) when its pretrained weights are not on disk."""
    random_init_in_scene_box: bool = False
    """With random_init, draw means uniformly in the dataparser's scene box instead of the random_scale cube."""
    verbose_strategy: bool = False
    """Print gsplat's densification/pruning counts."""
    scene_extent: float = 1.0
    """3DGS's ``cameras_extent``: the densification strategy's 3D size thresholds (clone/split at
    densify_size_thresh, prune above cull_scale_thresh) are multiples of it, as in 3DGS (the screen-space gradient
    threshold is not). Presets set it to the extent their position learning rate is scaled by."""


def camera_to_viewmat_K(
    camera: Cameras, c2w_gl: Optional[Float[Tensor, "C 3 4"]] = None
) -> Tuple[Float[Tensor, "C 4 4"], Float[Tensor, "C 3 3"]]:
    """World-to-camera OpenCV view matrices and pinhole intrinsics of nerfstudio cameras, on the cameras' device.

    Args:
        camera: cameras with OpenGL camera-to-world poses (x right, y up, z back).
        c2w_gl: optional replacement poses (e.g. after the camera optimizer), same convention.

    Returns:
        ``w2c_cv`` (x right, y down, z forward) and ``K``.
    """
    c2w_gl = camera.camera_to_worlds if c2w_gl is None else c2w_gl
    c2w_gl = c2w_gl.reshape(-1, 3, 4)
    w2c_cv = viewmat_from_c2w_gl(c2w_gl)
    K = camera.get_intrinsics_matrices().reshape(-1, 3, 3).to(c2w_gl)
    return w2c_cv, K


class FixedNetwork(NamedTuple):
    """A pretrained network a model uses but does not own: not a submodule, so it is absent from checkpoints (runs
    load whether or not its weights are on disk) and ``.to()`` leaves it alone (``lpips_distance`` moves it)."""

    net: Optional[nn.Module]


class CpuSafeSplatfactoModel(SplatfactoModel):
    """Splatfacto rendering through ``splatcore.rasterize``; runs on CPU, offline, and on CUDA via gsplat.

    Args:
        lpips_net: optional LPIPS module for the eval metric (tests inject a random one); otherwise the real
            pretrained network is loaded when its weights are on disk.
    """

    config: CpuSafeSplatfactoModelConfig

    def __init__(self, *args, lpips_net: Optional[nn.Module] = None, **kwargs):
        self._lpips = FixedNetwork(lpips_net)  # set before nn.Module.__init__, which calls populate_modules
        super().__init__(*args, **kwargs)

    @property
    def lpips_metric(self) -> Optional[nn.Module]:
        """The LPIPS network of the metrics (and of rigi-splat's loss), or None where it is omitted."""
        return self._lpips.net

    # ---- set-up ----------------------------------------------------------------------------------------------
    def populate_modules(self) -> None:
        generator = torch.Generator().manual_seed(self.config.init_seed)
        self.gauss_params = nn.ParameterDict(self.make_gaussian_params(generator))
        self.camera_optimizer = self.config.camera_optimizer.setup(num_cameras=self.num_train_data, device="cpu")
        from torchmetrics.image import PeakSignalNoiseRatio

        self.psnr = PeakSignalNoiseRatio(data_range=1.0)
        self.ssim = SSIM(data_range=1.0, size_average=True, channel=3)
        self.lpips_unavailable: Optional[str] = None
        """Why the LPIPS metric is missing, or None (ns-eval reports it: `nsglue.pipeline`)."""
        if self._lpips.net is None:
            self._lpips = FixedNetwork(self.load_lpips_metric())
        self.info: Dict = {}
        """Rasterizer meta of the last render, for the densification strategy."""
        self.step = 0
        self.crop_box = None
        if self.config.background_color == "random":
            self.background_color = torch.tensor(VISER_GREY)
        else:
            self.background_color = get_color(self.config.background_color)
        if self.config.use_bilateral_grid:
            from nerfstudio.model_components.lib_bilagrid import BilateralGrid

            self.bil_grids = BilateralGrid(self.num_train_data, *self.config.grid_shape)
        self.strategy = self.make_strategy()
        self.strategy_state = self.strategy.initialize_state(scene_scale=self.config.scene_extent)

    def make_gaussian_params(self, generator: torch.Generator) -> Dict[str, nn.Parameter]:
        """Initial parameters of one Gaussian set (seed points unless ``random_init``)."""
        seed_points = None if self.config.random_init else self.seed_points
        box = self.scene_box.aabb if self.config.random_init_in_scene_box else None
        return initial_gaussian_params(
            self.config.num_random, self.config.random_scale, self.config.sh_degree, generator, seed_points, box
        )

    def make_strategy(self) -> DefaultStrategy:
        """A densification strategy from the config, with splatfacto's mapping of field names."""
        c = self.config
        pause = c.pause_refine_after_reset
        return NoInitialResetStrategy(
            prune_opa=c.cull_alpha_thresh,
            grow_grad2d=c.densify_grad_thresh,
            grow_scale3d=c.densify_size_thresh,
            grow_scale2d=c.split_screen_size,
            prune_scale3d=c.cull_scale_thresh,
            prune_scale2d=c.cull_screen_size,
            refine_scale2d_stop_iter=c.stop_screen_size_at,
            refine_start_iter=c.warmup_length,
            refine_stop_iter=c.stop_split_at,
            reset_every=c.reset_alpha_every * c.refine_every,
            refine_every=c.refine_every,
            pause_refine_after_reset=self.num_train_data + c.refine_every if pause is None else pause,
            absgrad=c.use_absgrad,
            revised_opacity=False,
            verbose=c.verbose_strategy,
        )

    def load_lpips_metric(self) -> Optional[nn.Module]:
        """The pretrained LPIPS network of the eval metric; None (with a notice) when its weights are absent."""
        if self.config.eval_lpips_net == "none":
            self.lpips_unavailable = "the model's eval_lpips_net is 'none'"
            return None
        from splatcore.lpips import MissingWeightsError, load_lpips

        try:
            return load_lpips(self.config.eval_lpips_net)
        except MissingWeightsError as err:
            self.lpips_unavailable = str(err)
            CONSOLE.print(f"[yellow]LPIPS metric omitted: {str(err).split('. Fix:')[0]}.")
            return None

    # ---- training hooks --------------------------------------------------------------------------------------
    def get_training_callbacks(self, training_callback_attributes) -> list:
        """Splatfacto's callbacks, then a check that stops at the first non-finite loss or parameter."""
        return super().get_training_callbacks(training_callback_attributes) + guard_callbacks(self)

    def step_cb(self, optimizers: Optimizers, step: int) -> None:
        """Store the step and optimizers; re-point optimizers at parameters replaced by a checkpoint load."""
        super().step_cb(optimizers, step)
        rebind_optimizers(self.gauss_params, self.optimizers)

    def camera_render_setup(self, camera: Cameras) -> Tuple[Tensor, Tensor, int, int]:
        """``(w2c_cv [1,4,4], K [1,3,3], width, height)`` at the current training resolution."""
        c2w_gl = self.camera_optimizer.apply_to_camera(camera) if self.training else camera.camera_to_worlds
        scale = self._get_downscale_factor()
        camera.rescale_output_resolution(1 / scale)
        w2c_cv, K = camera_to_viewmat_K(camera, c2w_gl)
        width, height = int(camera.width.item()), int(camera.height.item())
        camera.rescale_output_resolution(scale)
        return w2c_cv, K, width, height

    def sh_degree_to_use(self) -> Optional[int]:
        """SH degree for this step (grows every ``sh_degree_interval``), or None for SH degree 0 (sigmoid colours)."""
        if self.config.sh_degree == 0:
            return None
        return min(self.step // self.config.sh_degree_interval, self.config.sh_degree)

    def cropped(self, params: Mapping[str, Tensor] | nn.ParameterDict) -> Optional[Dict[str, Tensor]]:
        """``params`` restricted to the viewer's crop box (eval only); None when the box holds nothing."""
        if self.crop_box is None or self.training:
            return dict(params)
        keep = self.crop_box.within(params["means"]).squeeze()
        if keep.sum() == 0:
            return None
        return {k: v[keep] for k, v in params.items()}

    def splats_for_camera(self, camera: Cameras) -> Optional[Splats]:
        """The Gaussians to draw for ``camera`` (the crop box applied); None when nothing is left to draw.

        Subclasses with another storage (e.g. 4D Gaussians sliced at the camera's time) override this one hook.
        """
        params = self.cropped(self.gauss_params)
        return None if params is None else splats_from_params(params)

    # nerfstudio passes Cameras (not ray bundles) to splat models; values are tensors, "depth" may be None.
    def get_outputs(self, camera: Cameras) -> Dict[str, Any]:  # type: ignore[override]
        """Render the Gaussians for one camera: ``rgb``, ``depth`` (eval), ``accumulation``, ``background``."""
        if not isinstance(camera, Cameras):
            raise ValueError(f"get_outputs expects a Cameras object, got {type(camera).__name__}")
        if self.training and camera.shape[0] != 1:
            raise ValueError(f"training renders one camera at a time, got {camera.shape[0]}")
        splats = self.splats_for_camera(camera)
        if splats is None:
            return self.get_empty_outputs(int(camera.width.item()), int(camera.height.item()), self.background_color)
        w2c_cv, K, width, height = self.camera_render_setup(camera)
        self.last_size = (height, width)
        background = self._get_background_color()
        result = self.render(splats, w2c_cv, K, width, height, background)
        if splats.ids is not None:
            result.info["slice_ids"] = splats.ids
        if self.training and torch.is_grad_enabled():  # densification statistics need the backward pass
            self.strategy.step_pre_backward(
                self.gauss_params, self.optimizers, self.strategy_state, self.step, result.info
            )
        self.info = result.info
        return self.outputs_from_render(result, background, camera)

    def render(self, splats: Splats, w2c_cv, K, width, height, background) -> RenderResult:
        """:func:`render_splats` with this model's SH schedule, depth policy and rasterize mode."""
        return render_splats(
            splats,
            w2c_cv,
            K,
            width,
            height,
            background,
            self.sh_degree_to_use(),
            with_depth=self.config.output_depth_during_training or not self.training,
            absgrad=self.config.use_absgrad,
            rasterize_mode=self.config.rasterize_mode,
        )

    def render_params(self, params, w2c_cv, K, width, height, background) -> RenderResult:
        """:meth:`render` of a Gaussian set stored in splatfacto's convention."""
        return self.render(splats_from_params(params), w2c_cv, K, width, height, background)

    def outputs_from_render(
        self, result: RenderResult, background: Tensor, camera: Cameras
    ) -> Dict[str, Optional[Tensor]]:
        """nerfstudio's output dict for the first camera of a render (bilateral grid applied when training)."""
        rgb = result.rgb
        height, width = rgb.shape[1:3]
        if self.config.use_bilateral_grid and self.training and camera.metadata and "cam_idx" in camera.metadata:
            rgb = self._apply_bilateral_grid(rgb, camera.metadata["cam_idx"], height, width)
        if not self.training:
            background = background.expand(height, width, 3)
        return {
            "rgb": rgb.squeeze(0),
            "depth": None if result.depth is None else result.depth.squeeze(0),
            "accumulation": result.alpha.squeeze(0),
            "background": background,
        }

    # ---- evaluation ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def get_image_metrics_and_images(
        self, outputs: Dict[str, Tensor], batch: Dict[str, Tensor]
    ) -> Tuple[Dict[str, float], Dict[str, Tensor]]:
        """PSNR, SSIM (and LPIPS when its pretrained weights exist) of ``outputs["rgb"]``; GT|prediction image."""
        gt_rgb = self.composite_with_background(self.get_gt_img(batch["image"]), outputs["background"])
        predicted_rgb = outputs["rgb"]
        gt_nchw = gt_rgb.permute(2, 0, 1)[None]
        pred_nchw = predicted_rgb.permute(2, 0, 1)[None]
        metrics = {
            "psnr": float(self.psnr(gt_nchw, pred_nchw).item()),
            "ssim": float(self.ssim(gt_nchw, pred_nchw)),
        }
        if self.lpips_metric is not None:
            from splatcore.lpips import lpips_distance

            metrics["lpips"] = float(lpips_distance(self.lpips_metric, predicted_rgb, gt_rgb))
        return metrics, {"img": torch.cat([gt_rgb, predicted_rgb], dim=1)}

    # ---- nerfstudio's ray-bundle interface (ns-export tsdf) -----------------------------------------------------
    def forward(self, ray_bundle: RayBundle | Cameras) -> Dict[str, Any]:
        """Cameras render as usual; a ray bundle renders as the pinhole camera it came from (or is refused)."""
        if isinstance(ray_bundle, RayBundle):
            return self.get_outputs_for_camera_ray_bundle(ray_bundle)
        return super().forward(ray_bundle)

    @torch.no_grad()
    def get_outputs_for_camera_ray_bundle(self, camera_ray_bundle: RayBundle) -> Dict[str, Tensor]:
        """Outputs [H, W, C] for the rays of one pinhole camera, depth as distance along the rays.

        See `nsglue.ray_bundles`; bundles that are not a pinhole camera's pixel grid raise a ValueError naming the
        mesh exports that work.
        """
        camera = camera_from_ray_bundle(camera_ray_bundle).to(self.device)
        outputs = self.get_outputs_for_camera(camera)
        return depth_along_rays(outputs, camera_ray_bundle.to(self.device))

    def get_rgba_image(self, outputs: Dict[str, Tensor], output_name: str = "rgb") -> Tensor:
        """[H, W, 4]: the Gaussians' own colour (background taken out) and accumulated opacity."""
        accumulation = outputs[output_name.replace("rgb", "accumulation")]
        return straight_rgba(outputs[output_name], accumulation, outputs["background"])
