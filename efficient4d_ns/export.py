"""`e4d-export`: a trained Efficient4D model as one 3DGS PLY per timestamp, and a turntable video.

    e4d-export --load-config outputs/.../config.yml --output-dir exports/dance --num-times 16 --turntable

Each PLY (and, unless `--no-splat`, a `.splat` file beside it) is the 3D slice at its time in the standard 3DGS layout (see `splatcore.ply`), loadable by common splat
viewers: means μ_{x|t}, Σ_{x|t} decomposed into scales and a rotation by eigendecomposition, opacity σ(o)·p(t);
Gaussians whose temporal marginal is below the cull threshold are left out. `times.json` lists file → time. The
turntable sweeps azimuth 0→360° and time 0→T together at the training cameras' radius, elevation and intrinsics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

import numpy as np
import torch
import tyro
from torch import Tensor

from efficient4d_ns import gaussians4d as g4
from splatcore.atomic import atomic_file
from splatcore.orient import UpAxis, orient_splats
from splatcore.ply import SplatPly, write_splat_ply
from splatcore.sh import SH_C0
from splatcore.splat_format import write_splat


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


def look_at_origin_c2w_gl(azimuth_deg: float, elevation_deg: float, radius: float) -> np.ndarray:
    """Camera-to-world [4, 4], OpenGL axes, world +z up, camera on the sphere looking at the origin."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    centre = radius * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    back = centre / np.linalg.norm(centre)  # OpenGL z points away from the scene
    right = np.cross([0.0, 0.0, 1.0], back)
    right = right / max(np.linalg.norm(right), 1e-9)
    up = np.cross(back, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, up, back, centre
    return c2w


@dataclass
class ExportE4D:
    """Export a trained efficient4d model: one PLY per timestamp and optionally a turntable video."""

    load_config: Path
    """The run's config.yml (outputs/<name>/efficient4d/<timestamp>/config.yml)."""
    output_dir: Path
    """Folder for frame_XXX.ply, times.json and turntable.{mp4,gif}."""
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

    def main(self) -> None:
        """Load the model, write the PLYs (and the turntable)."""
        from nerfstudio.utils.eval_utils import eval_setup

        from efficient4d_ns.model import Efficient4DModel

        if self.num_times < 1:
            raise ValueError(f"--num-times must be ≥ 1, got {self.num_times}")
        if not self.load_config.is_file():
            raise FileNotFoundError(f"--load-config {self.load_config} does not exist")
        _, pipeline, _, _ = eval_setup(self.load_config, test_mode="inference")
        model = pipeline.model
        if not isinstance(model, Efficient4DModel):
            raise ValueError(f"{self.load_config} is a {type(model).__name__} run, not efficient4d")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        duration = model.config.time_duration
        times = np.linspace(0.0, duration, self.num_times) if self.num_times > 1 else np.array([0.0])
        manifest = {}
        for i, t in enumerate(times):
            splats = splats_at_time(
                dict(model.gauss_params), float(t), duration, model.config.marginal_threshold, model.config.sh_degree
            )
            name = f"frame_{i:03d}.ply"
            write_splat_ply(self.output_dir / name, orient_splats(splats, self.up), vertical_axis=self.up)
            manifest[name] = {"time": float(t), "num_gaussians": splats.count}
            if self.splat:
                splat_name = f"frame_{i:03d}.splat"
                write_splat(self.output_dir / splat_name, orient_splats(splats, self.splat_up))
                manifest[name]["splat"] = splat_name
        _write_json_atomic(self.output_dir / "times.json", manifest)
        print(f"Wrote {len(times)} PLY{' and .splat' if self.splat else ''} files to {self.output_dir}")
        if self.turntable:
            self._write_turntable(pipeline, model, duration)

    def _write_turntable(self, pipeline, model, duration: float) -> None:
        from nerfstudio.cameras.cameras import Cameras, CameraType
        from tqdm import tqdm

        from splatcore.video import write_video

        train_cameras = pipeline.datamanager.train_dataset.cameras
        centres = train_cameras.camera_to_worlds[:, :3, 3].numpy()
        radius = float(np.linalg.norm(centres, axis=-1).mean())
        elevation = float(
            np.degrees(np.arcsin(np.clip(centres[:, 2] / np.linalg.norm(centres, axis=-1), -1, 1))).mean()
        )
        first = train_cameras[0]
        frames = []
        for k in tqdm(range(self.turntable_frames), desc="turntable", unit="frame"):
            fraction = k / max(self.turntable_frames - 1, 1)
            c2w = look_at_origin_c2w_gl(360.0 * k / self.turntable_frames, elevation, radius)
            camera = Cameras(
                camera_to_worlds=torch.from_numpy(c2w[None, :3, :4]).float(),
                fx=first.fx.reshape(1, 1),
                fy=first.fy.reshape(1, 1),
                cx=first.cx.reshape(1, 1),
                cy=first.cy.reshape(1, 1),
                width=first.width.reshape(1, 1),
                height=first.height.reshape(1, 1),
                camera_type=CameraType.PERSPECTIVE,
                times=torch.tensor([[fraction * duration]]),
            )
            outputs = model.get_outputs_for_camera(camera.to(model.device))
            frames.append(outputs["rgb"].clamp(0, 1).cpu().numpy())
        suffixes = ["mp4", "gif"] if self.turntable_format == "both" else [self.turntable_format]
        for suffix in suffixes:
            path = write_video(self.output_dir / f"turntable.{suffix}", frames, fps=self.turntable_fps)
            print(f"Wrote {path}")


def _write_json_atomic(path: Path, payload: dict) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))


def entrypoint() -> None:
    """Console script `e4d-export`."""
    tyro.extras.set_accent_color("bright_yellow")
    tyro.cli(ExportE4D).main()


if __name__ == "__main__":
    entrypoint()
