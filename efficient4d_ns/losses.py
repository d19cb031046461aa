"""Confidence-weighted image loss of Efficient4D (eq. 13), as pure tensor functions.

L_img-conf = λ̃_rgb · mean(C_rgb ⊙ |I − Î|) + λ̃_ssim · mean(C_ssim ⊙ (1 − SSIM(I, Î))).

The paper sets λ̃_rgb = 8000, λ̃_ssim = 2000 against λ_SDS = 1. Without SDS (which this release does not implement)
only their ratio matters, so the weights are normalised to sum to one (0.8 / 0.2 — exactly 3DGS's
(1 − λ_dssim) / λ_dssim), which keeps the learning rates of 4DGS meaningful.
"""

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor


def normalised_weights(lambda_rgb: float, lambda_ssim: float) -> tuple[float, float, float]:
    """(w_rgb, w_ssim, scale) with w_rgb + w_ssim = 1 and scale = 1 / (λ̃_rgb + λ̃_ssim)."""
    total = lambda_rgb + lambda_ssim
    if lambda_rgb < 0 or lambda_ssim < 0 or total <= 0:
        raise ValueError(f"lambda_rgb ({lambda_rgb}) and lambda_ssim ({lambda_ssim}) must be ≥ 0 with a positive sum")
    return lambda_rgb / total, lambda_ssim / total, 1.0 / total


def ssim_map(
    image_a: Float[Tensor, "*B 3 H W"], image_b: Float[Tensor, "*B 3 H W"], window: int = 11, sigma: float = 1.5
) -> Float[Tensor, "*B H W"]:
    """Per-pixel SSIM (Gaussian window, data range 1, reflect padding), averaged over channels. Differentiable."""
    batch_shape = image_a.shape[:-3]
    a = image_a.reshape(-1, *image_a.shape[-3:])
    b = image_b.reshape(-1, *image_b.shape[-3:])
    channels = a.shape[1]
    coords = torch.arange(window, dtype=a.dtype, device=a.device) - window // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).expand(channels, 1, window, window).contiguous()
    pad = min(window // 2, a.shape[-1] - 1, a.shape[-2] - 1)

    def blur(x: Tensor) -> Tensor:
        x = F.pad(x, [pad] * 4, mode="reflect") if pad > 0 else x
        return F.conv2d(x, kernel, groups=channels, padding=window // 2 - pad)

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim.mean(1).reshape(*batch_shape, *ssim.shape[-2:])


def confidence_weighted_loss(
    pred_rgb: Float[Tensor, "H W 3"],
    gt_rgb: Float[Tensor, "H W 3"],
    conf_rgb: Float[Tensor, "H W"] | None,
    conf_ssim: Float[Tensor, "H W"] | None,
    weight_rgb: float,
    weight_ssim: float,
) -> dict[str, Tensor]:
    """The two terms of eq. (13); a None confidence map means 1 everywhere (the unweighted 4DGS loss).

    Args:
        pred_rgb: rendered image in [0, 1].
        gt_rgb: target (pseudo-label) image in [0, 1].
        conf_rgb: per-pixel weight of the L1 term.
        conf_ssim: per-pixel weight of the D-SSIM term.
        weight_rgb: λ_rgb (normalised, see `normalised_weights`).
        weight_ssim: λ_ssim.

    Returns:
        {"rgb_loss": weight_rgb · mean(C_rgb |I − Î|), "ssim_loss": weight_ssim · mean(C_ssim (1 − SSIM))}.
    """
    if pred_rgb.shape != gt_rgb.shape:
        raise ValueError(f"prediction {tuple(pred_rgb.shape)} and target {tuple(gt_rgb.shape)} differ in shape")
    l1 = (pred_rgb - gt_rgb).abs().mean(-1)  # [H, W]
    dssim = 1.0 - ssim_map(pred_rgb.permute(2, 0, 1), gt_rgb.permute(2, 0, 1))  # [H, W]
    if conf_rgb is not None:
        l1 = l1 * conf_rgb
    if conf_ssim is not None:
        dssim = dssim * conf_ssim
    return {"rgb_loss": weight_rgb * l1.mean(), "ssim_loss": weight_ssim * dssim.mean()}
