"""Turntables: cameras orbiting the object, and a model's renders of a list of cameras, as numpy frames.

Shared by `e4d-export --turntable` (which also sweeps time) and `nsglue.turntable_video` (the demo's video and
`asset-export --turntable`); the pose math is `datagen.cameras.turntable_c2w_gl`, this is the nerfstudio glue around
it.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from tqdm import tqdm

from datagen.cameras import Intrinsics, turntable_c2w_gl


def orbit_cameras(
    num_frames: int,
    elevation_deg: float,
    radius: float,
    intrinsics: Intrinsics,
    times: Optional[Sequence[float]] = None,
) -> Cameras:
    """``num_frames`` pinhole cameras evenly spaced in azimuth around the origin (world +z up), one intrinsics.

    Args:
        num_frames: number of cameras N; camera k is at azimuth ``360 k / N`` deg.
        elevation_deg: elevation of every camera.
        radius: distance of every camera from the origin.
        intrinsics: focal lengths, principal point and image size of every camera.
        times: [N] the time of each camera (for a 4D model), or None.

    Returns:
        Cameras of shape [N].
    """
    c2w_gl = turntable_c2w_gl(num_frames, elevation_deg, radius)
    return Cameras(
        camera_to_worlds=torch.as_tensor(c2w_gl[:, :3, :4], dtype=torch.float32),
        fx=float(intrinsics.fl_x),
        fy=float(intrinsics.fl_y),
        cx=float(intrinsics.cx),
        cy=float(intrinsics.cy),
        width=int(intrinsics.w),
        height=int(intrinsics.h),
        camera_type=CameraType.PERSPECTIVE,
        times=None if times is None else torch.tensor(list(times), dtype=torch.float32).reshape(num_frames, 1),
    )


@torch.no_grad()
def render_cameras(
    model, cameras: Cameras, keys: Sequence[str] = ("rgb",), desc: str = "rendering"
) -> List[Dict[str, np.ndarray]]:
    """Render each camera with ``model`` (one at a time, eval mode, on the model's device).

    Args:
        model: a nerfstudio model with ``get_outputs_for_camera``.
        cameras: [N] cameras.
        keys: the outputs to keep; those the model does not produce are left out.
        desc: the progress bar's label.

    Returns:
        N dicts of float numpy images ([H, W, C] each).
    """
    model.eval()
    frames = []
    for i in tqdm(range(cameras.shape[0]), desc=desc, unit="frame", leave=False):
        outputs = model.get_outputs_for_camera(cameras[i : i + 1].to(model.device))
        frames.append({k: outputs[k].detach().cpu().numpy() for k in keys if k in outputs})
    return frames
