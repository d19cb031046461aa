"""`e4d-export`: a trained Efficient4D model as one 3DGS PLY per timestamp, and a turntable video.

    e4d-export --load-config outputs/.../config.yml --output-dir exports/dance --num-times 16 --turntable

Each PLY (and, unless `--no-splat`, a `.splat` file beside it) is the 3D slice at its time in the standard 3DGS layout (see `splatcore.ply`), loadable by common splat
viewers: means μ_{x|t}, Σ_{x|t} decomposed into scales and a rotation by eigendecomposition, opacity σ(o)·p(t);
Gaussians whose temporal marginal is below the cull threshold are left out. `times.json` lists file → time. The
turntable sweeps azimuth 0→360° and time 0→T together at the training cameras' radius, elevation and intrinsics.

The output folder is one set: it is written beside its final place and swapped in whole (`splatcore.atomic`), so a
re-export never leaves frames of an earlier export, and an interrupted one leaves the earlier export as it was.
Everything comes from the run directory (config.yml, the checkpoint and the dataset_cameras.json camera snapshot
kept beside config.yml), never from the training images, so a run still exports after its dataset moved.
"""

from __future__ import annotations

import json
import pickle
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Literal, Mapping, Optional

import numpy as np
import torch
import tyro
from torch import Tensor

from datagen.cameras import Intrinsics
from datagen.options import OptionError, check_options
from datagen.user_errors import UserError
from efficient4d_ns import gaussians4d as g4
from splatcore.atomic import atomic_directory, leftover_siblings
from splatcore.orient import UpAxis, orient_splats
from splatcore.ply import SplatPly, write_splat_ply
from splatcore.sh import SH_C0
from splatcore.splat_format import write_splat

MANIFEST_NAME = "times.json"
"""The export's list of files and times; written last, so a folder holding it is a complete export."""
EXPORT_RULES = {
    "num_times": (lambda v: v >= 1, "must be at least 1"),
    "turntable_frames": (lambda v: v >= 1, "must be at least 1"),
    "turntable_fps": (lambda v: v > 0, "must be more than 0 frames per second"),
    "load_config": (
        lambda v: Path(v).is_file(),
        "does not exist; pass a training run's config.yml (outputs/<name>/efficient4d/<timestamp>/config.yml)",
    ),
}
"""e4d-export's option rules, on top of `datagen.options.RULES` (its --num-times counts exported slices)."""


def splats_at_time(
    params: Mapping[str, Tensor],
    t: float,
    duration: float = 1.0,
    marginal_threshold: float = g4.MARGINAL_CULL_THRESHOLD,
    sh_degree: int = 0,
) -> SplatPly:
    """The 3D Gaussians of 4D parameters (Efficient4DModel's storage) at time t, as PLY-ready arrays.

    Args:
        params: `means`, `scales`, `quats`, `features_dc`, `features_rest`, `opacities`, `times`, `scales_t`,
            `quats_r`, `features_time` (see efficient4d_ns.strategy).
        t: the time to slice at.
        duration: the time range T (period of the colour bands).
        marginal_threshold: Gaussians with p(t) below this are dropped.
        sh_degree: 0 means `features_dc` are sigmoid logits (converted to SH DC for the file).
    """
    with torch.no_grad():
        means, covars, opacity, dc, marginal = g4.slice_params(params, t, duration)
        keep = marginal >= marginal_threshold
        scales, quats = g4.covariance_to_scale_quat(covars[keep])
        opacity = opacity[keep].clamp(1e-7, 1 - 1e-7)
        sh_dc = (torch.sigmoid(dc[keep]) - 0.5) / SH_C0 if sh_degree == 0 else dc[keep]
        sh_rest = params["features_rest"][keep] if sh_degree > 0 else params["features_rest"][keep][:, :0]

    def np32(x: Tensor) -> np.ndarray:
        return x.detach().cpu().numpy().astype(np.float32)

    return SplatPly(
        means=np32(means[keep]),
        sh_dc=np32(sh_dc),
        sh_rest=np32(sh_rest),
        opacity_logits=np32(torch.logit(opacity)),
        log_scales=np32(torch.log(scales)),
        quats=np32(quats),
    )


