"""The `.splat` writer: byte layout, ordering, quantisation, and a read-back against the PLY it came from."""

import numpy as np
import pytest

from splatcore.ply import SplatPly, read_splat_ply, write_splat_ply
from splatcore.splat_format import ROW_BYTES, SH_C0, read_splat, splat_rows, write_splat


def random_splats(n: int, num_rest: int = 3, seed: int = 0) -> SplatPly:
    rng = np.random.default_rng(seed)
    return SplatPly(
        means=rng.normal(size=(n, 3)).astype(np.float32),
        sh_dc=rng.normal(scale=1.0, size=(n, 3)).astype(np.float32),
        sh_rest=rng.normal(scale=0.1, size=(n, num_rest, 3)).astype(np.float32),
        opacity_logits=rng.normal(scale=2.0, size=n).astype(np.float32),
        log_scales=rng.normal(loc=-3.0, scale=0.5, size=(n, 3)).astype(np.float32),
        quats=(rng.normal(size=(n, 4)) * rng.uniform(0.9, 1.1, size=(n, 1))).astype(np.float32),
    )


def test_bytes_of_one_hand_made_gaussian(tmp_path):
    splats = SplatPly(
        means=np.array([[1.0, -2.0, 3.5]], np.float32),
        sh_dc=np.array([[0.5 / SH_C0, -0.5 / SH_C0, 0.0]], np.float32),  # colour 1, 0, 0.5
        sh_rest=np.zeros((1, 0, 3), np.float32),
        opacity_logits=np.array([0.0], np.float32),  # alpha 0.5
        log_scales=np.log(np.array([[0.1, 0.2, 0.4]], np.float32)),
        quats=np.array([[2.0, 0.0, 0.0, 0.0]], np.float32),  # unnormalised identity
    )
    raw = write_splat(tmp_path / "one.splat", splats).read_bytes()
    assert len(raw) == ROW_BYTES
    np.testing.assert_allclose(np.frombuffer(raw[:24], "<f4"), [1.0, -2.0, 3.5, 0.1, 0.2, 0.4], rtol=1e-6)
    assert list(raw[24:28]) == [255, 0, 128, 128]
    assert list(raw[28:32]) == [255, 128, 128, 128]  # w = 1 → 1·128 + 128 clipped to 255


def test_rows_sorted_by_volume_times_opacity():
    splats = random_splats(200)
    rows = splat_rows(splats)
    key = np.prod(rows["scale"].astype(np.float64), axis=1) * rows["rgba"][:, 3]
    # alpha is quantised, so compare against the unquantised key of the source in the written order
    order = np.argsort(-(np.exp(splats.log_scales.astype(np.float64).sum(1)) / (1 + np.exp(-splats.opacity_logits))))
    np.testing.assert_array_equal(rows["position"], splats.means[order])
    assert key[0] >= np.median(key)


def test_read_back_matches_the_ply(tmp_path):
    """PLY → `.splat` → read back: every Gaussian found again, values within the format's quantisation."""
    ply_path = write_splat_ply(tmp_path / "asset.ply", random_splats(500))
    from_ply = read_splat_ply(ply_path)
    back = read_splat(write_splat(tmp_path / "asset.splat", from_ply))
    assert (tmp_path / "asset.splat").stat().st_size == ROW_BYTES * from_ply.count
    order = np.argsort(
        -(np.exp(from_ply.log_scales.astype(np.float64).sum(1)) * (1 / (1 + np.exp(-from_ply.opacity_logits))))
    )
    src = SplatPly(
        *(getattr(from_ply, f)[order] for f in ("means", "sh_dc", "sh_rest", "opacity_logits", "log_scales", "quats"))
    )
    np.testing.assert_array_equal(back.means, src.means)
    np.testing.assert_allclose(back.log_scales, src.log_scales, atol=1e-6)
    colour_src = np.clip(0.5 + SH_C0 * src.sh_dc, 0, 1)
    colour_back = 0.5 + SH_C0 * back.sh_dc
    np.testing.assert_allclose(colour_back, colour_src, atol=0.5 / 255 + 1e-6)
    alpha_src = 1 / (1 + np.exp(-src.opacity_logits.astype(np.float64)))
    alpha_back = 1 / (1 + np.exp(-back.opacity_logits.astype(np.float64)))
    np.testing.assert_allclose(alpha_back, np.clip(alpha_src, 0.5 / 255, 1 - 0.5 / 255), atol=0.5 / 255 + 1e-6)
    unit = src.quats / np.linalg.norm(src.quats, axis=1, keepdims=True)
    # components are stored to 1/128; the decoded quaternion points the same way as the source one
    np.testing.assert_allclose(back.quats, unit, atol=0.5 / 128 + 1e-6)
    assert back.sh_rest.shape == (src.count, 0, 3)


def test_not_a_splat_file(tmp_path):
    path = tmp_path / "broken.splat"
    path.write_bytes(b"\0" * 33)
    with pytest.raises(ValueError, match="broken.splat.*multiple of 32"):
        read_splat(path)
