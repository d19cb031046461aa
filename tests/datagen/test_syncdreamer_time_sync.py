"""Time-synchronous spatial volumes: the paper's weights (eq. 8, 9, 14), ends, loops and two frames."""

import pytest
import torch

from datagen.generators.syncdreamer.time_sync import paper_kernel, smooth_volumes, smoothing_weights


@pytest.mark.parametrize("num_frames", [1, 2, 3, 4, 5, 6, 7, 12, 13, 16, 20])
@pytest.mark.parametrize("cyclic", [False, True])
def test_rows_are_normalised_and_centre_dominates(num_frames, cyclic):
    w = smoothing_weights(num_frames, cyclic)
    assert w.shape == (num_frames, num_frames) and (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(num_frames, dtype=torch.float64))
    assert (w.diagonal() >= 0.5 - 1e-12).all()  # the paper's rule (i): middle weight at least 0.5
    assert torch.equal(w.argmax(1), torch.arange(num_frames))


def test_interior_rows_are_the_paper_kernels():
    for n, kernel in [(3, (1.5, 7, 1.5)), (5, (1, 1, 6, 1, 1)), (6, (1, 1, 6, 1, 1)), (7, (1, 1, 1, 6, 1, 1, 1))]:
        assert paper_kernel(n) == tuple(float(k) for k in kernel)
        k = torch.tensor(kernel, dtype=torch.float64)
        half = len(kernel) // 2
        row = smoothing_weights(n)[half]  # the first row whose window fits
        torch.testing.assert_close(row[: len(kernel)], k / k.sum())
    w16 = smoothing_weights(16)
    # N = 16: 13 taps, interior row sum 28, self weight 14/28
    torch.testing.assert_close(w16[8, 2:15] * 28, torch.tensor(paper_kernel(16), dtype=torch.float64))
    assert w16[8, 1] == 0 and w16[8, 15] == 0


def test_ends_use_the_frames_that_exist():
    w = smoothing_weights(7)  # kernel (1,1,1,6,1,1,1)
    torch.testing.assert_close(w[0], torch.tensor([6, 1, 1, 1, 0, 0, 0], dtype=torch.float64) / 9)
    torch.testing.assert_close(w[1], torch.tensor([1, 6, 1, 1, 1, 0, 0], dtype=torch.float64) / 10)
    torch.testing.assert_close(w[6], w[0].flip(0))
    w4 = smoothing_weights(4)  # (1.5, 7, 1.5) cut at the ends
    torch.testing.assert_close(w4[0], torch.tensor([7, 1.5, 0, 0], dtype=torch.float64) / 8.5)


def test_cyclic_wraps_around():
    w = smoothing_weights(7, cyclic=True)
    torch.testing.assert_close(w[0], torch.tensor([6, 1, 1, 1, 1, 1, 1], dtype=torch.float64) / 12)
    w16 = smoothing_weights(16, cyclic=True)
    assert torch.equal(w16, w16.T)
    for i in range(16):  # a circulant matrix: every row is the first rolled
        torch.testing.assert_close(w16[i], w16[0].roll(i))
    torch.testing.assert_close(w16[0, [15, 14, 1, 2]] * 28, torch.tensor([2.0, 1.0, 2.0, 1.0], dtype=torch.float64))


def test_two_frames_follow_eq_9():
    torch.testing.assert_close(smoothing_weights(2), torch.tensor([[0.75, 0.25], [0.25, 0.75]], dtype=torch.float64))
    volumes = torch.randn(2, 3, 4, 4, 4)
    out = smooth_volumes(volumes, smoothing_weights(2, two_frame_weight=0.4))
    torch.testing.assert_close(out[0], 0.6 * volumes[0] + 0.4 * volumes[1])
    torch.testing.assert_close(out[1], 0.6 * volumes[1] + 0.4 * volumes[0])
    torch.testing.assert_close(smooth_volumes(volumes[:1], smoothing_weights(1)), volumes[:1])


def test_constant_sequence_unchanged_and_variance_reduced():
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(1, 4, 3, 3, 3, generator=generator)
    for n in (3, 8, 16):
        for cyclic in (False, True):
            w = smoothing_weights(n, cyclic)
            torch.testing.assert_close(
                smooth_volumes(base.expand(n, -1, -1, -1, -1), w), base.expand(n, -1, -1, -1, -1)
            )
            noisy = base + torch.randn(n, 4, 3, 3, 3, generator=generator)
            smoothed = smooth_volumes(noisy, w)
            assert smoothed.var(0).mean() < 0.8 * noisy.var(0).mean()
            brute = torch.stack([sum(w[i, j] * noisy[j].double() for j in range(n)) for i in range(n)]).float()
            torch.testing.assert_close(smoothed, brute, atol=1e-5, rtol=1e-5)


def test_explicit_matrices_are_renormalised_and_checked():
    volumes = torch.randn(3, 2)
    out = smooth_volumes(volumes, torch.tensor([[2.0, 0, 0], [1, 1, 0], [0, 0, 5]]))
    torch.testing.assert_close(out, torch.stack([volumes[0], 0.5 * (volumes[0] + volumes[1]), volumes[2]]))
    with pytest.raises(ValueError, match="do not fit 3 frames"):
        smooth_volumes(volumes, torch.eye(2))
    with pytest.raises(ValueError, match="at least one frame"):
        smoothing_weights(0)