@dataclass
class ExportE4D:
    """Export a trained efficient4d model: one PLY per timestamp and optionally a turntable video."""

    load_config: Path
    """The run's config.yml (outputs/<name>/efficient4d/<timestamp>/config.yml)."""
    output_dir: Path
    """Folder for frame_XXX.ply, times.json and turntable.{mp4,gif}; an earlier export there is replaced whole."""
    num_times: int = 10
    """Number of timestamps, evenly spaced over [0, T] (both ends included)."""
    splat: bool = True
    """Also write frame_XXX.splat beside each PLY (the 32-byte-per-Gaussian format web splat viewers load)."""
    splat_up: UpAxis = "-y"
    """Axis that points up in the .splat files: -y by default, as the INRIA/.splat viewers (gsplat.js, SuperSplat)
    expect; z keeps the training world."""
    up: UpAxis = "z"
    """Axis that points up in the PLYs: z (nerfstudio, as trained), y (three.js, PlayCanvas), -y (INRIA, gsplat.js,
    SuperSplat). Recorded in each file as a `comment Vertical Axis:` line."""
    turntable: bool = False
    """Also render a turntable that sweeps the view (360°) and time (0 → T) together."""
    turntable_frames: int = 60
    """Frames of the turntable video."""
    turntable_fps: float = 15.0
    """Frames per second of the turntable video."""
    turntable_format: Literal["mp4", "gif", "both"] = "both"
    """Container(s) of the turntable video."""

    def check(self) -> None:
        """Raise :class:`OptionError` for the first option that cannot work, before anything is read or written."""
        check_options(self, EXPORT_RULES)
        check_output_dir(self.output_dir)

    def main(self) -> None:
        """Check the options, load the model, write the PLYs (and the turntable) as one set."""
        from efficient4d_ns.model import Efficient4DModel

        self.check()
        pipeline = load_run(self.load_config)
        model = pipeline.model
        if not isinstance(model, Efficient4DModel):
            raise UserError(f"--load-config {self.load_config}: a {type(model).__name__} run, not efficient4d")
        for leftover in leftover_siblings(self.output_dir):
            print(f"note: {leftover} is left from an interrupted export: delete it", file=sys.stderr)
        duration = model.config.time_duration
        times = np.linspace(0.0, duration, self.num_times) if self.num_times > 1 else np.array([0.0])
        slices = (
            (
                float(t),
                splats_at_time(
                    dict(model.gauss_params), float(t), duration, model.config.marginal_threshold,
                    model.config.sh_degree,
                ),
            )
            for t in times
        )  # fmt: skip
        turntable = partial(self._write_turntable, pipeline=pipeline, model=model, duration=duration)
        write_frame = partial(write_frame_files, splat=self.splat, up=self.up, splat_up=self.splat_up)
        manifest, extra = write_export(self.output_dir, slices, turntable if self.turntable else None, write_frame)
        print(f"Wrote {len(manifest)} PLY{' and .splat' if self.splat else ''} files to {self.output_dir}")
        for name in extra:
            print(f"Wrote {self.output_dir / name}")

    def _write_turntable(self, folder: Path, pipeline, model, duration: float) -> list[str]:
        from nsglue.turntable import orbit_cameras, render_cameras
        from splatcore.video import write_video

        train_cameras = pipeline.datamanager.train_dataset.cameras
        centres = train_cameras.camera_to_worlds[:, :3, 3].numpy()
        radius = float(np.linalg.norm(centres, axis=-1).mean())
        elevation = float(
            np.degrees(np.arcsin(np.clip(centres[:, 2] / np.linalg.norm(centres, axis=-1), -1, 1))).mean()
        )
        first = train_cameras[0]
        intrinsics = Intrinsics(
            float(first.fx), float(first.fy), float(first.cx), float(first.cy), int(first.width), int(first.height)
        )
        count = self.turntable_frames
        times = [k / max(count - 1, 1) * duration for k in range(count)]  # the last frame is at T
        cameras = orbit_cameras(count, elevation, radius, intrinsics, times=times)
        frames = [np.clip(f["rgb"], 0, 1) for f in render_cameras(model, cameras, desc="turntable")]
        suffixes = ["mp4", "gif"] if self.turntable_format == "both" else [self.turntable_format]
        names = [f"turntable.{suffix}" for suffix in suffixes]
        for name in names:
            write_video(folder / name, frames, fps=self.turntable_fps)
        return names


def check_output_dir(output_dir: Path) -> None:
    """Refuse an output folder an export may not replace: a file, or a folder holding something other than an export.

    An export replaces its folder whole, so a folder with other files (no times.json) would lose them.
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OptionError(f"--output-dir {output_dir}: is an existing file; pass a directory path")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / MANIFEST_NAME).is_file():
        raise OptionError(
            f"--output-dir {output_dir}: holds files but no {MANIFEST_NAME}, so it is not an earlier e4d-export; "
            "an export replaces its whole folder, so choose a new or empty folder"
        )


FrameWriter = Callable[[Path, int, SplatPly], dict]
"""Writes frame ``i``'s files into a folder; returns its manifest entry beyond time and count (e.g. {"splat": ...})."""


