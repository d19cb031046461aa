"""Camera poses and intrinsics for generated views: the one place that turns angles into poses.

Conventions (shared by every dataset this package writes):

- World: right-handed, **+z up**, the object at the origin.
- A view is given by (azimuth, elevation, radius). The camera centre is
  ``r * (cos(el) cos(az), cos(el) sin(az), sin(el))``.
- **Azimuth 0 is the input image's viewpoint**, on the **+x** axis. Azimuth grows **counter-clockwise seen from above**
  (looking down -z): azimuth 90 deg puts the camera on +y. This is SyncDreamer's convention (``camera-16.pkl``: view 0
  at +x, view 4 at +y). SV3D does not state a direction; we use the same one.
- **Elevation > 0 puts the camera above the object** (SV3D: ``polar = 90 - elevation``; SyncDreamer: 30 deg).
- Poses are camera-to-world in nerfstudio's OpenGL axes (``c2w_gl``): camera x right, y up, z back, so the camera
  looks down its -z axis at the origin, and world +z projects upwards in the image. gsplat wants OpenCV
  world-to-camera matrices; see ``splatcore.cameras.viewmat_from_c2w_gl``.

Orbit presets:

- ``sv3d_orbits``: RIGI's three SV3D orbits of 21 frames. SV3D's reference sampler puts frame i at azimuth
  ``360 (i + 1) / 21`` (mod 360), so the last frame is the input view (azimuth 0); elevation ``A sin(azimuth)`` with
  amplitudes 0, -20, 40 deg, FOV 33.8 deg, radius 4.0. The orbit index is the order the RIGI trainer adds them.
- ``syncdreamer_views``: SyncDreamer's 16 views, azimuth ``22.5 k`` from the input view, elevation 30 deg, radius
  1.5, focal 280 px at 256 x 256 (FOV 49.13 deg).
- ``rigi_eval_views``: RIGI's evaluation protocol, 36 views every 10 deg of azimuth with elevations drawn uniformly
  from [-40, 60] deg with a fixed seed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from jaxtyping import Float

SV3D_FOV_DEG = 33.8
"""SV3D's field of view (Stability's answer in the SV3D model discussion)."""
SV3D_RADIUS = 4.0
"""Camera distance RIGI uses for SV3D orbits (it only sets the world scale)."""
SV3D_FRAMES_PER_ORBIT = 21
"""Frames SV3D generates per orbit."""
SV3D_AMPLITUDES_DEG = (0.0, -20.0, 40.0)
"""RIGI's elevation amplitudes, in the order the orbits enter training."""
SYNCDREAMER_FOV_DEG = math.degrees(2.0 * math.atan(128.0 / 280.0))
"""SyncDreamer's field of view: focal 280 px at 256 x 256 (49.13 deg)."""
SYNCDREAMER_RADIUS = 1.5
"""SyncDreamer's camera distance."""
SYNCDREAMER_ELEVATION_DEG = 30.0
"""SyncDreamer's elevation of all 16 views."""
SYNCDREAMER_NUM_VIEWS = 16
"""Views per SyncDreamer sample (azimuth step 22.5 deg)."""
RIGI_EVAL_ELEVATION_RANGE_DEG = (-40.0, 60.0)
"""Range of RIGI's random evaluation elevations."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, as the dataset's top-level ``fl_x fl_y cx cy w h``."""

    fl_x: float
    """Focal length along x in pixels."""
    fl_y: float
    """Focal length along y in pixels."""
    cx: float
    """Principal point x in pixels (pixel centres at +0.5)."""
    cy: float
    """Principal point y in pixels."""
    w: int
    """Image width in pixels."""
    h: int
    """Image height in pixels."""

    def to_dict(self) -> dict:
        """JSON-ready ``{"fl_x": ..., "w": ...}``."""
        d = asdict(self)
        return {k: (int(v) if k in ("w", "h") else float(v)) for k, v in d.items()}

    def K(self) -> Float[np.ndarray, "3 3"]:
        """The 3x3 pinhole matrix (OpenCV pixel convention)."""
        return np.array([[self.fl_x, 0.0, self.cx], [0.0, self.fl_y, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera at another image size (e.g. a converter resizing frames)."""
        sx, sy = width / self.w, height / self.h
        return Intrinsics(self.fl_x * sx, self.fl_y * sy, self.cx * sx, self.cy * sy, int(width), int(height))


@dataclass(frozen=True)
class OrbitView:
    """One camera of an orbit preset."""

    azimuth_deg: float
    """Azimuth in degrees, 0 = input view, counter-clockwise seen from +z; in [0, 360)."""
    elevation_deg: float
    """Elevation in degrees, > 0 = above the object."""
    radius: float
    """Distance from the origin."""
    orbit: int
    """Orbit index (0 = trained first); -1 for views that belong to no orbit (evaluation views)."""
    index: int
    """Position of the view within its orbit / preset (the generator's frame or view number)."""


def intrinsics_from_fov(fov_deg: float, width: int, height: int) -> Intrinsics:
    """Pinhole intrinsics from a horizontal field of view, square pixels, principal point at the image centre.

    Args:
        fov_deg: horizontal field of view in degrees, in (0, 180).
        width: image width in pixels.
        height: image height in pixels.
    """
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"fov_deg={fov_deg}: must be in (0, 180) degrees")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height}: width and height must be positive")
    focal = 0.5 * width / math.tan(math.radians(fov_deg) / 2.0)
    return Intrinsics(focal, focal, width / 2.0, height / 2.0, int(width), int(height))


def c2w_gl_from_spherical(azimuth_deg, elevation_deg, radius) -> Float[np.ndarray, "*batch 4 4"]:
    """Camera-to-world (OpenGL axes) of a camera on a sphere looking at the origin with world +z up in the image.

    Closed form, no singularity at the poles: right = (-sin az, cos az, 0), back = centre / r,
    up = back x right.

    Args:
        azimuth_deg: [*batch] azimuth in degrees (see module docstring), broadcast with the others.
        elevation_deg: [*batch] elevation in degrees.
        radius: [*batch] distance to the origin (> 0).

    Returns:
        [*batch, 4, 4] float64 camera-to-world matrices.
    """
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    r = np.asarray(radius, dtype=np.float64)
    if np.any(r <= 0) or not np.all(np.isfinite(r)):
        raise ValueError(f"radius={radius}: must be positive and finite")
    az, el, r = np.broadcast_arrays(az, el, r)
    back = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
    right = np.stack([-np.sin(az), np.cos(az), np.zeros_like(az)], axis=-1)
    up = np.cross(back, right)
    c2w = np.zeros(az.shape + (4, 4), dtype=np.float64)
    c2w[..., :3, 0] = right
    c2w[..., :3, 1] = up
    c2w[..., :3, 2] = back
    c2w[..., :3, 3] = back * r[..., None]
    c2w[..., 3, 3] = 1.0
    return c2w


def spherical_from_c2w_gl(c2w_gl: Float[np.ndarray, "*batch 4 4"]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of ``c2w_gl_from_spherical`` for the camera centre: (azimuth_deg in [0, 360), elevation_deg, radius)."""
    centre = np.asarray(c2w_gl, dtype=np.float64)[..., :3, 3]
    radius = np.linalg.norm(centre, axis=-1)
    azimuth = np.degrees(np.arctan2(centre[..., 1], centre[..., 0])) % 360.0
    elevation = np.degrees(np.arcsin(np.clip(centre[..., 2] / np.maximum(radius, 1e-12), -1.0, 1.0)))
    return azimuth, elevation, radius


def turntable_c2w_gl(num_frames: int, elevation_deg: float, radius: float) -> Float[np.ndarray, "num_frames 4 4"]:
    """``num_frames`` poses evenly spaced in azimuth (frame k at ``360 k / num_frames`` deg, from the input view) at
    one elevation and radius, looking at the origin: a turntable orbit."""
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}: must be at least 1")
    azimuths = np.arange(num_frames) * 360.0 / num_frames
    return c2w_gl_from_spherical(azimuths, np.full(num_frames, float(elevation_deg)), radius)


def sv3d_azimuths_deg(frames_per_orbit: int = SV3D_FRAMES_PER_ORBIT) -> np.ndarray:
    """SV3D's reference azimuths: frame i at ``360 (i + 1) / n`` mod 360, so the last frame is the input (0 deg)."""
    return (360.0 * (np.arange(frames_per_orbit) + 1) / frames_per_orbit) % 360.0


def sv3d_orbits(
    amplitudes_deg: tuple[float, ...] = SV3D_AMPLITUDES_DEG,
    frames_per_orbit: int = SV3D_FRAMES_PER_ORBIT,
    radius: float = SV3D_RADIUS,
) -> list[OrbitView]:
    """RIGI's SV3D orbits: ``len(amplitudes_deg) * frames_per_orbit`` views (63 by default).

    Orbit k has elevation ``amplitudes_deg[k] * sin(azimuth)``; views are ordered orbit by orbit, frame by frame.
    """
    if frames_per_orbit < 1:
        raise ValueError(f"frames_per_orbit={frames_per_orbit}: must be at least 1")
    azimuths = sv3d_azimuths_deg(frames_per_orbit)
    views = []
    for orbit, amplitude in enumerate(amplitudes_deg):
        for index, azimuth in enumerate(azimuths):
            elevation = float(amplitude) * math.sin(math.radians(azimuth))
            views.append(OrbitView(float(azimuth), elevation, float(radius), orbit, index))
    return views


def syncdreamer_views(
    elevation_deg: float = SYNCDREAMER_ELEVATION_DEG, radius: float = SYNCDREAMER_RADIUS
) -> list[OrbitView]:
    """SyncDreamer's 16 views: azimuth ``22.5 k`` (view 0 = input azimuth), one elevation, one radius; orbit 0."""
    step = 360.0 / SYNCDREAMER_NUM_VIEWS
    return [OrbitView(k * step, float(elevation_deg), float(radius), 0, k) for k in range(SYNCDREAMER_NUM_VIEWS)]


def rigi_eval_views(seed: int = 0, radius: float = SV3D_RADIUS, count: int = 36) -> list[OrbitView]:
    """RIGI's evaluation views: azimuth every ``360 / count`` deg, elevation ~ U[-40, 60] deg (seeded); orbit -1."""
    if count < 1:
        raise ValueError(f"count={count}: must be at least 1")
    low, high = RIGI_EVAL_ELEVATION_RANGE_DEG
    elevations = np.random.default_rng(seed).uniform(low, high, size=count)
    step = 360.0 / count
    return [OrbitView(k * step, float(elevations[k]), float(radius), -1, k) for k in range(count)]
