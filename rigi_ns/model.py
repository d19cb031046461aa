"""RIGI: two independently initialised Gaussian sets trained side by side; their disagreement weights the loss.

Set 1 lives in splatfacto's ``gauss_params`` (so the exporter, viewer and checkpoint resizing see it); set 2 (the
"twin") lives in ``gauss_params_2`` with optimizer groups ``means_2``, ``scales_2``, ... and its own densification
strategy state. Both are rendered from the same camera onto the same random background every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Dict, List, Literal, Optional, Type

import torch
from jaxtyping import Float
from nerfstudio.cameras.cameras import Cameras
from nerfstudio.engine.optimizers import Optimizers
from torch import Tensor, nn

from nsglue.base_model import CpuSafeSplatfactoModel
from nsglue.gaussians import GAUSSIAN_KEYS, rebind_optimizers
from nsglue.presets import Densification3DGSModelConfig
from nsglue.strategy import optimizer_view
from rigi_ns.losses import recomposite, rigi_loss_terms, uncertainty_map

WHITE_KEY = (255, 255, 255)
"""Background colour keyed out of RGB labels (SV3D renders its frames on white)."""


def alpha_from_white(image: Float[Tensor, "H W 3"]) -> Float[Tensor, "H W 4"]:
    """Straight-alpha RGBA of an RGB-on-white image in [0, 1], keyed with :func:`datagen.images.key_background`.

    The keying works on 8-bit pixels (its tolerance and ramp are in 0..255 levels), so the image is quantised
    on the way; a label is stored as 8-bit anyway.
    """
    from datagen.images import key_background

    pixels = (image.detach().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()
    rgba = key_background(pixels, WHITE_KEY)
    return torch.from_numpy(rgba).to(device=image.device, dtype=torch.float32) / 255.0


TWIN_SUFFIX = "_2"
"""Suffix of the twin's parameter-group / optimizer names in nerfstudio's global optimizer map."""


@dataclass
class RigiSplatModelConfig(Densification3DGSModelConfig):
    """RIGI model. Defaults follow the paper (3DGS set-up with SH degree 0, 5,000 iterations)."""

    _target: Type = field(default_factory=lambda: RigiSplatModel)
    dual_model: bool = True
    """Train the twin and weight the L1 by the uncertainty; False gives the single-3DGS baseline with plain
    L1/D-SSIM/LPIPS and the same schedule."""
    uncertainty_lambda: float = 5.0
    """lambda of eq. 6: amplification of U = |I1 - I2| in the Laplace log-scale (paper: 5)."""
    detach_uncertainty: bool = True
    """Stop gradients through U (default): U is the estimate of label inconsistency that weights each pixel (paper,
    section 3.2), not a quantity to optimise. False (ablation) lets the + lambda U term pull the two renders
    together with up to 2 lambda times the data term's force; two transparent sets agree best, so such runs end
    pale (see rigi_ns.losses.uncertainty_map)."""
    ssim_lambda: float = 0.2
    """lambda_s of eq. 8 (paper: 0.2)."""
    lpips_lambda: float = 0.5
    """lambda_l of eq. 8 (paper: 0.5). Needs the pretrained LPIPS backbone on disk; 0 disables the term."""
    lpips_net: Literal["alex", "vgg", "squeeze"] = "alex"
    """Backbone of the LPIPS loss."""
    twin_seed: int = 1
    """Seed of the twin's random initialisation; must differ from init_seed (the paper relies on that randomness)."""
    export_model: Literal[1, 2] = 1
    """Which set the top-level means/scales/... properties expose, i.e. which one ns-export writes."""
    sh_degree: int = 0
    """Maximum SH degree (paper: 0)."""
    random_init: bool = True
    """Initialise both sets randomly in a cube (paper), ignoring any seed points."""
    num_random: int = 10000
    """Initial Gaussians per set."""
    random_init_in_scene_box: bool = True
    """Draw the initial means in the dataparser's scene box (+- the object extent the generator recorded)."""
    num_downscales: int = 0
    """Splatfacto's own resolution schedule is off: the RIGI datamanager scales cameras and labels itself."""
    background_color: Literal["random", "black", "white"] = "random"
    """Random background each training step, labels composited onto the same colour (paper, against white floaters)."""
    key_rgb_labels: bool = False
    """Give labels without alpha (SV3D's frames are RGB on white) an alpha keyed out of their white background
    (the dataset tools' ``key_background``: near-white pixels connected to the border, soft edges un-mixed), so
    the random background reaches the object's surroundings. Off by default: the keyer's linear ramp makes about
    three quarters of the anti-aliased edge pixels fully opaque with a whitish colour, a fringe that cost 3.9 dB
    on a 128 px synthetic object against taking the labels as opaque on white (which composites the renders onto
    white for the loss and leaves the random background without effect on such labels)."""
    # Schedule: the paper "follows the original setup of 3DGS" with the iterations "reduced to 5000", i.e. the 3DGS
    # schedule of the base class in absolute steps: densification from 500 every 100 steps to the end, one opacity
    # reset at 3,000, and the position learning rate decays over 30,000 steps (rigi_ns.config), to 0.46x by 5,000.