def write_frame_files(
    folder: Path, i: int, splats: SplatPly, splat: bool = False, up: UpAxis = "z", splat_up: UpAxis = "-y"
) -> dict:
    """frame_XXX.ply (and frame_XXX.splat when ``splat``) of slice ``i``, each turned so that ``up`` / ``splat_up``
    is the up axis (the PLY records it in its `Vertical Axis` comment)."""
    write_splat_ply(folder / f"frame_{i:03d}.ply", orient_splats(splats, up), vertical_axis=up)
    if not splat:
        return {}
    return {"splat": write_splat(folder / f"frame_{i:03d}.splat", orient_splats(splats, splat_up)).name}


def write_export(
    output_dir: Path,
    slices: Iterable[tuple[float, SplatPly]],
    extra: Optional[Callable[[Path], list[str]]] = None,
    write_frame: FrameWriter = write_frame_files,
) -> tuple[dict, list[str]]:
    """Write the files of each (time, splats) and times.json (last) as one set that replaces ``output_dir`` whole.

    Args:
        output_dir: the export folder (replaced, never merged into).
        slices: (time, splats) in the order of the files frame_000.ply, frame_001.ply, ...
        extra: writes further files into the set's (temporary) folder and returns their names.
        write_frame: writes one slice's files into the temporary folder (default: its PLY).

    Returns:
        the manifest written to times.json, and the names ``extra`` wrote.
    """
    manifest: dict = {}
    with atomic_directory(output_dir, replace=True) as folder:
        for i, (t, splats) in enumerate(slices):
            entry = {"time": float(t), "num_gaussians": splats.count}
            manifest[f"frame_{i:03d}.ply"] = {**entry, **write_frame(folder, i, splats)}
        names = extra(folder) if extra is not None else []
        (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))
    return manifest, names


def latest_checkpoint(model_dir: Path) -> Optional[Path]:
    """The checkpoint with the largest step in ``model_dir`` (nerfstudio's step-XXXXXXXXX.ckpt), or None."""
    steps = {}
    for path in Path(model_dir).glob("step-*.ckpt"):
        number = path.stem.removeprefix("step-")
        if number.isdigit():
            steps[int(number)] = path
    return steps[max(steps)] if steps else None


def load_run(config_path: Path):
    """The trained pipeline of a run directory, in inference mode, without reading a training image.

    The cameras come from the run's dataset_cameras.json (its dataset need not exist any more); the checkpoint
    from the run directory itself, wherever it now lies (nerfstudio's own loader looks under the output path
    recorded at training time).

    Raises:
        UserError: the run has no checkpoint, or neither a camera snapshot nor its dataset.
    """
    import yaml

    from datagen.dataparser_snapshot import SNAPSHOT_NAME

    config_path = Path(config_path)
    try:
        config = yaml.load(config_path.read_text(encoding="utf-8"), Loader=yaml.Loader)
        datamanager = config.pipeline.datamanager
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError) as error:
        raise UserError(
            f"--load-config {config_path}: not a training run's config.yml ({type(error).__name__}: {error})"
        ) from error
    run_dir = config_path.parent
    snapshot = run_dir / SNAPSHOT_NAME
    if snapshot.is_file() and hasattr(datamanager.dataparser, "snapshot"):
        datamanager.dataparser.snapshot = snapshot
    else:
        data = Path(datamanager.data or datamanager.dataparser.data)
        if not data.exists():
            raise UserError(
                f"--load-config {config_path}: the run directory has no {SNAPSHOT_NAME} (runs made before this "
                f"version do not), and its dataset {data} does not exist: move the dataset back, or set `data:` "
                f"in {config_path} to its new place"
            )
    checkpoint = latest_checkpoint(run_dir / config.relative_model_dir)
    if checkpoint is None:
        raise UserError(
            f"--load-config {config_path}: no checkpoint in {run_dir / config.relative_model_dir}; checkpoints are "
            "saved every --steps-per-save steps and at the end of training"
        )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pipeline = config.pipeline.setup(device=device, test_mode="inference")
    pipeline.eval()
    try:
        state = torch.load(checkpoint, map_location="cpu")
        weights, step = state["pipeline"], state["step"]
    except (OSError, RuntimeError, EOFError, KeyError, TypeError, ValueError, pickle.UnpicklingError) as error:
        raise UserError(
            f"checkpoint {checkpoint} is unreadable ({type(error).__name__}: {error}); it may be truncated by an "
            "interrupted save: delete it to export the previous checkpoint, or train again"
        ) from error
    pipeline.load_pipeline(weights, step)
    return pipeline


def main(args: Optional[list[str]] = None) -> int:
    """Parse ``args`` (default: sys.argv) and export; returns the exit status. Problems with the options or the run
    are reported in one line, without a traceback."""
    command = tyro.cli(ExportE4D, args=args, prog="e4d-export")
    try:
        command.main()
    except UserError as error:  # messages name the option or file and the fix
        print(f"e4d-export: error: {error}", file=sys.stderr)
        return 1
    return 0


def entrypoint() -> None:
    """Console script `e4d-export`."""
    tyro.extras.set_accent_color("bright_yellow")
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
