"""Which way SV3D turns: the camera angles fed to SV3D for RIGI's orbits, and the dataset angles they stand for.

SV3D (``sv3d_p``) is conditioned per frame on ``polar = 90 deg - elevation`` and an azimuth measured from the input
view; Stability's sampling script puts frame ``i`` of ``n`` at ``360 (i + 1) / n`` (mod 360), so the last frame is
the input view. ``datagen.cameras`` measures azimuth counter-clockwise seen from +z (above). Whether SV3D's
+azimuth turns the same way is not stated by Stability; the evidence gathered:

- Stability's sampling code (generative-models at 0ad7de9: ``scripts/sampling/simple_video_sample.py``,
  ``sv3d_p.yaml``, ``sgm``): the angles enter only as raw radians in sinusoid embeddings; no pose or axis is
  defined there.
- Stability's own camera-trajectory plot for SV3D (same commit, ``scripts/demo/sv3d_helpers.py: plot_3D``, shown by
  the streamlit demo ``scripts/demo/video_sampling.py`` as "3D camera trajectory") places frame i's camera at
  ``(cos el cos az, cos el sin az, sin el)`` in a z-up right-handed matplotlib frame: +azimuth is
  counter-clockwise seen from +z, exactly ``datagen.cameras``' convention. It is a drawing, not the training
  renderer, but it is the authors' own statement of the orbit.
- Stability staff in the model's discussion (HF stabilityai/sv3d #3, #4): FOV 33.8 deg, orbits sorted by azimuth;
  no direction. We found no public copy of the script that rendered the training orbits.
- chenguolin/sv3d-diffusers ``infer.py``: the same azimuth formula; no direction.
- A public script built on sv3d-diffusers that feeds SV3D frames to LGM generates 20 frames
  and hands frames 19, 4, 9, 14 (SV3D azimuth 0, 90, 180, 270) to LGM as its views at kiui ``orbit_camera``
  azimuth 0, 90, 180, 270. kiui's camera is ``(sin az, ., cos az)`` in (x, y-up, z): +azimuth turns +z towards +x,
  a positive turn about the up axis, i.e. counter-clockwise seen from above. LGM's four views must match those
  cameras, so that pipeline only works if SV3D's +azimuth is counter-clockwise seen from above.

Conclusion: +1 (SV3D's +azimuth = ``datagen.cameras``' +azimuth, counter-clockwise seen from +z): the authors'
trajectory plot and the one third-party pipeline agree. It has not been checked with the real weights here. ``SV3D_AZIMUTH_SIGN`` is
the single switch to flip if a reconstruction from real frames prefers the mirror orbit (the frames are then
re-assigned to cameras; the order SV3D samples in is unchanged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from datagen.cameras import OrbitView, sv3d_orbits

SV3D_AZIMUTH_SIGN = 1
"""+1: SV3D's +azimuth is counter-clockwise seen from +z, as in ``datagen.cameras``; -1: clockwise (mirror)."""


@dataclass(frozen=True)
class OrbitFrame:
    """One frame of one SV3D call: what SV3D is told, and which dataset camera the frame is for."""

    polar_rad: float
    """SV3D's polar angle, ``radians(90 - elevation)``."""
    azimuth_rad: float
    """SV3D's azimuth from the input view, in [0, 2 pi)."""
    view: OrbitView
    """The camera in ``datagen.cameras`` conventions."""


def orbit_frames(
    amplitudes_deg: tuple[float, ...], frames_per_orbit: int, sign: int = SV3D_AZIMUTH_SIGN
) -> list[list[OrbitFrame]]:
    """RIGI's orbits as SV3D calls: one list per orbit, in the order SV3D samples its frames.

    SV3D's frames go round by increasing SV3D azimuth ``360 (i + 1) / n`` and end on the input view (0). With
    ``sign = -1`` frame i is the dataset view at ``-360 (i + 1) / n``, so the orbit is walked backwards.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign={sign}: must be +1 or -1")
    views = sv3d_orbits(amplitudes_deg, frames_per_orbit)
    reference = np.linspace(0, 360, frames_per_orbit + 1)[1:] % 360  # Stability's script, then relative to the last
    sv3d_deg = (reference - reference[-1]) % 360
    orbits: list[list[OrbitFrame]] = []
    for orbit in range(len(amplitudes_deg)):
        ring = [v for v in views if v.orbit == orbit]
        frames = []
        for azimuth in sv3d_deg:
            target = (sign * azimuth) % 360.0
            view = min(ring, key=lambda v: abs((v.azimuth_deg - target + 180.0) % 360.0 - 180.0))
            frames.append(OrbitFrame(math.radians(90.0 - view.elevation_deg), float(np.deg2rad(azimuth)), view))
        orbits.append(frames)
    return orbits
