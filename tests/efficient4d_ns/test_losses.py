"""Confidence-weighted loss (eq. 13): weights, hand-computed values, SSIM map, gradients."""

import pytest
import torch
from pytorch_msssim import ssim as reference_ssim

from efficient4d_ns.losses import confidence_weighted_loss, normalised_weights, ssim_map


def test_paper_weights_normalise_to_3dgs_ratio():
    w_rgb, w_ssim, scale = normalised_weights(8000.0, 2000.0)
    assert (w_rgb, w_ssim) == pytest.approx((0.8, 0.2))
    assert scale == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="lambda_rgb"):
        normalised_weights(0.0, 0.0)


def test_l1_term_is_confidence_weighted_mean():
    pred = torch.zeros(2, 2, 3)
    gt = torch.tensor([[0.0, 0.3], [0.6, 0.9]])[..., None].expand(2, 2, 3)
    conf = torch.tensor([[1.0, 0.0], [0.5, 1.0]])
    out = confidence_weighted_loss(pred, gt, conf, None, 0.8, 0.2)
    # mean over pixels of C·|I − Î| = (0 + 0 + 0.3 + 0.9) / 4 = 0.3
    assert out["rgb_loss"].item() == pytest.approx(0.8 * 0.3)
    same = confidence_weighted_loss(gt.clone(), gt, conf, conf, 0.8, 0.2)
    assert same["rgb_loss"].item() == 0.0 and same["ssim_loss"].item() == pytest.approx(0.0, abs=1e-6)


def test_zero_confidence_removes_gradient_from_masked_pixels():
    gen = torch.Generator().manual_seed(0)
    pred = torch.rand(16, 16, 3, generator=gen, requires_grad=True)
    gt = torch.rand(16, 16, 3, generator=gen)
    conf = torch.ones(16, 16)
    conf[:, :8] = 0.0
    out = confidence_weighted_loss(pred, gt, conf, None, 1.0, 0.0)
    out["rgb_loss"].backward()
    assert torch.all(pred.grad[:, :8] == 0) and torch.all(pred.grad[:, 8:] != 0)


def test_ssim_map_mean_matches_pytorch_msssim_in_the_interior():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(3, 48, 48, generator=gen)
    b = (a + 0.1 * torch.randn(3, 48, 48, generator=gen)).clamp(0, 1)
    ours = ssim_map(a, b)
    assert ours.shape == (48, 48)
    # pytorch_msssim uses valid convolution: compare with the interior of our same-size map
    ref = reference_ssim(a[None], b[None], data_range=1.0, size_average=True)
    assert ours[5:-5, 5:-5].mean().item() == pytest.approx(ref.item(), abs=1e-4)


def test_ssim_map_gradcheck():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(3, 12, 12, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.rand(3, 12, 12, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: ssim_map(x, b, window=5), (a,))
