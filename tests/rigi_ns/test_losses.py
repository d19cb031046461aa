"""Uncertainty map and uncertainty-weighted losses against hand-computed values and closed forms."""

import math

import pytest
import torch

from rigi_ns.losses import dssim, recomposite, rigi_loss_terms, uncertainty_map, uncertainty_weighted_l1


def _images(h=12, w=10, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    return tuple(torch.rand(h, w, 3, generator=g, dtype=dtype) for _ in range(3))


def test_uncertainty_is_abs_difference_and_zero_for_identical_twins():
    a, b, _ = _images()
    torch.testing.assert_close(uncertainty_map(a, b), (a - b).abs())
    assert torch.count_nonzero(uncertainty_map(a, a.clone())) == 0


def test_uncertainty_detach_flag_controls_gradient():
    a, b, _ = _images()
    a.requires_grad_(True)
    assert not uncertainty_map(a, b).requires_grad  # an estimate by default
    assert uncertainty_map(a, b, detach=False).requires_grad


def test_default_twin_loss_weights_each_pixel_by_exp_minus_lambda_u_and_never_above_l1():
    """The paper's mechanism: uncertain pixels get less supervision, none gets more than plain L1 gives."""
    gt, rgb_1, rgb_2 = _images(dtype=torch.float64)
    rgb_1.requires_grad_(True)
    rgb_2.requires_grad_(True)
    sum(rigi_loss_terms(gt, rgb_1, rgb_2, ssim_lambda=0.0, lpips_lambda=0.0).values()).backward()
    n = rgb_1.numel()
    weight = torch.exp(-5.0 * (rgb_1 - rgb_2).abs().detach())
    torch.testing.assert_close(rgb_1.grad, -torch.sign(gt - rgb_1.detach()) * weight / n)
    torch.testing.assert_close(rgb_2.grad, -torch.sign(gt - rgb_2.detach()) * weight / n)
    assert rgb_1.grad.abs().max() <= 1.0 / n + 1e-15


def test_gradient_through_u_pulls_renders_together_by_up_to_two_lambda():
    """Why the ablation turns pale: with U differentiable, the consensus force dominates the data term."""
    gt = torch.full((1, 1, 1), 0.5, dtype=torch.float64)
    rgb_1 = torch.full((1, 1, 1), 0.6, dtype=torch.float64, requires_grad=True)
    rgb_2 = torch.full((1, 1, 1), 0.4, dtype=torch.float64)
    u = uncertainty_map(rgb_1, rgb_2, detach=False)
    (uncertainty_weighted_l1(rgb_1, gt, u, 5.0) + uncertainty_weighted_l1(rgb_2, gt, u, 5.0)).backward()
    # d/dI1 of (r1 + r2) exp(-5U) + 10U with U = I1 - I2 = 0.2, r1 = r2 = 0.1 (I1 > gt)
    expected = math.exp(-1.0) - 5.0 * 0.2 * math.exp(-1.0) + 10.0
    assert rgb_1.grad.item() == pytest.approx(expected, rel=1e-9)


def test_zero_uncertainty_reduces_to_plain_l1():
    pred, gt, _ = _images()
    loss = uncertainty_weighted_l1(pred, gt, torch.zeros_like(pred), lam=5.0)
    torch.testing.assert_close(loss, (pred - gt).abs().mean())


def test_hand_computed_single_pixel():
    pred, gt, u = torch.tensor([[[0.2]]]), torch.tensor([[[0.7]]]), torch.tensor([[[0.1]]])
    expected = 0.5 / math.exp(0.5) + 0.5  # |0.7-0.2| / exp(5*0.1) + 5*0.1
    assert uncertainty_weighted_l1(pred, gt, u, lam=5.0).item() == pytest.approx(expected, rel=1e-6)


def test_residual_weight_falls_as_exp_minus_lambda_u():
    pred, gt, _ = _images()
    pred.requires_grad_(True)
    for u_value in (0.0, 0.1, 0.3):
        pred.grad = None
        uncertainty_weighted_l1(pred, gt, torch.full_like(pred, u_value), lam=5.0).backward()
        # d/dpred |gt - pred| w / n = -sign(gt - pred) w / n, so |grad| * n is the residual weight.
        weight = pred.grad.abs() * pred.numel()
        torch.testing.assert_close(weight, torch.full_like(weight, math.exp(-5.0 * u_value)))


def test_gradient_wrt_uncertainty_matches_closed_form():
    pred, gt, u = _images(dtype=torch.float64)
    u = (0.3 * u).requires_grad_(True)
    lam = 5.0
    uncertainty_weighted_l1(pred, gt, u, lam).backward()
    # d/dU [r exp(-lam U) + lam U] / n = lam (1 - r exp(-lam U)) / n
    r = (gt - pred).abs()
    expected = lam * (1.0 - r * torch.exp(-lam * u.detach())) / u.numel()
    torch.testing.assert_close(u.grad, expected)


def test_gradcheck_uncertainty_l1_and_total_loss():
    g = torch.Generator().manual_seed(3)
    pred = torch.rand(4, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    gt = torch.rand(4, 5, 3, generator=g, dtype=torch.float64)
    u = (0.2 * torch.rand(4, 5, 3, generator=g, dtype=torch.float64)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p, v: uncertainty_weighted_l1(p, gt, v, 5.0), (pred, u))
    # The twin loss through U = |I1 - I2| (no ties: I2 is shifted away from I1).
    rgb_2 = (pred.detach() + 0.05 + 0.1 * torch.rand(4, 5, 3, generator=g, dtype=torch.float64)).requires_grad_(True)

    def total(p1, p2):
        terms = rigi_loss_terms(gt, p1, p2, ssim_lambda=0.0, lpips_lambda=0.0, detach_uncertainty=False)
        return sum(terms.values())

    assert torch.autograd.gradcheck(total, (pred, rgb_2))


def test_total_loss_matches_equation_8_with_injected_lpips():
    gt, rgb_1, rgb_2 = _images(16, 16)
    lpips_fn = lambda a, b: (a - b).pow(2).mean()  # noqa: E731  (any differentiable distance stands in)
    terms = rigi_loss_terms(
        gt, rgb_1, rgb_2, uncertainty_lambda=5.0, ssim_lambda=0.2, lpips_lambda=0.5, lpips_fn=lpips_fn
    )
    u = (rgb_1 - rgb_2).abs()
    l1u = sum(((gt - r).abs() / torch.exp(5 * u) + 5 * u).mean() for r in (rgb_1, rgb_2))
    torch.testing.assert_close(terms["uncertainty_l1"], 0.8 * l1u)
    torch.testing.assert_close(terms["dssim"], 0.2 * (dssim(rgb_1, gt) + dssim(rgb_2, gt)))
    torch.testing.assert_close(terms["lpips"], 0.5 * (lpips_fn(rgb_1, gt) + lpips_fn(rgb_2, gt)))


def test_single_model_reduces_to_plain_l1_dssim():
    gt, rgb_1, _ = _images(16, 16)
    terms = rigi_loss_terms(gt, rgb_1, None, ssim_lambda=0.2, lpips_lambda=0.0)
    assert set(terms) == {"uncertainty_l1", "dssim"}
    torch.testing.assert_close(terms["uncertainty_l1"], 0.8 * (gt - rgb_1).abs().mean())
    torch.testing.assert_close(terms["dssim"], 0.2 * dssim(rgb_1, gt))


def test_dssim_is_zero_for_identical_images_and_positive_otherwise():
    a, b, _ = _images(16, 16)
    assert dssim(a, a).abs().item() < 1e-6
    assert dssim(a, b).item() > 0.1


def test_missing_lpips_fn_and_shape_mismatch_are_value_errors():
    a, b, c = _images()
    with pytest.raises(ValueError, match="lpips_fn"):
        rigi_loss_terms(a, b, c, lpips_lambda=0.5)
    with pytest.raises(ValueError, match="same shape"):
        uncertainty_map(a, b[:-1])


def test_recomposite_swaps_background_exactly():
    fg, _, _ = _images()
    alpha = torch.rand(fg.shape[0], fg.shape[1], 1)
    bg_old, bg_new = torch.tensor([0.2, 0.5, 0.9]), torch.ones(3)
    rendered_old = fg * alpha + (1 - alpha) * bg_old
    torch.testing.assert_close(recomposite(rendered_old, alpha, bg_old, bg_new), fg * alpha + (1 - alpha) * bg_new)
