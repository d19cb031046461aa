"""Standard 3D Gaussian splatting PLY files (the layout of the original 3DGS code, read by common splat viewers).

Binary little-endian float32 vertices with the properties, in order:
``x y z nx ny nz f_dc_0..2 f_rest_0..(3K-1) opacity scale_0..2 rot_0..3``, where ``f_rest`` is stored channel-major
(all K coefficients of red, then green, then blue), ``opacity`` is a logit, ``scale_*`` are log standard deviations
and ``rot_*`` a wxyz quaternion.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from splatcore.atomic import atomic_file


@dataclass
class SplatPly:
    """Gaussians as stored in a PLY file (float32 numpy arrays)."""

    means: np.ndarray
    """[N, 3] centres."""
    sh_dc: np.ndarray
    """[N, 3] degree-0 SH coefficients (colour = 0.5 + C0 · sh_dc)."""
    sh_rest: np.ndarray
    """[N, K, 3] higher-order SH coefficients (K may be 0)."""
    opacity_logits: np.ndarray
    """[N] opacities before the sigmoid."""
    log_scales: np.ndarray
    """[N, 3] log standard deviations."""
    quats: np.ndarray
    """[N, 4] rotations, wxyz (not necessarily normalised)."""

    @property
    def count(self) -> int:
        return int(self.means.shape[0])


def _property_names(num_rest: int) -> list[str]:
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(3 * num_rest)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


def write_splat_ply(path: Path, splats: SplatPly, vertical_axis: str | None = None) -> Path:
    """Write `splats` to `path` atomically (temporary sibling file, then rename). Returns the path.

    `vertical_axis` ("z", "y", "-y"), when given, is recorded as nerfstudio's ``comment Vertical Axis: ...`` line.
    """
    n = splats.count
    shapes = {
        "means": (n, 3),
        "sh_dc": (n, 3),
        "opacity_logits": (n,),
        "log_scales": (n, 3),
        "quats": (n, 4),
    }
    for name, shape in shapes.items():
        if getattr(splats, name).shape != shape:
            raise ValueError(f"SplatPly.{name} has shape {getattr(splats, name).shape}, expected {shape}")
    if splats.sh_rest.ndim != 3 or splats.sh_rest.shape[0] != n or splats.sh_rest.shape[2] != 3:
        raise ValueError(f"SplatPly.sh_rest has shape {splats.sh_rest.shape}, expected [{n}, K, 3]")
    num_rest = splats.sh_rest.shape[1]
    columns = [
        splats.means,
        np.zeros((n, 3), np.float32),
        splats.sh_dc,
        splats.sh_rest.transpose(0, 2, 1).reshape(n, -1),  # channel-major, as 3DGS writes it
        splats.opacity_logits[:, None],
        splats.log_scales,
        splats.quats,
    ]
    data = np.ascontiguousarray(np.concatenate([np.asarray(c, np.float32) for c in columns], axis=1), "<f4")
    header = "ply\nformat binary_little_endian 1.0\n"
    if vertical_axis is not None:
        header += f"comment Vertical Axis: {vertical_axis}\n"
    header += f"element vertex {n}\n"
    header += "".join(f"property float {name}\n" for name in _property_names(num_rest)) + "end_header\n"
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_bytes(header.encode("ascii") + data.tobytes())
    return path


def read_splat_ply(path: Path) -> SplatPly:
    """Read a binary little-endian float32 3DGS PLY written by `write_splat_ply` (or the original 3DGS code)."""
    path = Path(path)
    with open(path, "rb") as f:
        if f.readline().strip() != b"ply":
            raise ValueError(f"{path}: not a PLY file (first line is not 'ply')")
        names: list[str] = []
        count = -1
        while True:
            line = f.readline()
            if not line:
                raise ValueError(f"{path}: PLY header has no 'end_header'")
            words = line.decode("ascii").split()
            if words[:1] == ["format"] and words[1] != "binary_little_endian":
                raise ValueError(f"{path}: format {words[1]} not supported; expected binary_little_endian")
            if words[:2] == ["element", "vertex"]:
                count = int(words[2])
            elif words[:1] == ["property"]:
                if words[1] != "float":
                    raise ValueError(f"{path}: property {words[-1]} is {words[1]}; only float is supported")
                names.append(words[2])
            elif words[:1] == ["end_header"]:
                break
        data = np.frombuffer(f.read(count * len(names) * 4), dtype="<f4").reshape(count, len(names))
    col = {name: i for i, name in enumerate(names)}

    def take(*keys: str) -> np.ndarray:
        missing = [k for k in keys if k not in col]
        if missing:
            raise ValueError(f"{path}: PLY lacks properties {missing}")
        return data[:, [col[k] for k in keys]].astype(np.float32)

    num_rest = sum(1 for name in names if name.startswith("f_rest_")) // 3
    rest = take(*[f"f_rest_{i}" for i in range(3 * num_rest)]) if num_rest else np.zeros((count, 0), np.float32)
    return SplatPly(
        means=take("x", "y", "z"),
        sh_dc=take("f_dc_0", "f_dc_1", "f_dc_2"),
        sh_rest=rest.reshape(count, 3, num_rest).transpose(0, 2, 1).copy(),
        opacity_logits=take("opacity")[:, 0],
        log_scales=take("scale_0", "scale_1", "scale_2"),
        quats=take("rot_0", "rot_1", "rot_2", "rot_3"),
    )
