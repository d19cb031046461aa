"""Write the page: index.html, viewer.js/css, the vendored gsplat.js with its licence, manifest.json, .splat files.

Layout of DIR:
    index.html, viewer.js, viewer.css   the page (static: any local web server serves it; no network needed)
    vendor/gsplat/                      gsplat.js (MIT) from npm: index.es.js, LICENSE, package.json, VERSION
    manifest.json                       name, frames (file, time, count), up axis, starting view
    frames/t000.splat ...               one `.splat` file per time (32 bytes per Gaussian)

One `.splat` file per time rather than one file for all: the first time shows as soon as its file arrives, the
others stream in behind it, and each file is a standard `.splat` that other viewers open on its own. The page
rotates the files' up axis onto gsplat.js's −y, so it shows the asset upright whichever `up` the files use.
"""

from __future__ import annotations

import html
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from splatcore.atomic import atomic_file
from splatcore.orient import UpAxis, quat_multiply, reorient_splats, up_quaternion, up_rotation
from splatcore.ply import SplatPly
from splatcore.splat_format import write_splat

ASSETS = Path(__file__).parent / "assets"
VIEWER_FILES = ("viewer.js", "viewer.css")
VENDOR_DIR = "vendor/gsplat"
FOV_DEG = 40.0
"""Vertical field of view of the page's camera."""
START_AZIMUTH_DEG = 0.0
"""The page opens looking from azimuth 0 (+x of the dataset, the input view), ..."""
START_ELEVATION_DEG = 15.0
"""... a little above the object."""
BACKGROUND = (24, 24, 28)
"""Page background (sRGB 0..255)."""


@dataclass
class Frame:
    """One time of the asset: its Gaussians with their up axis, and its time (0 for a 3D asset)."""

    splats: SplatPly
    time: float = 0.0


def _framing(frames: list[SplatPly], up: UpAxis) -> dict:
    """Where the page's orbit camera starts: target, radius, angles (gsplat.js's OrbitControls, −y up world)."""
    points = (
        np.concatenate([np.asarray(f.means, np.float64) for f in frames if f.count])
        if any(f.count for f in frames)
        else np.zeros((1, 3))
    )
    points = points @ (up_rotation("-y") @ up_rotation(up).T).T  # the files' frame → the view's (−y up)
    low, high = np.percentile(points, [1, 99], axis=0)  # a few stray splats should not set the framing
    target = (low + high) / 2
    extent = float(np.percentile(np.linalg.norm(points - target, axis=1), 99)) if len(points) > 1 else 0.0
    extent = max(extent, 1e-3)
    radius = 1.4 * extent / math.sin(math.radians(FOV_DEG) / 2)  # the bounding sphere fits, with a margin
    # OrbitControls: camera = target + r (sin α cos β, −sin β, −cos α cos β); azimuth 0 (+x) is α = π/2
    return {
        "target": target.round(6).tolist(),
        "radius": round(radius, 6),
        "alpha": math.pi / 2 - math.radians(START_AZIMUTH_DEG),
        "beta": math.radians(START_ELEVATION_DEG),
        "fov_deg": FOV_DEG,
    }


def view_rotation_xyzw(up: UpAxis) -> list[float]:
    """The quaternion (x, y, z, w: gsplat.js's order) turning files stored `up`-up onto the view's −y up."""

    inverse = up_quaternion(up) * np.array([1.0, -1.0, -1.0, -1.0])
    w, x, y, z = quat_multiply(up_quaternion("-y"), inverse)
    return [float(x), float(y), float(z), float(w)]


def write_page(
    output_dir: Path,
    frames: list[Frame],
    name: str,
    source_up: UpAxis = "z",
    up: UpAxis = "-y",
    fps: float = 8.0,
) -> Path:
    """Write the page for `frames` (Gaussians stored `source_up`-up) into `output_dir`; the files are `up`-up.

    Returns the path of index.html. Existing frames/ in `output_dir` are replaced.
    """
    if not frames:
        raise ValueError("write_page needs at least one frame")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    frame_dir = output_dir / "frames"
    if frame_dir.exists():
        shutil.rmtree(frame_dir)
    frame_dir.mkdir()
    entries = []
    turned_frames = []
    for i, frame in enumerate(frames):
        turned = reorient_splats(frame.splats, source_up, up)
        turned_frames.append(turned)
        path = write_splat(frame_dir / f"t{i:03d}.splat", turned)
        entries.append({"file": f"frames/{path.name}", "time": float(frame.time), "count": turned.count})
    vendor = output_dir / VENDOR_DIR
    vendor.mkdir(parents=True, exist_ok=True)
    for source in sorted((ASSETS / VENDOR_DIR).iterdir()):
        shutil.copyfile(source, vendor / source.name)
    for file_name in VIEWER_FILES:
        shutil.copyfile(ASSETS / file_name, output_dir / file_name)
    version = (ASSETS / VENDOR_DIR / "VERSION").read_text().splitlines()[0]
    manifest = {
        "name": name,
        "frames": entries,
        "up": up,
        "view_rotation_xyzw": view_rotation_xyzw(up),
        "view": _framing(turned_frames, up),
        "background": list(BACKGROUND),
        "fps": fps,
        "viewer": version,
    }
    with atomic_file(output_dir / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=1))
    page = (ASSETS / "index.html").read_text().replace("{{TITLE}}", html.escape(name))
    with atomic_file(output_dir / "index.html") as tmp:
        tmp.write_text(page)
    return output_dir / "index.html"


def page_size_bytes(output_dir: Path) -> int:
    """Total size of the files under `output_dir` (what a browser downloads, the source map aside)."""
    return sum(p.stat().st_size for p in Path(output_dir).rglob("*") if p.is_file())
