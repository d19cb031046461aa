"""Turntable video of a trained Gaussian model, and a PNG of RIGI's uncertainty.

    python scripts/turntable.py --load-config outputs/.../config.yml --output-dir demo_out

writes ``turntable.gif``, ``turntable.mp4`` (model 1 on white, orbiting at a fixed elevation) and
``uncertainty.png`` (model 1 | model 2 | uncertainty, from the first frame's viewpoint) when the model has a twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch
import tyro
from nerfstudio.cameras.cameras import Cameras
from tqdm import tqdm


def orbit_cameras(num_frames: int, elevation_deg: float, radius: float, fov_deg: float, size: int) -> Cameras:
    """``num_frames`` square pinhole cameras evenly spaced in azimuth, looking at the origin (world +z up)."""
    from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov

    azimuths = np.arange(num_frames) * 360.0 / num_frames
    c2w_gl = c2w_gl_from_spherical(azimuths, np.full(num_frames, elevation_deg), radius)
    k = intrinsics_from_fov(fov_deg, size, size)
    return Cameras(
        camera_to_worlds=torch.as_tensor(np.asarray(c2w_gl)[:, :3, :4], dtype=torch.float32),
        fx=float(k.fl_x),
        fy=float(k.fl_y),
        cx=float(k.cx),
        cy=float(k.cy),
        width=size,
        height=size,
    )


@torch.no_grad()
def render_views(model, cameras: Cameras, keys=("rgb", "rgb_2", "uncertainty")) -> List[Dict[str, np.ndarray]]:
    """Render every camera (one at a time, eval mode); returns the requested outputs as float numpy images."""
    model.eval()
    frames = []
    for i in tqdm(range(cameras.shape[0]), desc="rendering", leave=False):
        outputs = model.get_outputs_for_camera(cameras[i : i + 1].to(model.device))
        frames.append({k: outputs[k].detach().cpu().numpy() for k in keys if k in outputs})
    return frames


def uncertainty_panel(frame: Dict[str, np.ndarray]) -> np.ndarray:
    """``model 1 | model 2 | uncertainty (turbo colormap)`` side by side, float [H, 3W, 3]."""
    from nerfstudio.utils import colormaps

    heat = colormaps.apply_colormap(torch.from_numpy(frame["uncertainty"])).numpy()
    return np.concatenate([frame["rgb"], frame["rgb_2"], heat], axis=1)


@dataclass
class Turntable:
    """Render a turntable GIF/MP4 of a trained model (set 1) and its uncertainty PNG."""

    load_config: Path
    """config.yml written by ns-train."""
    output_dir: Path = Path("demo_out")
    """Where turntable.gif, turntable.mp4 and uncertainty.png go."""
    num_frames: int = 36
    """Frames per revolution."""
    elevation_deg: float = 20.0
    """Camera elevation above the object's equator."""
    radius: float = 4.0
    """Camera distance from the origin (SV3D orbits use 4.0)."""
    fov_deg: float = 33.8
    """Vertical field of view (SV3D: 33.8)."""
    size: int = 128
    """Rendered image side in pixels."""
    fps: float = 12.0
    """Frames per second of the videos."""

    def main(self) -> Dict[str, Path]:
        """Load the checkpoint, render, write the files; returns their paths."""
        from nerfstudio.utils.eval_utils import eval_setup

        from splatcore.video import write_video

        _, pipeline, _, _ = eval_setup(self.load_config, test_mode="inference")
        model = pipeline.model
        model.set_background(torch.ones(3, device=model.device))
        cameras = orbit_cameras(self.num_frames, self.elevation_deg, self.radius, self.fov_deg, self.size)
        frames = render_views(model, cameras[:1])  # with the twin, for the uncertainty panel
        if hasattr(model, "render_twin"):
            model.render_twin = False  # the turntable shows set 1 only: half the rendering
        frames += render_views(model, cameras[1:])
        self.output_dir.mkdir(parents=True, exist_ok=True)
        written = {
            "gif": write_video(self.output_dir / "turntable.gif", [f["rgb"] for f in frames], fps=self.fps),
            "mp4": write_video(self.output_dir / "turntable.mp4", [f["rgb"] for f in frames], fps=self.fps),
        }
        if "uncertainty" in frames[0]:
            import imageio.v2 as imageio

            panel = (np.clip(uncertainty_panel(frames[0]), 0, 1) * 255 + 0.5).astype(np.uint8)
            written["uncertainty"] = self.output_dir / "uncertainty.png"
            partial = written["uncertainty"].with_name(".uncertainty.partial.png")
            imageio.imwrite(partial, panel)
            partial.replace(written["uncertainty"])
        for kind, path in written.items():
            print(f"{kind:12s} {path}")
        return written


if __name__ == "__main__":
    tyro.cli(Turntable).main()
