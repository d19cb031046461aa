"""The compact `.splat` format that web splat viewers load (gsplat.js, SuperSplat, antimatter15's viewer, Spark).

No header; 32 bytes per Gaussian, little-endian:

    position  3 × float32   centre
    scale     3 × float32   standard deviations (not logs)
    rgba      4 × uint8     colour = clip(0.5 + C0 · sh_dc) · 255, alpha = sigmoid(opacity) · 255
    rot       4 × uint8     unit quaternion w, x, y, z, each stored as round(q · 128 + 128) clipped to 0..255

Rows are sorted by exp(Σ log scale) · opacity, largest first: viewers that stream the file show the big, opaque
splats first. The format has no view-dependent colour: only the SH DC term is kept. The world convention of the
`.splat` ecosystem is INRIA/COLMAP's (−y up); orient the Gaussians with `splatcore.orient` before writing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from splatcore.atomic import atomic_file
from splatcore.ply import SplatPly
from splatcore.sh import SH_C0

ROW_BYTES = 32
SPLAT_DTYPE = np.dtype(
    [("position", "<f4", (3,)), ("scale", "<f4", (3,)), ("rgba", "u1", (4,)), ("rot", "u1", (4,))], align=False
)
assert SPLAT_DTYPE.itemsize == ROW_BYTES


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free for large |x|


def splat_rows(splats: SplatPly) -> np.ndarray:
    """The Gaussians as sorted `.splat` rows (structured array of `SPLAT_DTYPE`, shape [N]).

    Quaternions are normalised here (exports may carry norms away from 1, which the uint8 encoding would clip).
    """
    n = splats.count
    log_scales = np.asarray(splats.log_scales, np.float64)
    opacity = _sigmoid(np.asarray(splats.opacity_logits, np.float64))
    quats = np.asarray(splats.quats, np.float64)
    norms = np.linalg.norm(quats, axis=1, keepdims=True)
    if n and not np.all(norms > 0):
        raise ValueError("a Gaussian has a zero quaternion; cannot write it to .splat")
    quats = quats / np.where(norms > 0, norms, 1.0)
    order = np.argsort(-(np.exp(log_scales.sum(axis=1)) * opacity), kind="stable")
    rows = np.zeros(n, SPLAT_DTYPE)
    rows["position"] = np.asarray(splats.means, np.float32)
    rows["scale"] = np.exp(log_scales).astype(np.float32)
    colour = np.clip(0.5 + SH_C0 * np.asarray(splats.sh_dc, np.float64), 0.0, 1.0)
    rows["rgba"][:, :3] = np.round(colour * 255.0)
    rows["rgba"][:, 3] = np.round(opacity * 255.0)
    rows["rot"] = np.clip(np.round(quats * 128.0 + 128.0), 0, 255)
    return rows[order]


def write_splat(path: Path, splats: SplatPly) -> Path:
    """Write `splats` as a `.splat` file, atomically. Returns the path."""
    rows = splat_rows(splats)
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_bytes(rows.tobytes())
    return path


def read_splat(path: Path) -> SplatPly:
    """Read a `.splat` file back into PLY-ready arrays (colour as SH DC, no higher SH bands).

    The values are the quantised ones: colour and alpha to 1/255, quaternion components to 1/128.
    """
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) % ROW_BYTES:
        raise ValueError(f"{path}: {len(raw)} bytes is not a multiple of {ROW_BYTES}; not a .splat file")
    rows = np.frombuffer(raw, SPLAT_DTYPE)
    n = rows.shape[0]
    rgba = rows["rgba"].astype(np.float64) / 255.0
    alpha = np.clip(rgba[:, 3], 0.5 / 255.0, 1.0 - 0.5 / 255.0)  # 0 and 255 have no finite logit
    scales = rows["scale"].astype(np.float64)
    if n and not np.all(scales > 0):
        raise ValueError(f"{path}: a Gaussian has a non-positive scale; not a valid .splat file")
    return SplatPly(
        means=rows["position"].astype(np.float32),
        sh_dc=((rgba[:, :3] - 0.5) / SH_C0).astype(np.float32),
        sh_rest=np.zeros((n, 0, 3), np.float32),
        opacity_logits=np.log(alpha / (1.0 - alpha)).astype(np.float32),
        log_scales=np.log(scales).astype(np.float32),
        quats=((rows["rot"].astype(np.float64) - 128.0) / 128.0).astype(np.float32),
    )
