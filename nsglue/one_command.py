"""`image-to-asset` and `video-to-asset`: from a picture to a 3D asset, from a clip to a moving one, in one command.

    image-to-asset IMAGE --output-dir DIR --weights SV3D_DIR
    video-to-asset VIDEO --output-dir DIR --checkpoint syncdreamer-pretrain.ckpt --clip-weights ViT-L-14.pt

Stages, all in DIR: ``dataset/`` (datagen image-to-3d / video-to-4d, in this process), ``training/`` (ns-train
rigi-splat / efficient4d, unattended: tensorboard logging, no viewer) and ``export/`` (3D: asset-export's PLY,
.splat, mesh and turntable; 4D: e4d-export's PLY and .splat per time, times.json and a turntable sweeping view and
time). Training and exports run as their own commands in subprocesses, so their messages
are their own and a crash stops only that stage. Finished stages are kept (see `nsglue.pipeline_stages`): run the
same command again after a failure and it continues where it stopped. ``summary.json`` lists every output.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Optional

import tyro

from datagen import generate_cli
from datagen.generators.preview import PREVIEW_FILE
from datagen.generators.sv3d.settings import SV3DSettings
from datagen.generators.syncdreamer.settings import SyncDreamerSettings
from datagen.options import check_options
from datagen.preprocess import AlphaMode
from datagen.user_errors import UserError
from nsglue.pipeline_stages import Stage, file_digest, run_stages, summary_table, write_summary

BIN = Path(sys.executable).parent
EXPERIMENT = "asset"
TIMESTAMP = "run"
UNRECORDED_SETTINGS = ("progress",)
"""Generator settings that do not change the result (left out of the stage's inputs)."""


class StageFailed(UserError):
    """A tool run by a stage exited with an error; its own messages came before."""


def run_tool(words: list) -> None:
    """Run one tool as the user would, echoing the command; raise :class:`StageFailed` if it fails."""
    command = [str(w) for w in words]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise StageFailed(
            f"`{Path(command[0]).name} {' '.join(command[1:3])} ...` exited with status {result.returncode}; its "
            "messages are above. Fix the cause and run the same command again: finished stages are kept"
        )


def train_options(options: tuple[str, ...]) -> list[str]:
    """``NAME=VALUE`` pairs as ns-train arguments ``--NAME VALUE``."""
    words = []
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name:
            raise UserError(f"--train-option {option!r}: write NAME=VALUE, e.g. pipeline.model.lpips-lambda=0")
        words += ["--" + name.lstrip("-"), value]
    return words


def settings_inputs(settings) -> dict:
    return {k: v for k, v in dataclasses.asdict(settings).items() if k not in UNRECORDED_SETTINGS}


@dataclass
class Training:
    """The training stage's options, shared by both commands."""

    max_num_iterations: Optional[int] = None
    """Training steps (default: the method's)."""
    train_option: tuple[str, ...] = ()
    """Further ns-train options as NAME=VALUE, e.g. `--train-option pipeline.model.lpips-lambda=0
    pipeline.model.dual-model=False`."""

    def stage(self, method: str, data: Path, out: Path) -> Stage:
        training = out / "training"
        config = training / EXPERIMENT / method / TIMESTAMP / "config.yml"
        extra = train_options(self.train_option)
        steps = [] if self.max_num_iterations is None else ["--max-num-iterations", self.max_num_iterations]

        def run() -> dict[str, Path]:
            shutil.rmtree(training, ignore_errors=True)  # a crashed earlier run: start clean
            run_tool(
                [BIN / "ns-train", method, "--data", data, "--output-dir", training]
                + ["--experiment-name", EXPERIMENT, "--timestamp", TIMESTAMP, "--vis", "tensorboard"]
                + ["--viewer.quit-on-train-completion", "True", *steps, *extra]
            )
            return {"config": config}

        inputs = {"method": method, "steps": self.max_num_iterations, "options": extra}
        return Stage("train", f"ns-train {method} (unattended, tensorboard logs)", inputs, run)


@dataclass
class ImageToAsset:
    """One picture -> SV3D dataset -> rigi-splat -> PLY, .splat, mesh (glb/obj) and a turntable, in one folder."""

    image: tyro.conf.Positional[Path]
    """Picture of the object: RGBA (object on transparency) or RGB on a plain background."""
    output_dir: Path
    """Folder for every stage (dataset/, training/, export/, summary.json)."""
    sv3d: Annotated[SV3DSettings, tyro.conf.OmitArgPrefixes]
    """SV3D settings (stage 1)."""
    training: Annotated[Training, tyro.conf.OmitArgPrefixes] = dataclasses.field(default_factory=Training)
    """Training settings (stage 2)."""
    alpha: AlphaMode = "auto"
    """Object mask: `keep` the alpha, `key` the plain background colour out, `rembg` (optional extra), `auto`."""
    frame_ratio: Optional[float] = None
    """The object's longest side as a share of SV3D's frame (default: its share of the picture)."""
    seed: int = generate_cli.SV3D_SEED
    """Random seed of the sampling."""
    method: Literal["rigi-splat", "rigi-splat-cpu"] = "rigi-splat"
    """Training preset: the paper's, or the shorter CPU one."""
    mesh: bool = True
    """Export mesh.glb and mesh.obj (depth fusion; takes a while at a high --mesh-resolution)."""
    mesh_resolution: int = 128
    """Voxels per side of the mesh's fusion volume."""
    turntable_frames: int = 36
    """Frames of the turntable video."""
    turntable_size: int = 256
    """Side of the turntable frames in pixels."""

    def stages(self) -> list[Stage]:
        out = self.output_dir
        data, export = out / "dataset", out / "export"
        config = out / "training" / EXPERIMENT / self.method / TIMESTAMP / "config.yml"

        def make_dataset() -> dict[str, Path]:
            generate_cli.image_to_3d_dataset(
                self.image, data, self.sv3d, self.alpha, self.frame_ratio, self.seed, overwrite=True
            )
            return {"dataset": data, "generated_views": data / PREVIEW_FILE}

        def make_export() -> dict[str, Path]:
            shutil.rmtree(export, ignore_errors=True)  # one set: nothing left from an earlier export
            mesh = ["--resolution", self.mesh_resolution] if self.mesh else ["--no-mesh"]
            run_tool(
                [BIN / "asset-export", "--load-config", config, "--output-dir", export, "--ply", "--turntable", *mesh]
                + ["--turntable-frames", self.turntable_frames, "--turntable-size", self.turntable_size]
            )
            outputs = {"ply": export / "splat.ply", "splat": export / "splat.splat"}
            if self.mesh:
                outputs.update(mesh_glb=export / "mesh.glb", mesh_obj=export / "mesh.obj")
            outputs.update(turntable_mp4=export / "turntable.mp4", turntable_gif=export / "turntable.gif")
            return outputs

        dataset_inputs = {
            "image": file_digest(self.image) if self.image.is_file() else str(self.image),
            "sv3d": settings_inputs(self.sv3d),
            "alpha": self.alpha,
            "frame_ratio": self.frame_ratio,
            "seed": self.seed,
        }
        return [
            Stage("dataset", "SV3D views of the picture (datagen image-to-3d)", dataset_inputs, make_dataset),
            self.training.stage(self.method, data, out),
            Stage(
                "export",
                "PLY, .splat, mesh and turntable (asset-export)",
                {
                    "mesh": self.mesh,
                    "resolution": self.mesh_resolution,
                    "turntable": [self.turntable_frames, self.turntable_size],
                },
                make_export,
            ),
        ]


@dataclass
class VideoToAsset:
    """One clip -> SyncDreamer-T dataset (4K-3 times) -> efficient4d -> a PLY per time and a turntable."""

    video: tyro.conf.Positional[Path]
    """Clip of the object: a video file or a folder of frames (natural order)."""
    output_dir: Path
    """Folder for every stage (dataset/, training/, export/, summary.json)."""
    syncdreamer: Annotated[SyncDreamerSettings, tyro.conf.OmitArgPrefixes]
    """SyncDreamer-T settings (stage 1)."""
    training: Annotated[Training, tyro.conf.OmitArgPrefixes] = dataclasses.field(default_factory=Training)
    """Training settings (stage 2)."""
    frames: int = 16
    """K, the frames taken from the clip."""
    alpha: AlphaMode = "auto"
    """Object mask, one mode for the whole clip."""
    seed: int = generate_cli.SYNCDREAMER_SEED
    """Random seed of the sampling."""
    passes: int = 2
    """Midpoint interpolation passes (2: 4K-3 timestamps, 0: the K generated)."""
    method: Literal["efficient4d", "efficient4d-cpu"] = "efficient4d"
    """Training preset: the paper's, or the shorter CPU one."""
    num_times: int = 16
    """Timestamps exported (one PLY and .splat each)."""
    turntable_frames: int = 60
    """Frames of the turntable video (sweeping view and time)."""

    def stages(self) -> list[Stage]:
        out = self.output_dir
        data, export = out / "dataset", out / "export"
        config = out / "training" / EXPERIMENT / self.method / TIMESTAMP / "config.yml"

        def make_dataset() -> dict[str, Path]:
            generate_cli.video_to_4d_dataset(
                self.video,
                data,
                self.syncdreamer,
                self.frames,
                self.alpha,
                self.seed,
                self.passes,
                overwrite=True,
            )
            return {"dataset": data, "generated_views": data / PREVIEW_FILE}

        def make_export() -> dict[str, Path]:
            run_tool(
                [BIN / "e4d-export", "--load-config", config, "--output-dir", export, "--num-times", self.num_times]
                + ["--turntable", "--turntable-frames", self.turntable_frames]
            )
            return {
                "frames": export,
                "times": export / "times.json",
                "turntable_mp4": export / "turntable.mp4",
                "turntable_gif": export / "turntable.gif",
            }

        dataset_inputs = {
            "video": file_digest(self.video) if self.video.exists() else str(self.video),
            "syncdreamer": settings_inputs(self.syncdreamer),
            "frames": self.frames,
            "alpha": self.alpha,
            "seed": self.seed,
            "passes": self.passes,
        }
        return [
            Stage("dataset", "SyncDreamer-T views of the clip (datagen video-to-4d)", dataset_inputs, make_dataset),
            self.training.stage(self.method, data, out),
            Stage(
                "export",
                "a PLY and .splat per time, times.json, turntable (e4d-export)",
                {"num_times": self.num_times, "turntable_frames": self.turntable_frames},
                make_export,
            ),
        ]


def run_pipeline(command: ImageToAsset | VideoToAsset, prog: str) -> int:
    """Check the options, run the stages, print and write the summary; returns the exit status."""
    try:
        check_options(command)
        results = run_stages(command.stages(), command.output_dir)
    except (UserError, FileExistsError) as error:  # UserError covers the datasets' and options' errors
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    summary = write_summary(results, command.output_dir)
    print(f"\n{summary_table(results, command.output_dir)}\n(also in {summary})")
    config = command.output_dir / "training" / EXPERIMENT / command.method / TIMESTAMP / "config.yml"
    print(f"view it: ns-viewer --load-config {config}")
    print(f"share it: splat-web --load-config {config} --output-dir {command.output_dir / 'web'}")
    return 0


def image_main(args: Optional[list[str]] = None) -> int:
    """``image-to-asset``: parse ``args`` (default: sys.argv) and run."""
    return run_pipeline(tyro.cli(ImageToAsset, args=args, prog="image-to-asset"), "image-to-asset")


def video_main(args: Optional[list[str]] = None) -> int:
    """``video-to-asset``: parse ``args`` (default: sys.argv) and run."""
    return run_pipeline(tyro.cli(VideoToAsset, args=args, prog="video-to-asset"), "video-to-asset")


def image_entrypoint() -> None:
    """Console script `image-to-asset`."""
    sys.exit(image_main())


def video_entrypoint() -> None:
    """Console script `video-to-asset`."""
    sys.exit(video_main())
