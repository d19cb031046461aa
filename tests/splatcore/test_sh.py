"""splatcore.sh against gsplat's PyTorch SH reference (which runs on CPU) and hand-computed low-order values."""

import math

import pytest
import torch
from gsplat.cuda._torch_impl import _spherical_harmonics

from splatcore.sh import eval_sh, num_sh_bases


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
def test_matches_gsplat_reference(degree):
    dirs = torch.randn(50, 3, dtype=torch.float64) * 3.0  # not unit length: both normalise
    coeffs = torch.randn(50, 25, 3, dtype=torch.float64)  # more coefficients than the degree uses
    ours = eval_sh(degree, coeffs, dirs)
    ref = _spherical_harmonics(degree, dirs, coeffs)
    torch.testing.assert_close(ours, ref, atol=1e-12, rtol=0)


def test_hand_values_degree_one():
    # Y_0 = 0.28209..., band 1 = 0.48860... * (-y, z, -x) in gsplat's order and signs.
    coeffs = torch.zeros(1, 4, 3, dtype=torch.float64)
    coeffs[0, 0, 0] = 1.0
    coeffs[0, 3, 1] = 1.0  # green follows -x
    coeffs[0, 2, 2] = 1.0  # blue follows z
    out = eval_sh(1, coeffs, torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64))
    c0, c1, r = 0.28209479177387814, 0.4886025119029199, 1.0 / math.sqrt(2.0)
    torch.testing.assert_close(out, torch.tensor([[c0, -c1 * r, c1 * r]], dtype=torch.float64))


def test_gradients_match_gsplat_reference():
    dirs = torch.randn(20, 3, dtype=torch.float64, requires_grad=True)
    coeffs = torch.randn(20, 16, 3, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(20, 3, dtype=torch.float64)
    g_ours = torch.autograd.grad((eval_sh(3, coeffs, dirs) * weights).sum(), [dirs, coeffs])
    g_ref = torch.autograd.grad((_spherical_harmonics(3, dirs, coeffs) * weights).sum(), [dirs, coeffs])
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_bad_shapes_raise():
    assert num_sh_bases(3) == 16
    with pytest.raises(ValueError, match="coeffs"):
        eval_sh(2, torch.zeros(4, 4, 3), torch.ones(4, 3))
    with pytest.raises(ValueError, match="dirs"):
        eval_sh(0, torch.zeros(4, 1, 3), torch.ones(4, 2))
    with pytest.raises(ValueError, match="degree"):
        eval_sh(5, torch.zeros(4, 36, 3), torch.ones(4, 3))