class RigiSplatModel(CpuSafeSplatfactoModel):
    """Two Gaussian sets with the uncertainty-weighted loss of RIGI (eqs. 5-8)."""

    config: RigiSplatModelConfig

    def populate_modules(self) -> None:
        if self.config.export_model == 2 and not self.config.dual_model:
            raise ValueError("export_model 2 needs dual_model True (a single-model run has no second set)")
        super().populate_modules()
        if self.config.dual_model:
            if self.config.twin_seed == self.config.init_seed:
                raise ValueError("twin_seed must differ from init_seed: the twins must start from different draws")
            generator = torch.Generator().manual_seed(self.config.twin_seed)
            self.gauss_params_2 = nn.ParameterDict(self.make_gaussian_params(generator))
            self.strategy_2 = self.make_strategy()
            self.strategy_state_2 = self.strategy_2.initialize_state(scene_scale=self.config.scene_extent)
            self.info_2: Dict = {}
        # Render the twin outside training too (rgb_2, uncertainty); a turntable of set 1 turns it off.
        self.render_twin = True

    def load_lpips_metric(self) -> Optional[nn.Module]:
        """The loss's LPIPS network when the loss uses it (also the metric's)."""
        if self.config.lpips_lambda > 0:
            from splatcore.lpips import load_lpips

            # Stops at set-up with the file name and the fix when the backbone is absent; never a random net.
            return load_lpips(self.config.lpips_net)
        return super().load_lpips_metric()

    # ---- the exported set ------------------------------------------------------------------------------------
    def exported_params(self) -> nn.ParameterDict:
        """The set behind the top-level properties (``export_model``; 2 needs ``dual_model``, checked at set-up)."""
        if self.config.export_model == 2:
            return self.gauss_params_2
        return self.gauss_params

    @property
    def means(self):
        return self.exported_params()["means"]

    @property
    def scales(self):
        return self.exported_params()["scales"]

    @property
    def quats(self):
        return self.exported_params()["quats"]

    @property
    def features_dc(self):
        return self.exported_params()["features_dc"]

    @property
    def features_rest(self):
        return self.exported_params()["features_rest"]

    @property
    def opacities(self):
        return self.exported_params()["opacities"]

    # ---- parameters, checkpoints, strategy ------------------------------------------------------------------
    def get_param_groups(self) -> Dict[str, List[nn.Parameter]]:
        groups = super().get_param_groups()
        if self.config.dual_model:
            groups.update({key + TWIN_SUFFIX: [self.gauss_params_2[key]] for key in GAUSSIAN_KEYS})
        return groups

    def load_state_dict(self, dict, **kwargs):  # noqa: A002 (splatfacto's signature)
        """Resize both sets to the checkpoint's Gaussian counts, then load (splatfacto resizes set 1)."""
        if self.config.dual_model:
            count = dict["gauss_params_2.means"].shape[0]
            for key, param in self.gauss_params_2.items():
                self.gauss_params_2[key] = nn.Parameter(torch.zeros((count, *param.shape[1:]), device=self.device))
        return super().load_state_dict(dict, **kwargs)

    def step_cb(self, optimizers: Optimizers, step: int) -> None:
        super().step_cb(optimizers, step)
        if self.config.dual_model:
            rebind_optimizers(self.gauss_params_2, optimizer_view(self.optimizers, TWIN_SUFFIX))

    def step_post_backward(self, step: int) -> None:
        """Densify/prune each set with its own strategy state and its own optimizers."""
        super().step_post_backward(step)
        if self.config.dual_model:
            self.strategy_2.step_post_backward(
                params=self.gauss_params_2,
                optimizers=optimizer_view(self.optimizers, TWIN_SUFFIX),
                state=self.strategy_state_2,
                step=self.step,
                info=self.info_2,
                packed=False,
            )

    # ---- rendering -------------------------------------------------------------------------------------------
    def get_outputs(self, camera: Cameras) -> Dict[str, Any]:  # type: ignore[override]  # Cameras, as splatfacto
        """Set 1 as ``rgb``/``depth``/``accumulation``; with the twin also ``rgb_2`` and ``uncertainty``.

        ``uncertainty`` is ``1 - exp(-lambda * mean_c U)`` [H, W, 1]: the fraction by which the residual is
        down-weighted, in [0, 1) so the viewer's colormap shows it without normalisation.
        """
        outputs = super().get_outputs(camera)
        if not self.config.dual_model or not (self.training or self.render_twin):
            return outputs
        params_2 = self.cropped(self.gauss_params_2)
        height, width = outputs["rgb"].shape[:2]
        background = outputs["background"]
        if params_2 is None:
            rgb_2 = background.expand(height, width, 3)
        else:
            w2c_cv, K, _, _ = self.camera_render_setup(camera)
            bg_vec = background if background.ndim == 1 else background[0, 0]
            result = self.render_params(params_2, w2c_cv, K, width, height, bg_vec)
            if self.training and torch.is_grad_enabled():
                self.strategy_2.step_pre_backward(
                    self.gauss_params_2,
                    optimizer_view(self.optimizers, TWIN_SUFFIX),
                    self.strategy_state_2,
                    self.step,
                    result.info,
                )
            self.info_2 = result.info
            rgb_2 = result.rgb.squeeze(0)
            outputs["accumulation_2"] = result.alpha.squeeze(0)
        outputs["rgb_2"] = rgb_2
        u = uncertainty_map(outputs["rgb"], rgb_2, detach=True)
        outputs["uncertainty"] = 1.0 - torch.exp(-self.config.uncertainty_lambda * u.mean(dim=-1, keepdim=True))
        return outputs

    # ---- losses and metrics ----------------------------------------------------------------------------------
    def get_gt_img(self, image: Tensor) -> Tensor:
        """Label as float [H, W, 3|4]; RGB labels get an alpha keyed from white (``key_rgb_labels``).

        Used for the loss, the training metrics and evaluation alike, so an RGB-on-white test view is compared
        on the same background as the render.
        """
        gt = super().get_gt_img(image)
        if gt.shape[-1] == 3 and self.config.key_rgb_labels:
            gt = alpha_from_white(gt)
        return gt

    def _labels_and_renders(self, outputs: Dict[str, Tensor], batch: Dict[str, Tensor]):
        """Label on the render background, and the renders.

        Labels still without alpha (``key_rgb_labels`` False) are taken as opaque on white: the renders are
        recomposited onto white to match them.
        """
        image = self.get_gt_img(batch["image"])
        background = outputs["background"]
        rgb_1, rgb_2 = outputs["rgb"], outputs.get("rgb_2")
        if image.shape[-1] == 3 and background.ndim == 1 and not torch.all(background == 1.0):
            white = torch.ones_like(background)
            rgb_1 = recomposite(rgb_1, outputs["accumulation"], background, white)
            if rgb_2 is not None and "accumulation_2" in outputs:
                rgb_2 = recomposite(rgb_2, outputs["accumulation_2"], background, white)
        gt = self.composite_with_background(image, background)
        return gt, rgb_1, rgb_2

    def get_loss_dict(self, outputs, batch, metrics_dict=None) -> Dict[str, Tensor]:
        """Eq. 8 as separate weighted terms (the trainer sums them), plus the camera-optimizer regulariser."""
        gt, rgb_1, rgb_2 = self._labels_and_renders(outputs, batch)
        lpips_fn = None
        if self.config.lpips_lambda > 0:
            from splatcore.lpips import lpips_distance

            metric = self.lpips_metric
            assert metric is not None  # load_lpips_metric loads it (or stops) when the loss uses LPIPS
            lpips_fn = partial(lpips_distance, metric)
        loss_dict = rigi_loss_terms(
            gt,
            rgb_1,
            rgb_2 if self.config.dual_model else None,
            uncertainty_lambda=self.config.uncertainty_lambda,
            ssim_lambda=self.config.ssim_lambda,
            lpips_lambda=self.config.lpips_lambda,
            lpips_fn=lpips_fn,
            detach_uncertainty=self.config.detach_uncertainty,
        )
        if self.training:
            self.camera_optimizer.get_loss_dict(loss_dict)
        return loss_dict

    def get_metrics_dict(self, outputs, batch) -> Dict[str, Tensor]:
        """Splatfacto's metrics for set 1, plus the twin's PSNR and Gaussian count and the mean uncertainty."""
        gt, rgb_1, rgb_2 = self._labels_and_renders(outputs, batch)
        metrics = {"psnr": self.psnr(rgb_1, gt), "gaussian_count": self.gauss_params["means"].shape[0]}
        if self.config.dual_model:
            metrics["psnr_2"] = self.psnr(rgb_2, gt)
            metrics["gaussian_count_2"] = self.gauss_params_2["means"].shape[0]
            metrics["uncertainty_mean"] = (outputs["rgb"] - outputs["rgb_2"]).abs().mean().detach()
        self.camera_optimizer.get_metrics_dict(metrics)
        return metrics

    def get_image_metrics_and_images(self, outputs, batch):
        """Model 1's PSNR/SSIM(/LPIPS); images: GT | model 1, and model 2 | uncertainty when dual."""
        metrics, images = super().get_image_metrics_and_images(outputs, batch)
        if self.config.dual_model:
            from nerfstudio.utils import colormaps

            images["twin_uncertainty"] = torch.cat(
                [outputs["rgb_2"], colormaps.apply_colormap(outputs["uncertainty"])], dim=1
            )
        return metrics, images
