"""Exports keep the marked top of an asset on top in every up convention: e4d-export's PLYs and the page's files."""

import json

import numpy as np
import pytest
import torch

from efficient4d_ns.export import splats_at_time
from splatcore.orient import UP_AXES, orient_splats
from splatcore.ply import read_splat_ply, write_splat_ply
from splatcore.splat_format import read_splat
from splatweb.page import Frame, write_page

AXIS = {"z": [0, 0, 1], "y": [0, 1, 0], "-y": [0, -1, 0]}


def marked_params(n_top: int = 6, n_body: int = 20) -> dict:
    """4D Gaussians (efficient4d storage): a red cluster at +z above a grey body, all alive at every time."""
    rng = np.random.default_rng(0)
    n = n_top + n_body
    means = np.concatenate([rng.normal(0, 0.03, (n_top, 3)) + [0, 0, 0.5], rng.normal(0, 0.15, (n_body, 3))])
    dc = np.zeros((n, 3))
    dc[:n_top] = [4.0, -4.0, -4.0]  # sigmoid logits: red
    identity = torch.tensor([1.0, 0, 0, 0]).repeat(n, 1)
    return {
        "means": torch.tensor(means, dtype=torch.float32),
        "scales": torch.log(torch.full((n, 3), 0.05)),
        "quats": identity.clone(),
        "features_dc": torch.tensor(dc, dtype=torch.float32),
        "features_rest": torch.zeros(n, 0, 3),
        "opacities": torch.full((n, 1), 2.0),
        "times": torch.full((n, 1), 0.5),
        "scales_t": torch.log(torch.full((n, 1), 10.0)),  # long-lived: p(t) ≈ 1 over [0, 1]
        "quats_r": identity.clone(),
        "features_time": torch.zeros(n, 0, 3),
    }


def _red_top_along(splats, axis) -> float:
    """Height of the red Gaussians' centre above the others', measured along `axis`."""
    red = splats.sh_dc[:, 0] > 1.0
    heights = splats.means @ np.asarray(axis, np.float32)
    assert 0 < red.sum() < len(red)
    return float(heights[red].mean() - heights[~red].mean())


@pytest.mark.parametrize("up", UP_AXES)
def test_e4d_ply_export_keeps_the_marked_top_up(tmp_path, up):
    splats = splats_at_time(marked_params(), t=0.25)
    # what e4d-export writes for --up UP
    path = write_splat_ply(tmp_path / "frame_000.ply", orient_splats(splats, up), vertical_axis=up)
    header = path.read_bytes().split(b"end_header")[0].decode()
    assert f"comment Vertical Axis: {up}\n" in header
    back = read_splat_ply(path)
    assert _red_top_along(back, AXIS[up]) > 0.4
    for other in set(UP_AXES) - {up}:
        if AXIS[other] != AXIS[up]:
            assert _red_top_along(back, AXIS[other]) < 0.1


@pytest.mark.parametrize("up", UP_AXES)
def test_page_splat_files_keep_the_marked_top_up(tmp_path, up):
    frames = [Frame(splats_at_time(marked_params(), t=t), t) for t in (0.0, 1.0)]
    write_page(tmp_path / "page", frames, "marked", source_up="z", up=up)
    manifest = json.loads((tmp_path / "page" / "manifest.json").read_text())
    assert manifest["up"] == up and [f["time"] for f in manifest["frames"]] == [0.0, 1.0]
    for entry in manifest["frames"]:
        back = read_splat(tmp_path / "page" / entry["file"])
        assert back.count == entry["count"] == 26
        assert _red_top_along(back, AXIS[up]) > 0.4


def test_ply_without_an_axis_has_no_comment(tmp_path):
    splats = splats_at_time(marked_params(), t=0.5)
    header = write_splat_ply(tmp_path / "a.ply", splats).read_bytes().split(b"end_header")[0]
    assert b"Vertical Axis" not in header
