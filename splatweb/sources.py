"""Frames for the page from a training run (rigi-splat or efficient4d) or from a folder of PLY/.splat files."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, cast

import numpy as np
import torch
from torch import Tensor

from datagen.user_errors import UserError
from splatcore.orient import UpAxis
from splatcore.ply import SplatPly
from splatcore.splat_format import SH_C0
from splatweb.page import Frame
from splatweb.reading import read_asset_folder


def splats_from_splatfacto(params: Mapping[str, Tensor], sh_degree: int) -> SplatPly:
    """A splatfacto-style Gaussian set (`means`, `scales` (log), `quats`, `features_dc`, `features_rest`,
    `opacities` (logit)) as PLY-ready arrays; at SH degree 0 `features_dc` are sigmoid logits (as in nerfstudio)."""
    with torch.no_grad():
        dc = params["features_dc"].float()
        sh_dc = (torch.sigmoid(dc) - 0.5) / SH_C0 if sh_degree == 0 else dc
        rest = params["features_rest"].float() if sh_degree > 0 else params["features_rest"][:, :0].float()

        def np32(x: Tensor) -> np.ndarray:
            return x.detach().cpu().numpy().astype(np.float32)

        return SplatPly(
            means=np32(params["means"]),
            sh_dc=np32(sh_dc),
            sh_rest=np32(rest),
            opacity_logits=np32(params["opacities"].reshape(-1)),
            log_scales=np32(params["scales"]),
            quats=np32(params["quats"]),
        )


def frames_from_run(load_config: Path, num_times: int) -> tuple[list[Frame], str]:
    """The run's Gaussians (efficient4d: `num_times` slices over [0, T]; others: the exported set), and its name."""
    load_config = Path(load_config)
    if not load_config.is_file():  # checked before the slow imports
        raise UserError(
            f"--load-config {load_config} does not exist (expected outputs/<name>/<method>/<time>/config.yml)"
        )
    from nerfstudio.models.splatfacto import SplatfactoModel
    from nerfstudio.utils.eval_utils import eval_setup

    from efficient4d_ns.export import splats_at_time
    from efficient4d_ns.model import Efficient4DModel

    config, pipeline, _, _ = eval_setup(load_config, test_mode="inference")
    model = pipeline.model
    name = f"{config.experiment_name} · {config.method_name}"
    if isinstance(model, Efficient4DModel):
        duration = model.config.time_duration
        times = np.linspace(0.0, duration, num_times) if num_times > 1 else np.array([0.0])
        params = dict(model.gauss_params)
        frames = [
            Frame(
                splats_at_time(params, float(t), duration, model.config.marginal_threshold, model.config.sh_degree),
                float(t),
            )
            for t in times
        ]
        return frames, name
    if isinstance(model, SplatfactoModel):
        keys = ("means", "scales", "quats", "features_dc", "features_rest", "opacities")
        params = {key: getattr(model, key) for key in keys}  # rigi-splat: the set chosen by export_model
        return [Frame(splats_from_splatfacto(params, model.config.sh_degree))], name
    raise UserError(f"--load-config {load_config}: a {type(model).__name__} run has no Gaussians to show")


def frames_from_folder(folder: Path, input_up: UpAxis | None) -> tuple[list[Frame], UpAxis, str]:
    """The files of `folder` (or one file) as frames, the up axis they share, and a name for the page."""
    files, times = read_asset_folder(folder)
    ups = {input_up or f.vertical_axis or "z" for f in files}  # our PLYs and nerfstudio's say so, or are +z up
    bad = sorted(u for u in ups if u not in ("z", "y", "-y"))
    if bad:
        raise UserError(f"--input {folder}: vertical axis {bad[0]} is not supported; pass --input-up z, y or -y")
    if len(ups) > 1:
        raise UserError(f"--input {folder}: the files disagree on their up axis ({sorted(ups)}); pass --input-up")
    if times is None:
        times = list(np.linspace(0.0, 1.0, len(files))) if len(files) > 1 else [0.0]
    frames = [Frame(f.splats, float(t)) for f, t in zip(files, times, strict=True)]
    name = Path(folder).resolve().name if Path(folder).is_dir() else Path(folder).stem
    return frames, cast(UpAxis, ups.pop()), name  # checked above to be z, y or -y
