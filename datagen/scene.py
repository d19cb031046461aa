"""Sanity of a dataset's scene: focal lengths a renderer can use, the object (at the origin) inside the images, and
an object extent from the generator record that fits the cameras.

Pure numpy on parsed values, shared by ``datagen validate`` and the `generated-data` dataparser so that both judge a
dataset the same way.
"""

from __future__ import annotations

import math

import numpy as np
from jaxtyping import Float

MIN_FOV_DEG = 0.1
"""Narrowest field of view accepted: below it the projection's float32 arithmetic loses the image."""
MAX_FOV_DEG = 170.0
"""Widest field of view accepted for a pinhole camera (180 degrees needs an infinite image plane)."""
MIN_EXTENT_FRACTION = 0.01
"""A recorded object extent below this fraction of the nearest camera distance would be under a pixel or two."""
DEFAULT_EXTENT_3D = 1.0
"""Scene-box half-size when the generator records no object extent (SV3D framing: the object fits radius ~1)."""
DEFAULT_EXTENT_4D = 0.5
"""Scene-box half-size for time x view datasets without a recorded extent (SyncDreamer's volume is [-0.5, 0.5]^3)."""


def _positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def fov_problem(focal_px: float, size_px: float, key: str) -> str | None:
    """Why a focal length cannot be rendered (None if it can): the field of view it gives must be in
    [MIN_FOV_DEG, MAX_FOV_DEG]."""
    fov_deg = math.degrees(2.0 * math.atan(size_px / (2.0 * focal_px)))
    if MIN_FOV_DEG <= fov_deg <= MAX_FOV_DEG:
        return None
    return (
        f"{key}={focal_px:g} px gives a {fov_deg:.3g} degree field of view over {size_px:g} px; a renderable pinhole "
        f"camera has {MIN_FOV_DEG:g} to {MAX_FOV_DEG:g} degrees (focal length in pixels = size / (2 tan(fov / 2)))"
    )


def origin_in_image(
    c2w_gl: Float[np.ndarray, "N 4 4"],
    fl_x: Float[np.ndarray, " N"],
    fl_y: Float[np.ndarray, " N"],
    cx: Float[np.ndarray, " N"],
    cy: Float[np.ndarray, " N"],
    w: Float[np.ndarray, " N"],
    h: Float[np.ndarray, " N"],
) -> np.ndarray:
    """Whether the world origin (the object's centre) projects inside each image, in front of its camera.

    Returns:
        [N] bool.
    """
    origin_cam_gl = np.einsum("nji,nj->ni", c2w_gl[:, :3, :3], -c2w_gl[:, :3, 3])  # R^T (0 - t)
    depth = -origin_cam_gl[:, 2]  # OpenGL cameras look down -z
    safe = np.where(depth > 0, depth, 1.0)
    u = fl_x * origin_cam_gl[:, 0] / safe + cx
    v = -fl_y * origin_cam_gl[:, 1] / safe + cy  # image rows grow downwards, OpenGL y points up
    return (depth > 0) & (u >= 0) & (u <= w) & (v >= 0) & (v <= h)


def recorded_extent(generator) -> float | None:
    """The object extent a generator record states, read only where it has the expected type.

    The record is free-form by contract: ``object_extent`` (a number) or ``object.radius`` (``object`` a mapping,
    ``radius`` a number); anything else, e.g. ``"object": "cup"``, is ignored.
    """
    if not isinstance(generator, dict):
        return None
    candidates = [generator.get("object_extent")]
    described = generator.get("object")
    if isinstance(described, dict):
        candidates.append(described.get("radius"))
    return next((float(v) for v in candidates if v is not None and _positive_number(v)), None)


def scene_extent(generator, nearest_camera_distance: float, has_time: bool) -> tuple[float, str | None]:
    """Half-size of the scene box, and a note when the recorded extent was set aside.

    The recorded extent is used when it lies in ``[MIN_EXTENT_FRACTION, 1)`` times the nearest camera's distance
    from the origin (the cameras must be outside the object, and the object must not vanish); otherwise the
    layout's default, capped at half the nearest camera distance.

    Args:
        generator: the dataset's free-form ``generator`` record.
        nearest_camera_distance: smallest distance of a camera centre from the origin.
        has_time: a time x view dataset (its default extent is SyncDreamer's).
    """
    default = DEFAULT_EXTENT_4D if has_time else DEFAULT_EXTENT_3D
    if nearest_camera_distance > 0:
        default = min(default, 0.5 * nearest_camera_distance)
    extent = recorded_extent(generator)
    if extent is None:
        return default, None
    if MIN_EXTENT_FRACTION * nearest_camera_distance <= extent < nearest_camera_distance:
        return extent, None
    return default, (
        f"the generator record's object extent {extent:g} does not fit cameras at distance "
        f"{nearest_camera_distance:g} from the object (it must be between {MIN_EXTENT_FRACTION:g}x and 1x that "
        f"distance); using {default:g} instead for the scene box and the initial Gaussians"
    )
