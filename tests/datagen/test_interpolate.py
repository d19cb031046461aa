"""Midpoint interpolation: a translating textured pattern is recovered far better than by blending."""

import numpy as np
import pytest
import torch

from datagen.interpolate import DisFlowInterpolator, RifeInterpolator, interpolate_midpoint


def _pattern(shift_x: float, size: int = 64) -> np.ndarray:
    """A smooth multi-frequency texture translated by `shift_x` pixels (analytic, so sub-pixel shifts are exact)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    x = x - shift_x
    r = 0.5 + 0.25 * np.sin(x / 3.1) * np.cos(y / 4.3) + 0.2 * np.sin((x + 2 * y) / 7.0)
    g = 0.5 + 0.3 * np.cos(x / 5.3 + y / 2.9)
    b = 0.5 + 0.3 * np.sin(x / 2.3) * np.sin(y / 6.1)
    return np.clip(np.stack([r, g, b], -1), 0, 1).astype(np.float32)


def test_translation_midpoint_beats_naive_blend():
    a, b, truth = _pattern(0.0), _pattern(6.0), _pattern(3.0)
    mid = interpolate_midpoint(a, b)
    inner = (slice(10, -10), slice(10, -10))  # borders are replicate-padded, judge the interior
    err_flow = np.abs(mid - truth)[inner].mean()
    err_blend = np.abs(0.5 * (a + b) - truth)[inner].mean()
    assert mid.shape == a.shape and mid.dtype == np.float32
    assert err_flow < 0.2 * err_blend, (err_flow, err_blend)
    assert err_flow < 0.02


def test_identical_frames_are_returned_unchanged():
    a = _pattern(0.0)
    np.testing.assert_allclose(DisFlowInterpolator().midpoint(a, a), a, atol=2e-3)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="equal size"):
        interpolate_midpoint(_pattern(0.0, 32), _pattern(0.0, 16))


def test_rife_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="flownet-missing.pt"):
        RifeInterpolator(tmp_path / "flownet-missing.pt")


def test_rife_loads_a_torchscript_model_and_crops_padding(tmp_path):
    class Mean(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            assert a.shape[-1] % 32 == 0 and a.shape[-2] % 32 == 0
            return 0.5 * (a + b)

    path = tmp_path / "rife.pt"
    torch.jit.script(Mean()).save(str(path))
    rife = RifeInterpolator(path)
    a, b = _pattern(0.0, 40), _pattern(4.0, 40)
    np.testing.assert_allclose(rife.midpoint(a, b), 0.5 * (a + b), atol=1e-6)
    assert rife.cache_key().startswith("rife-")
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="TorchScript"):
        RifeInterpolator(tmp_path / "bad.pt")
