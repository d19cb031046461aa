"""Turntable video of a trained Gaussian model, and a PNG of RIGI's uncertainty.

    python -m nsglue.turntable_video --load-config outputs/.../config.yml --output-dir demo_out

(also as ``python scripts/turntable.py``, which the demo runs)

writes ``turntable.gif``, ``turntable.mp4`` (model 1 on white, orbiting at a fixed elevation) and
``uncertainty.png`` (model 1 | model 2 | uncertainty, from the first frame's viewpoint) when the model has a twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import numpy as np
import torch
import tyro

from datagen.cameras import SV3D_FOV_DEG, SV3D_RADIUS

PANEL_KEYS = ("rgb", "rgb_2", "uncertainty")
"""The outputs kept from each render: set 1, set 2 (when the model has a twin) and their uncertainty."""


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
    radius: float = SV3D_RADIUS
    """Camera distance from the origin (SV3D orbits use 4.0)."""
    fov_deg: float = SV3D_FOV_DEG
    """Vertical field of view (SV3D: 33.8)."""
    size: int = 128
    """Rendered image side in pixels."""
    fps: float = 12.0
    """Frames per second of the videos."""

    def main(self) -> Dict[str, Path]:
        """Load the checkpoint, render, write the files; returns their paths."""
        from nerfstudio.utils.eval_utils import eval_setup

        _, pipeline, _, _ = eval_setup(self.load_config, test_mode="inference")
        written = write_turntable(
            pipeline.model, self.output_dir, self.num_frames, self.elevation_deg, self.radius, self.fov_deg, self.size,
            self.fps,
        )  # fmt: skip
        for kind, path in written.items():
            print(f"{kind:12s} {path}")
        return written


def write_turntable(
    model,
    output_dir: Path,
    num_frames: int = 36,
    elevation_deg: float = 20.0,
    radius: float = SV3D_RADIUS,
    fov_deg: float = SV3D_FOV_DEG,
    size: int = 128,
    fps: float = 12.0,
) -> Dict[str, Path]:
    """Render ``model`` (set 1, on white) from ``num_frames`` cameras orbiting the origin and write
    ``turntable.gif``, ``turntable.mp4`` and, for a model with a twin, ``uncertainty.png`` into ``output_dir``.

    Returns:
        The written files by kind (``gif``, ``mp4``, ``uncertainty``).
    """
    from datagen.cameras import intrinsics_from_fov
    from nsglue.turntable import orbit_cameras, render_cameras
    from splatcore.video import write_video

    model.set_background(torch.ones(3, device=model.device))
    intrinsics = intrinsics_from_fov(fov_deg, size, size)
    cameras = orbit_cameras(num_frames, elevation_deg, radius, intrinsics)
    frames = render_cameras(model, cameras[:1], PANEL_KEYS)  # with the twin, for the uncertainty panel
    if hasattr(model, "render_twin"):
        model.render_twin = False  # the turntable shows set 1 only: half the rendering
    frames += render_cameras(model, cameras[1:], PANEL_KEYS)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "gif": write_video(output_dir / "turntable.gif", [f["rgb"] for f in frames], fps=fps),
        "mp4": write_video(output_dir / "turntable.mp4", [f["rgb"] for f in frames], fps=fps),
    }
    if "uncertainty" in frames[0]:
        import imageio.v2 as imageio

        panel = (np.clip(uncertainty_panel(frames[0]), 0, 1) * 255 + 0.5).astype(np.uint8)
        written["uncertainty"] = output_dir / "uncertainty.png"
        partial = written["uncertainty"].with_name(".uncertainty.partial.png")
        imageio.imwrite(partial, panel)
        partial.replace(written["uncertainty"])
    return written


def entrypoint() -> None:
    """``python -m nsglue.turntable_video``."""
    tyro.cli(Turntable).main()


if __name__ == "__main__":
    entrypoint()
