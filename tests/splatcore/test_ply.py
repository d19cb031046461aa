"""3DGS PLY write/read round trip, header layout, and the video writer."""

import imageio.v2 as imageio
import numpy as np
import pytest

from splatcore.ply import SplatPly, read_splat_ply, write_splat_ply
from splatcore.video import write_video


def _splats(n: int, k: int) -> SplatPly:
    rng = np.random.default_rng(0)
    return SplatPly(
        means=rng.normal(size=(n, 3)).astype(np.float32),
        sh_dc=rng.normal(size=(n, 3)).astype(np.float32),
        sh_rest=rng.normal(size=(n, k, 3)).astype(np.float32),
        opacity_logits=rng.normal(size=n).astype(np.float32),
        log_scales=rng.normal(size=(n, 3)).astype(np.float32),
        quats=rng.normal(size=(n, 4)).astype(np.float32),
    )


@pytest.mark.parametrize("k", [0, 3])
def test_round_trip_values_and_layout(tmp_path, k):
    splats = _splats(7, k)
    path = write_splat_ply(tmp_path / "a.ply", splats)
    back = read_splat_ply(path)
    assert back.count == 7
    for name in ("means", "sh_dc", "sh_rest", "opacity_logits", "log_scales", "quats"):
        np.testing.assert_array_equal(getattr(back, name), getattr(splats, name))
    header = path.read_bytes().split(b"end_header\n")[0].decode()
    props = [line.split()[-1] for line in header.splitlines() if line.startswith("property")]
    assert props[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert props[-8:] == ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    assert len(props) == 17 + 3 * k
    # f_rest is channel-major: f_rest_0..k-1 are the red coefficients of Gaussian 0
    raw = np.frombuffer(path.read_bytes()[len(header) + len("end_header\n") :], "<f4").reshape(7, -1)
    if k:
        np.testing.assert_array_equal(raw[0, 9 : 9 + k], splats.sh_rest[0, :, 0])
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_bad_shape_names_the_field(tmp_path):
    splats = _splats(4, 0)
    splats.quats = splats.quats[:, :3]
    with pytest.raises(ValueError, match="quats"):
        write_splat_ply(tmp_path / "b.ply", splats)


def test_write_video_gif_reads_back(tmp_path):
    frames = [np.full((8, 10, 3), v, np.float32) for v in (0.0, 0.5, 1.0)]
    path = write_video(tmp_path / "v.gif", frames, fps=5)
    back = imageio.mimread(path)
    assert len(back) == 3
    assert back[2][..., :3].mean() == pytest.approx(255, abs=1)
    with pytest.raises(ValueError, match="extension"):
        write_video(tmp_path / "v.avi", frames)
