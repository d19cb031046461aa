"""Uncertainty map and uncertainty-weighted losses of RIGI (paper eqs. 5-8), as pure tensor functions.

Images are ``[H, W, C]`` (or any ``[..., H, W, C]`` batch for the pixel-wise terms) with values in [0, 1].
Nothing here knows about nerfstudio, models or configs, so every term is testable in isolation.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import torch
from jaxtyping import Float
from pytorch_msssim import ssim
from torch import Tensor

LpipsFn = Callable[[Tensor, Tensor], Tensor]
"""``lpips_fn(pred [H, W, 3], gt [H, W, 3]) -> scalar`` perceptual distance, both images in [0, 1]."""


def uncertainty_map(
    rgb_1: Float[Tensor, "*batch H W C"], rgb_2: Float[Tensor, "*batch H W C"], detach: bool = True
) -> Float[Tensor, "*batch H W C"]:
    """Per-pixel, per-channel disagreement of the two Gaussian sets, ``U = |I1 - I2|`` (eq. 5).

    Args:
        rgb_1: render of the first Gaussian set.
        rgb_2: render of the second set from the same camera and background.
        detach: cut the gradient through ``U`` (default). ``U`` is an *estimate* of label inconsistency drawn from
            the two sets' independent randomness (paper, section 3.2); letting gradients through it couples the
            sets instead. With gradients, ``d/dU [(r1 + r2) exp(-lam U) + 2 lam U] = lam (2 - (r1 + r2)
            exp(-lam U)) > 0`` for residuals in [0, 1], so every pixel pulls the renders together with a force up
            to ``2 lam`` times the data term's; the cheapest agreement is two transparent sets that both show the
            background, which is why such runs end pale and low in opacity. ``detach=False`` is an ablation.

    Returns:
        ``U`` with the shape of the inputs, in [0, 1] for inputs in [0, 1].
    """
    if rgb_1.shape != rgb_2.shape:
        raise ValueError(f"rgb_1 {tuple(rgb_1.shape)} and rgb_2 {tuple(rgb_2.shape)} must have the same shape")
    u = (rgb_1 - rgb_2).abs()
    return u.detach() if detach else u


def uncertainty_weighted_l1(
    pred: Float[Tensor, "*batch H W C"],
    gt: Float[Tensor, "*batch H W C"],
    uncertainty: Float[Tensor, "*batch H W C"],
    lam: float,
) -> Float[Tensor, ""]:
    """Laplace negative log-likelihood with log-scale ``lam * U``, averaged over pixels and channels (eq. 6).

    ``L1u = |gt - pred| / exp(lam * U) + lam * U``: where the twins disagree the residual counts less. The second
    term is the Laplace normaliser: with ``U`` detached it changes the loss value, not its gradient, so no pixel
    is pushed harder than plain L1 would push it. With ``U = 0`` it is plain L1.

    Args:
        pred: rendered image.
        gt: pseudo-label composited onto the same background as ``pred``.
        uncertainty: ``U`` from :func:`uncertainty_map`, same shape as ``pred``.
        lam: amplification of the uncertainty (the paper uses 5).

    Returns:
        Scalar loss.
    """
    if not pred.shape == gt.shape == uncertainty.shape:
        raise ValueError(
            f"pred {tuple(pred.shape)}, gt {tuple(gt.shape)} and uncertainty {tuple(uncertainty.shape)} "
            "must have the same shape"
        )
    log_scale = lam * uncertainty
    return ((gt - pred).abs() * torch.exp(-log_scale) + log_scale).mean()


def dssim(pred: Float[Tensor, "H W 3"], gt: Float[Tensor, "H W 3"]) -> Float[Tensor, ""]:
    """Structural dissimilarity ``1 - SSIM`` (11x11 Gaussian window, sigma 1.5, as 3DGS and splatfacto use).

    Args:
        pred: rendered image in [0, 1].
        gt: target image in [0, 1].

    Returns:
        Scalar ``1 - SSIM``.
    """
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"dssim expects two [H, W, C] images of one shape, got {tuple(pred.shape)}, {tuple(gt.shape)}")
    to_nchw = lambda img: img.permute(2, 0, 1)[None]  # noqa: E731
    return 1.0 - ssim(to_nchw(pred), to_nchw(gt), data_range=1.0, size_average=True)


def _total(values: list[Tensor]) -> Tensor:
    """The sum of one or more tensors (``sum()`` would start from the int 0)."""
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def rigi_loss_terms(
    gt: Float[Tensor, "H W 3"],
    rgb_1: Float[Tensor, "H W 3"],
    rgb_2: Optional[Float[Tensor, "H W 3"]],
    uncertainty_lambda: float = 5.0,
    ssim_lambda: float = 0.2,
    lpips_lambda: float = 0.5,
    lpips_fn: Optional[LpipsFn] = None,
    detach_uncertainty: bool = True,
) -> Dict[str, Tensor]:
    """The weighted terms of the total loss (eq. 8); their sum is what is minimised.

    ``L = (1 - ls) (L1u_1 + L1u_2) + ls (DSSIM_1 + DSSIM_2) + ll (LPIPS_1 + LPIPS_2)``. With ``rgb_2 = None``
    (the single-model baseline) it is ``(1 - ls) L1 + ls DSSIM + ll LPIPS`` of the one render.

    Args:
        gt: pseudo-label composited onto the render background.
        rgb_1: render of the first set.
        rgb_2: render of the second set from the same camera and background, or None for one model.
        uncertainty_lambda: ``lambda`` of eq. 6.
        ssim_lambda: ``lambda_s`` of eq. 8.
        lpips_lambda: ``lambda_l`` of eq. 8; with 0 the LPIPS term is left out.
        lpips_fn: perceptual distance; required when ``lpips_lambda > 0``.
        detach_uncertainty: see :func:`uncertainty_map`.

    Returns:
        ``{"uncertainty_l1": ..., "dssim": ...}`` plus ``"lpips"`` when ``lpips_lambda > 0``; scalars.
    """
    if lpips_lambda > 0 and lpips_fn is None:
        raise ValueError("lpips_lambda > 0 needs an lpips_fn; pass one or set lpips_lambda to 0")
    renders = [rgb_1] if rgb_2 is None else [rgb_1, rgb_2]
    if rgb_2 is None:
        uncertainty = torch.zeros_like(rgb_1)
    else:
        uncertainty = uncertainty_map(rgb_1, rgb_2, detach=detach_uncertainty)
    terms = {
        "uncertainty_l1": (1.0 - ssim_lambda)
        * _total([uncertainty_weighted_l1(r, gt, uncertainty, uncertainty_lambda) for r in renders]),
        "dssim": ssim_lambda * _total([dssim(r, gt) for r in renders]),
    }
    if lpips_lambda > 0:
        assert lpips_fn is not None
        terms["lpips"] = lpips_lambda * _total([lpips_fn(r, gt) for r in renders])
    return terms


def recomposite(
    rgb: Float[Tensor, "*batch H W 3"],
    accumulation: Float[Tensor, "*batch H W 1"],
    old_background: Float[Tensor, "3"],
    new_background: Float[Tensor, "3"],
) -> Float[Tensor, "*batch H W 3"]:
    """Swap the background of an alpha-composited render: ``rgb + (1 - alpha) (new - old)``.

    Used when a label has no alpha channel (taken as white background) while the render used a random one.
    """
    return rgb + (1.0 - accumulation) * (new_background - old_background)
