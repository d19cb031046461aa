"""splat-web without a browser: input folders, the uchar colour layout, the page's files, messages for bad input."""

import json

import numpy as np
import pytest

from datagen.user_errors import UserError
from splatcore.orient import orient_splats
from splatcore.ply import SplatPly, write_splat_ply
from splatcore.splat_format import SH_C0, read_splat, write_splat
from splatweb.cli import SplatWeb
from splatweb.reading import read_ply_any
from tests.splatweb.test_orientation_on_export import _red_top_along, marked_params


def _marked_splats() -> SplatPly:
    from efficient4d_ns.export import splats_at_time

    return splats_at_time(marked_params(), t=0.5)


def _write_rgb_ply(path, splats: SplatPly, colour_u8: np.ndarray) -> None:
    """nerfstudio's --ply-color-mode rgb layout: uchar red green blue, no f_dc; doubles and a shuffled order."""
    n = splats.count
    fields = [("red", "u1"), ("green", "u1"), ("blue", "u1"), ("x", "<f8"), ("y", "<f8"), ("z", "<f8")]
    fields += [("opacity", "<f4")] + [(f"scale_{i}", "<f4") for i in range(3)] + [(f"rot_{i}", "<f4") for i in range(4)]
    data = np.zeros(n, fields)
    data["red"], data["green"], data["blue"] = colour_u8.T
    data["x"], data["y"], data["z"] = splats.means.T
    data["opacity"] = splats.opacity_logits
    for i in range(3):
        data[f"scale_{i}"] = splats.log_scales[:, i]
    for i in range(4):
        data[f"rot_{i}"] = splats.quats[:, i]
    types = {"u1": "uchar", "<f8": "double", "<f4": "float"}
    header = f"ply\nformat binary_little_endian 1.0\ncomment Vertical Axis: z\nelement vertex {n}\n"
    header += "".join(f"property {types[t]} {name}\n" for name, t in fields) + "end_header\n"
    path.write_bytes(header.encode() + data.tobytes())


def test_uchar_colour_ply_becomes_sh_dc(tmp_path):
    splats = _marked_splats()
    colour = np.random.default_rng(1).integers(0, 256, (splats.count, 3)).astype(np.uint8)
    _write_rgb_ply(tmp_path / "rgb.ply", splats, colour)
    asset = read_ply_any(tmp_path / "rgb.ply")
    assert asset.vertical_axis == "z"
    np.testing.assert_allclose(0.5 + SH_C0 * asset.splats.sh_dc, colour / 255.0, atol=1e-6)
    np.testing.assert_allclose(asset.splats.means, splats.means, atol=1e-7)
    np.testing.assert_allclose(asset.splats.quats, splats.quats)
    # through the page: the .splat colour is the PLY's byte for byte
    SplatWeb(output_dir=tmp_path / "page", input=tmp_path / "rgb.ply").main()
    back = read_splat(tmp_path / "page" / "frames" / "t000.splat")
    order = np.lexsort(back.means.T)
    expected = np.lexsort(orient_splats(asset.splats, "-y").means.T)
    np.testing.assert_array_equal(
        np.round((0.5 + SH_C0 * back.sh_dc[order]) * 255), colour[expected].astype(np.float64)
    )


def test_folder_of_e4d_plys_becomes_a_4d_page(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    splats = _marked_splats()
    times = {}
    for i, t in enumerate((0.0, 0.5, 1.0)):
        shifted = SplatPly(**{**vars(splats), "means": splats.means + np.float32([0.1 * i, 0, 0])})
        write_splat_ply(exports / f"frame_{i:03d}.ply", orient_splats(shifted, "y"), vertical_axis="y")
        times[f"frame_{i:03d}.ply"] = {"time": t, "num_gaussians": splats.count}
    (exports / "times.json").write_text(json.dumps(times))
    index = SplatWeb(output_dir=tmp_path / "page", input=exports, name="dance <3>").main()
    assert "<title>dance &lt;3&gt;</title>" in index.read_text()
    manifest = json.loads((tmp_path / "page" / "manifest.json").read_text())
    assert [f["time"] for f in manifest["frames"]] == [0.0, 0.5, 1.0]
    assert manifest["name"] == "dance <3>" and manifest["up"] == "-y"
    for i, entry in enumerate(manifest["frames"]):
        back = read_splat(tmp_path / "page" / entry["file"])
        assert _red_top_along(back, [0, -1, 0]) > 0.4  # the PLYs said +y up; the page's files are −y up
        assert back.means[:, 0].mean() == pytest.approx(splats.means[:, 0].mean() + 0.1 * i, abs=1e-4)
    for vendored in ("vendor/gsplat/index.es.js", "vendor/gsplat/LICENSE", "viewer.js", "viewer.css"):
        assert (tmp_path / "page" / vendored).stat().st_size > 0
    assert "MIT" in (tmp_path / "page" / "vendor/gsplat/LICENSE").read_text()


def test_splat_files_are_read_as_minus_y_up(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_splat(folder / "a.splat", orient_splats(_marked_splats(), "-y"))
    SplatWeb(output_dir=tmp_path / "page", input=folder, up="z").main()
    back = read_splat(tmp_path / "page" / "frames" / "t000.splat")
    assert _red_top_along(back, [0, 0, 1]) > 0.4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of --load-config"),
        ({"input": "x", "load_config": "y"}, "exactly one of --load-config"),
        ({"input": "missing"}, "--input .*missing does not exist"),
        ({"load_config": "missing.yml"}, "--load-config .*missing.yml does not exist"),
        ({"input": "empty"}, "holds no .ply or .splat files"),
        ({"input": "bad.ply"}, "bad.ply: the PLY has neither f_dc_0..2 nor red/green/blue"),
        ({"input": "odd.splat"}, "odd.splat: 33 bytes is not a multiple of 32"),
        ({"input": "empty", "num_times": 0}, "--num-times must be ≥ 1"),
    ],
)
def test_bad_input_names_the_file_or_option(tmp_path, monkeypatch, kwargs, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.ply").write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 0\nproperty float x\nend_header\n"
    )
    (tmp_path / "odd.splat").write_bytes(bytes(33))
    args = {k: (v if k == "num_times" else tmp_path / v) for k, v in kwargs.items()}
    with pytest.raises(UserError, match=message):
        SplatWeb(output_dir=tmp_path / "out", **args).main()


def test_splatfacto_parameters_become_ply_arrays():
    import torch

    from splatweb.sources import splats_from_splatfacto

    params = {
        "means": torch.tensor([[0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]),
        "scales": torch.log(torch.tensor([[0.1, 0.2, 0.3]] * 2)),
        "quats": torch.tensor([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0]]),
        "features_dc": torch.tensor([[0.0, 2.0, -2.0], [1.0, 1.0, 1.0]]),
        "features_rest": torch.zeros(2, 3, 3),
        "opacities": torch.tensor([[0.5], [-1.0]]),
    }
    degree0 = splats_from_splatfacto(params, sh_degree=0)  # features_dc are sigmoid logits at degree 0
    np.testing.assert_allclose(0.5 + SH_C0 * degree0.sh_dc, torch.sigmoid(params["features_dc"]).numpy(), atol=1e-6)
    assert degree0.sh_rest.shape == (2, 0, 3)
    np.testing.assert_allclose(degree0.opacity_logits, [0.5, -1.0])
    degree1 = splats_from_splatfacto(params, sh_degree=1)  # SH coefficients as they are
    np.testing.assert_allclose(degree1.sh_dc, params["features_dc"].numpy())
    assert degree1.sh_rest.shape == (2, 3, 3)
