"""Confidence maps (paper and released definitions) and their on-disk cache."""

import imageio.v2 as imageio
import numpy as np
import pytest

from datagen.interpolate import DisFlowInterpolator, Interpolator
from efficient4d_ns.confidence import load_or_compute_confidence, sequence_confidence, ssim_map


class BlendInterpolator(Interpolator):
    """Exact, cheap stand-in: the average of the two frames; records which pairs were asked for."""

    def __init__(self):
        self.calls = []

    def midpoint(self, frame_a, frame_b):
        self.calls.append((frame_a[0, 0, 0], frame_b[0, 0, 0]))
        return 0.5 * (frame_a + frame_b)

    def cache_key(self):
        return "blend"


def _texture(size=32, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.1, 0.5, (size // 4, size // 4, 3)).astype(np.float32)
    return np.kron(base, np.ones((4, 4, 1), np.float32))


def test_ssim_map_is_one_for_identical_images_and_lower_for_noise():
    a = _texture()
    np.testing.assert_allclose(ssim_map(a, a), 1.0, atol=1e-5)
    noisy = np.clip(a + np.random.default_rng(1).normal(0, 0.2, a.shape), 0, 1).astype(np.float32)
    assert ssim_map(a, noisy).mean() < 0.7


def test_identical_frames_give_confidence_one_in_paper_mode():
    frames = np.stack([_texture()] * 6)
    rgb, ssim = sequence_confidence(frames, DisFlowInterpolator(), "paper")
    assert rgb.shape == ssim.shape == (6, 32, 32)
    assert rgb.min() > 0.995 and ssim.min() > 0.99


def test_flickering_region_gets_low_confidence():
    frames = np.stack([_texture()] * 7)
    frames[3, 8:16, 8:16] = 1.0  # one frame flashes white in a patch
    rgb, ssim = sequence_confidence(frames, BlendInterpolator(), "paper")
    assert rgb[3, 10:14, 10:14].max() < 0.55
    assert ssim[3, 10:14, 10:14].max() < 0.5
    assert rgb[3, 24:, 24:].min() == pytest.approx(1.0)
    # hand-computed: pair ±1 and ±2 both predict the clean texture, so C_rgb = 1 − mean_c |I_t − clean|
    expected = 1.0 - np.abs(frames[3] - frames[0]).mean(-1)
    np.testing.assert_allclose(rgb[3], expected, atol=1e-6)
    # frame 2's ±1 pair (1, 3) straddles the flash; frame 1 (only its ±1 pair, 0 and 2) does not see it
    assert rgb[2, 10:14, 10:14].max() < 0.9
    assert rgb[1].min() == pytest.approx(1.0)


def test_released_mode_end_frame_rules_and_normalisation():
    frames = np.stack([np.full((8, 8, 3), v, np.float32) for v in np.arange(7) * 0.1])
    frames[3, :4] += 0.2  # error in the top half only
    interp = BlendInterpolator()
    rgb, _ = sequence_confidence(frames, interp, "released")
    assert np.all(rgb[0] == 1) and np.all(rgb[6] == 1)
    # frames 1 and 5 use only ±1, frames 2..4 use ±1 and ±2: 2 + 3·2 = 8 interpolations
    assert len(interp.calls) == 8
    # min–max normalised: the worst pixel of frame 3 has confidence 0, the best 1
    assert rgb[3].min() == pytest.approx(0.0) and rgb[3].max() == pytest.approx(1.0)
    assert np.all(rgb[3, :4] == 0) and np.all(rgb[3, 4:] == 1)
    with pytest.raises(ValueError, match="mode"):
        sequence_confidence(frames, interp, "bogus")


def test_cache_hit_then_miss_after_an_image_changes(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "transforms.json").write_text("{}")
    paths, views, times = [], [], []
    for view in range(2):
        for t in range(5):
            path = tmp_path / "images" / f"v{view}_t{t}.png"
            imageio.imwrite(path, (_texture(16, seed=view) * 255).astype(np.uint8))
            paths.append(path)
            views.append(view)
            times.append(t / 4)
    interp = BlendInterpolator()
    rgb1, ssim1, cache1, hit1 = load_or_compute_confidence(tmp_path, paths, views, times, interp, "paper")
    calls = len(interp.calls)
    assert not hit1 and cache1.is_file() and calls > 0
    assert (cache1.parent / cache1.stem / "v0_t2.png").is_file()
    rgb2, _, cache2, hit2 = load_or_compute_confidence(tmp_path, paths, views, times, interp, "paper")
    assert hit2 and cache2 == cache1 and len(interp.calls) == calls
    np.testing.assert_array_equal(rgb1, rgb2)
    imageio.imwrite(paths[2], (np.zeros((16, 16, 3))).astype(np.uint8))
    rgb3, _, cache3, hit3 = load_or_compute_confidence(tmp_path, paths, views, times, interp, "paper")
    assert not hit3 and cache3 != cache1
    assert rgb3[2].mean() < rgb1[2].mean()
    # a different mode is a different cache entry too
    assert load_or_compute_confidence(tmp_path, paths, views, times, interp, "released")[2] not in (cache1, cache3)
