"""Gaussian assets from elsewhere: 3DGS PLYs of any common property layout, `.splat` files, folders of either.

Beyond `splatcore.ply` (our own float32 layout) this reads any binary little-endian PLY with the 3DGS property names
whatever their scalar types, in any order, and the colour layout some exporters write instead of SH
(``uchar red green blue``, e.g. nerfstudio's ``--ply-color-mode rgb``): that colour becomes SH DC, so every
viewer reads it. Problems raise `UserError` naming the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datagen.user_errors import UserError
from splatcore.ply import SplatPly
from splatcore.splat_format import SH_C0, read_splat

PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "<i2", "int16": "<i2", "ushort": "<u2",
    "uint16": "<u2", "int": "<i4", "int32": "<i4", "uint": "<u4", "uint32": "<u4", "float": "<f4", "float32": "<f4",
    "double": "<f8", "float64": "<f8",
}  # fmt: skip
_VERTICAL = re.compile(r"^comment\s+vertical axis:\s*(-?[xyz])\s*$", re.IGNORECASE)


@dataclass
class AssetFile:
    """One file's Gaussians and what its header says about its up axis (None: nothing)."""

    path: Path
    splats: SplatPly
    vertical_axis: str | None


def read_ply_any(path: Path) -> AssetFile:
    """Read a binary little-endian 3DGS PLY whatever its property types; colour from f_dc_* or red/green/blue."""
    path = Path(path)
    with open(path, "rb") as f:
        if f.readline().strip() != b"ply":
            raise UserError(f"{path}: not a PLY file (the first line is not 'ply')")
        fields: list[tuple[str, str]] = []
        count, vertical, element = -1, None, None
        while True:
            line = f.readline()
            if not line:
                raise UserError(f"{path}: the PLY header has no 'end_header' line")
            text = line.decode("ascii", errors="replace").strip()
            words = text.split()
            if words[:1] == ["format"] and words[1:2] != ["binary_little_endian"]:
                raise UserError(
                    f"{path}: PLY format {' '.join(words[1:2])} is not supported; save it as binary_little_endian"
                )
            match = _VERTICAL.match(text)
            if match:
                vertical = match.group(1).lower()
            if words[:1] == ["element"]:
                element = words[1]
                if element == "vertex":
                    count = int(words[2])
            elif words[:1] == ["property"] and element == "vertex":
                if words[1] == "list" or words[1] not in PLY_TYPES:
                    raise UserError(f"{path}: vertex property {words[-1]!r} has type {words[1]!r}; expected scalars")
                fields.append((words[2], PLY_TYPES[words[1]]))
            elif words[:1] == ["end_header"]:
                break
        if count < 0:
            raise UserError(f"{path}: the PLY has no 'element vertex' line")
        dtype = np.dtype(fields)
        raw = f.read(count * dtype.itemsize)
    if len(raw) < count * dtype.itemsize:
        raise UserError(f"{path}: the PLY is truncated ({len(raw)} of {count * dtype.itemsize} vertex bytes)")
    data = np.frombuffer(raw, dtype, count)
    names = set(dtype.names or ())

    def take(*keys: str) -> np.ndarray:
        missing = [k for k in keys if k not in names]
        if missing:
            raise UserError(f"{path}: the PLY lacks the 3DGS properties {missing}; is it a Gaussian splat file?")
        return np.stack([data[k].astype(np.float32) for k in keys], axis=1)

    if {"f_dc_0", "f_dc_1", "f_dc_2"} <= names:
        sh_dc = take("f_dc_0", "f_dc_1", "f_dc_2")
    elif {"red", "green", "blue"} <= names:
        colour = take("red", "green", "blue")
        if data["red"].dtype.kind in "ui":  # integer colours are 0..255
            colour = colour / 255.0
        sh_dc = ((colour - 0.5) / SH_C0).astype(np.float32)
    else:
        raise UserError(f"{path}: the PLY has neither f_dc_0..2 nor red/green/blue colour properties")
    num_rest = sum(1 for name in names if name.startswith("f_rest_")) // 3
    rest = take(*[f"f_rest_{i}" for i in range(3 * num_rest)]) if num_rest else np.zeros((count, 0), np.float32)
    splats = SplatPly(
        means=take("x", "y", "z"),
        sh_dc=sh_dc,
        sh_rest=rest.reshape(count, 3, num_rest).transpose(0, 2, 1).copy(),  # channel-major in the file
        opacity_logits=take("opacity")[:, 0],
        log_scales=take("scale_0", "scale_1", "scale_2"),
        quats=take("rot_0", "rot_1", "rot_2", "rot_3"),
    )
    _check_finite(path, splats)
    return AssetFile(path, splats, vertical)


def _check_finite(path: Path, splats: SplatPly) -> None:
    for name in ("means", "sh_dc", "opacity_logits", "log_scales", "quats"):
        if not np.all(np.isfinite(getattr(splats, name))):
            raise UserError(f"{path}: {name} holds NaN or infinite values")


def read_asset_file(path: Path) -> AssetFile:
    """A `.ply` or `.splat` file (a `.splat` file is −y up by its ecosystem's convention)."""
    path = Path(path)
    if path.suffix.lower() == ".ply":
        return read_ply_any(path)
    if path.suffix.lower() == ".splat":
        try:
            return AssetFile(path, read_splat(path), "-y")
        except ValueError as error:
            raise UserError(str(error)) from error
    raise UserError(f"{path}: expected a .ply or .splat file")


def read_asset_folder(folder: Path) -> tuple[list[AssetFile], list[float] | None]:
    """The .ply/.splat files of `folder` in name order, and their times from `times.json` if it lists them all."""
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"--input {folder} does not exist")
    paths = (
        [folder] if folder.is_file() else sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ply", ".splat"))
    )
    if not paths:
        raise UserError(f"--input {folder} holds no .ply or .splat files")
    files = [read_asset_file(p) for p in paths]
    times = None
    manifest = folder / "times.json" if folder.is_dir() else None
    if manifest is not None and manifest.is_file():
        try:
            listed = json.loads(manifest.read_text())
            times = [float(listed[p.name]["time"]) for p in paths]
        except (ValueError, KeyError, TypeError) as error:
            raise UserError(f"{manifest}: expected {{file name: {{'time': t}}}} for every file ({error!r})") from error
    return files, times
