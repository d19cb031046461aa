"""Checks of a dataset directory against the dataset contract; every problem is reported with its file and field.

Works on the raw ``transforms.json`` (not on parsed records) so that it can describe data that cannot be parsed.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from datagen.images import ConvertError, mode_is_decodable, pixels_of
from datagen.pixel_stamp import fingerprint_files, stamp_is_current, write_stamp
from datagen.scene import fov_problem, origin_in_image

TRANSFORMS_NAME = "transforms.json"
BLENDER_SPLIT_FILES = ("transforms_train.json", "transforms_val.json", "transforms_test.json")
MIN_SIDE_PX = 4
"""Smallest image side: training starts at 1/4 resolution, which must keep at least one pixel."""
INTRINSIC_KEYS = ("fl_x", "fl_y", "cx", "cy", "w", "h")
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")
CAMERA_MODELS = ("OPENCV", "PINHOLE")
RIGID_ATOL = 1e-4
"""Tolerance on R^T R = I, det R = 1 and the last row (JSON keeps ~17 digits; generators write float64)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset."""

    file: str
    """The file at fault, relative to the dataset directory (``transforms.json`` or an image)."""
    field: str
    """Where in it, e.g. ``frames[3].transform_matrix`` (empty for the file as a whole)."""
    message: str
    """What is wrong and how to fix it."""

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_transforms_json(data_dir: Path) -> tuple[dict | None, list[Problem]]:
    """Read ``transforms.json``; on failure return None and the problem (JSON errors with line and column)."""
    path = Path(data_dir) / TRANSFORMS_NAME
    if not Path(data_dir).is_dir():
        return None, [Problem(str(data_dir), "", "is not a directory; pass the dataset directory")]
    if not path.is_file():
        if any((Path(data_dir) / name).is_file() for name in BLENDER_SPLIT_FILES):
            return None, [
                Problem(
                    TRANSFORMS_NAME,
                    "",
                    f"missing in {data_dir}, which holds the Blender / NeRF-synthetic layout (transforms_train.json, "
                    f"camera_angle_x); convert it: `datagen convert blender --input {data_dir} --output-dir DIR`, or train "
                    f"nerfstudio's own methods on it with the `blender-data` dataparser",
                )
            ]
        return None, [Problem(TRANSFORMS_NAME, "", f"missing in {data_dir}; is this a dataset directory?")]
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return None, [
            Problem(TRANSFORMS_NAME, "", f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}")
        ]
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(TRANSFORMS_NAME, "", f"cannot be read: {error}")]
    if not isinstance(meta, dict):
        return None, [Problem(TRANSFORMS_NAME, "", "top level must be a JSON object")]
    return meta, []


def _intrinsic_problem(key: str, value) -> str | None:
    """Why one intrinsic value is unusable (None if fine)."""
    if not _is_number(value) or (key in ("fl_x", "fl_y", "w", "h") and value <= 0):
        return f"must be a positive finite number, got {value!r}"
    if key in ("w", "h") and not float(value).is_integer():
        return f"must be a whole number of pixels, got {value!r}"
    if key in ("w", "h") and value < MIN_SIDE_PX:
        return f"{value!r} px is too small to train (training starts at 1/4 resolution); at least {MIN_SIDE_PX} px"
    return None


def _check_intrinsics(meta: dict, frames: list) -> list[Problem]:
    problems = []
    for key in INTRINSIC_KEYS:
        if key in meta:
            reason = _intrinsic_problem(key, meta[key])
            if reason:
                problems.append(Problem(TRANSFORMS_NAME, key, reason))
        elif not frames or not all(isinstance(f, dict) and key in f for f in frames):
            hint = (
                "; this looks like the Blender layout (camera_angle_x): `datagen convert blender` converts it"
                if "camera_angle_x" in meta
                else ""
            )
            problems.append(
                Problem(TRANSFORMS_NAME, key, f"missing intrinsics: set it at the top level (or in every frame){hint}")
            )
    model = meta.get("camera_model", "OPENCV")
    if model not in CAMERA_MODELS:
        problems.append(Problem(TRANSFORMS_NAME, "camera_model", f"{model!r}: must be one of {CAMERA_MODELS}"))
    for key in DISTORTION_KEYS:
        if key in meta and meta[key] != 0:
            problems.append(Problem(TRANSFORMS_NAME, key, f"distortion must be 0 (pinhole data), got {meta[key]!r}"))
    return problems


def _check_transform(field: str, matrix) -> list[Problem]:
    try:
        c2w = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        return [Problem(TRANSFORMS_NAME, field, "must be a 4x4 list of numbers")]
    if c2w.shape != (4, 4):
        return [Problem(TRANSFORMS_NAME, field, f"must be 4x4, got shape {c2w.shape}")]
    if not np.all(np.isfinite(c2w)):
        return [Problem(TRANSFORMS_NAME, field, "contains NaN or infinity")]
    problems = []
    if not np.allclose(c2w[3], [0.0, 0.0, 0.0, 1.0], atol=RIGID_ATOL):
        problems.append(Problem(TRANSFORMS_NAME, field, f"last row must be [0, 0, 0, 1], got {c2w[3].tolist()}"))
    rotation = c2w[:3, :3]
    error = np.abs(rotation.T @ rotation - np.eye(3)).max()
    if error > RIGID_ATOL:
        problems.append(
            Problem(TRANSFORMS_NAME, field, f"not rigid: rotation is not orthonormal (|R^T R - I| = {error:.2g})")
        )
    elif abs(np.linalg.det(rotation) - 1.0) > RIGID_ATOL:
        problems.append(
            Problem(TRANSFORMS_NAME, field, "not rigid: rotation has det -1 (a mirrored camera; flip one axis)")
        )
    return problems


def _check_image(data_dir: Path, file_path: str, check_pixels: bool) -> tuple[tuple[int, int] | None, list[Problem]]:
    """Size of a frame's image, read the way training reads it: decoding every pixel when ``check_pixels``."""
    path = data_dir / file_path
    if not path.is_file():
        hint = ""
        if not Path(file_path).suffix and path.with_name(path.name + ".png").is_file():
            hint = " (file paths without an extension are the Blender layout: `datagen convert blender` converts it)"
        return None, [Problem(file_path, "", f"image missing (named by transforms.json frames[].file_path){hint}")]
    try:
        with Image.open(path) as image:
            size = image.size
            if check_pixels:
                pixels_of(image, file_path)
            elif not mode_is_decodable(image.mode):
                raise ConvertError(f"pixel mode {image.mode!r} has no unambiguous 8-bit reading; save it as RGB(A) PNG")
    except ConvertError as error:
        return None, [Problem(file_path, "", str(error).removeprefix(f"{file_path}: "))]
    except Exception as error:  # PIL raises many types for corrupt files; all mean the same here
        return None, [Problem(file_path, "", f"image unreadable: {error}")]
    return size, []


def _check_frame(index: int, frame, seen: set[str]) -> list[Problem]:
    field = f"frames[{index}]"
    if not isinstance(frame, dict):
        return [Problem(TRANSFORMS_NAME, field, "must be a JSON object")]
    problems = []
    file_path = frame.get("file_path")
    if not isinstance(file_path, str) or not file_path:
        problems.append(Problem(TRANSFORMS_NAME, f"{field}.file_path", "missing or not a string"))
    elif file_path in seen:
        problems.append(Problem(TRANSFORMS_NAME, f"{field}.file_path", f"duplicate file path {file_path!r}"))
    if "transform_matrix" not in frame:
        problems.append(Problem(TRANSFORMS_NAME, f"{field}.transform_matrix", "missing"))
    else:
        problems += _check_transform(f"{field}.transform_matrix", frame["transform_matrix"])
    if "time" in frame:
        time = frame["time"]
        if not _is_number(time) or not 0.0 <= time <= 1.0:
            problems.append(Problem(TRANSFORMS_NAME, f"{field}.time", f"must be a number in [0, 1], got {time!r}"))
    for key in ("view", "orbit"):
        if key in frame and not _is_int(frame[key]):
            problems.append(Problem(TRANSFORMS_NAME, f"{field}.{key}", f"must be an integer, got {frame[key]!r}"))
    for key in ("azimuth_deg", "elevation_deg"):
        if key in frame and not _is_number(frame[key]):
            problems.append(Problem(TRANSFORMS_NAME, f"{field}.{key}", f"must be a number, got {frame[key]!r}"))
    for key in INTRINSIC_KEYS:
        reason = _intrinsic_problem(key, frame[key]) if key in frame else None
        if reason:
            problems.append(Problem(TRANSFORMS_NAME, f"{field}.{key}", reason))
    return problems


def _check_times(frames: list, train_paths: set[str] | None) -> list[Problem]:
    """``time`` on every frame or none; among train frames with ``time`` and ``view``, each (time, view) cell exactly
    once and every view at every time."""
    dicts = [f for f in frames if isinstance(f, dict)]
    timed = [i for i, f in enumerate(dicts) if "time" in f]
    if timed and len(timed) < len(dicts):
        untimed = next(i for i, f in enumerate(dicts) if "time" not in f)
        return [
            Problem(
                TRANSFORMS_NAME,
                f"frames[{untimed}].time",
                f"missing, but {len(timed)} of {len(dicts)} frames have a time: give every frame a time in [0, 1] "
                "(a 4D dataset) or remove 'time' from all of them (3D)",
            )
        ]
    problems = []
    cells: dict[tuple[float, int], str] = {}
    for frame in dicts:
        if train_paths is not None and frame.get("file_path") not in train_paths:
            continue
        if _is_number(frame.get("time")) and _is_int(frame.get("view")):
            cell = (float(frame["time"]), int(frame["view"]))
            if cell in cells:
                problems.append(
                    Problem(
                        TRANSFORMS_NAME,
                        "frames",
                        f"{frame.get('file_path')} and {cells[cell]} are both view {cell[1]} at time {cell[0]:g}; "
                        "keep one image per (time, view)",
                    )
                )
            cells.setdefault(cell, str(frame.get("file_path")))
    times = sorted({t for t, _ in cells})
    views = sorted({v for _, v in cells})
    return problems + [
        Problem(TRANSFORMS_NAME, "frames", f"time/view grid has a hole: no train frame for view {v} at time {t:g}")
        for t in times
        for v in views
        if (t, v) not in cells
    ]


def _check_splits(meta: dict, paths: set[str]) -> list[Problem]:
    problems = []
    for key in ("train_filenames", "val_filenames", "test_filenames"):
        if key not in meta:
            if key == "train_filenames":
                problems.append(Problem(TRANSFORMS_NAME, key, "missing: list the training frames' file paths"))
            continue
        names = meta[key]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(Problem(TRANSFORMS_NAME, key, "must be a list of file paths"))
            continue
        if key == "train_filenames" and not names:
            problems.append(Problem(TRANSFORMS_NAME, key, "is empty: list the file paths of the training frames"))
        for name in names:
            if name not in paths:
                problems.append(Problem(TRANSFORMS_NAME, key, f"{name!r} is not the file_path of any frame"))
    return problems


def _check_scene(meta: dict, frames: list, train_paths: set[str] | None) -> list[Problem]:
    """Renderable focal lengths, and the object (at the origin) inside at least one training image."""
    resolved = []  # (index, frame, {key: value}) for frames whose pose and intrinsics are all usable
    for index, frame in enumerate(frames):
        if not isinstance(frame, dict):
            continue
        values: dict[str, Any] = {k: frame.get(k, meta.get(k)) for k in INTRINSIC_KEYS}
        if any(_intrinsic_problem(k, v) for k, v in values.items()) or _check_transform(
            "", frame.get("transform_matrix")
        ):
            continue
        resolved.append((index, frame, values))
    problems = []
    for key, size_key in (("fl_x", "w"), ("fl_y", "h")):
        for index, frame, values in resolved:
            reason = fov_problem(values[key], values[size_key], key)
            if reason:
                where = key if key not in frame else f"frames[{index}].{key}"
                problems.append(Problem(TRANSFORMS_NAME, where, reason))
                break  # one report per key: they are usually shared by every frame
    train = [(f, v) for _, f, v in resolved if train_paths is None or f.get("file_path") in train_paths]
    if problems or not train:
        return problems
    columns = {k: np.array([v[k] for _, v in train], dtype=np.float64) for k in INTRINSIC_KEYS}
    c2w_gl = np.stack([np.asarray(f["transform_matrix"], dtype=np.float64) for f, _ in train])
    if not origin_in_image(c2w_gl, *(columns[k] for k in INTRINSIC_KEYS)).any():
        problems.append(
            Problem(
                TRANSFORMS_NAME,
                "frames[].transform_matrix / cx, cy",
                "the object (at the world origin) falls outside every training image: cameras must look at the "
                "origin (OpenGL camera-to-world, looking down -z) with cx, cy near the image centre",
            )
        )
    return problems


def validate_dataset(data_dir: Path, check_pixels: bool | None = True, progress: bool = False) -> list[Problem]:
    """Every problem of a dataset directory (empty list = valid); the one judge of a dataset, shared by
    ``datagen validate`` and the `generated-data` dataparser.

    Args:
        data_dir: directory holding ``transforms.json``.
        check_pixels: decode every image the way training reads it (finds truncated files and unusable pixel
            modes); False only reads the headers; None decodes unless the images passed a full check since they
            last changed (a stamp file of sizes and modification times).
        progress: show a progress bar over the frames.

    Returns:
        Problems in file order: JSON, intrinsics, frames (pose, keys, image, size), splits, times, scene.
    """
    data_dir = Path(data_dir)
    meta, problems = load_transforms_json(data_dir)
    if meta is None:
        return problems
    frames = meta.get("frames")
    if not isinstance(frames, list) or not frames:
        problems.append(Problem(TRANSFORMS_NAME, "frames", "missing or empty: list at least one frame"))
        frames = []
    problems += _check_intrinsics(meta, frames)
    if "generator" in meta and not isinstance(meta["generator"], dict):
        problems.append(Problem(TRANSFORMS_NAME, "generator", "must be a JSON object describing how data was made"))

    paths = [f["file_path"] for f in frames if isinstance(f, dict) and isinstance(f.get("file_path"), str)]
    fingerprint = fingerprint_files(data_dir, [TRANSFORMS_NAME, *paths]) if check_pixels is not False else ""
    decode = check_pixels is True or (check_pixels is None and not stamp_is_current(data_dir, fingerprint))
    seen: set[str] = set()
    sizes: dict[str, tuple[int, int]] = {}
    for index, frame in enumerate(tqdm(frames, desc="validate", unit="frame", disable=not progress, leave=False)):
        problems += _check_frame(index, frame, seen)
        file_path = frame.get("file_path") if isinstance(frame, dict) else None
        if not isinstance(file_path, str) or not file_path or file_path in seen:
            continue
        seen.add(file_path)
        size, image_problems = _check_image(data_dir, file_path, decode)
        problems += image_problems
        if size is None:
            continue
        sizes[file_path] = size
        expected = tuple(frame.get(k, meta.get(k)) for k in ("w", "h"))
        if all(_is_number(v) for v in expected) and size != tuple(int(v) for v in expected):
            problems.append(
                Problem(
                    file_path,
                    "w/h",
                    f"image is {size[0]}x{size[1]} but transforms.json says {expected[0]}x{expected[1]}",
                )
            )
    if sizes and not any(k in f for f in frames if isinstance(f, dict) for k in ("w", "h")):
        common, _ = Counter(sizes.values()).most_common(1)[0]
        for file_path, size in sizes.items():
            if size != common:
                problems.append(
                    Problem(
                        file_path, "size", f"mixed image sizes: {size[0]}x{size[1]}, most are {common[0]}x{common[1]}"
                    )
                )
    problems += _check_splits(meta, seen)
    train = meta.get("train_filenames")
    train_paths = set(train) if isinstance(train, list) and all(isinstance(n, str) for n in train) else None
    problems += _check_times(frames, train_paths)
    problems += _check_scene(meta, frames, train_paths)
    if decode and not problems:
        write_stamp(data_dir, fingerprint or fingerprint_files(data_dir, [TRANSFORMS_NAME, *paths]))
    return problems


def summarize_dataset(data_dir: Path) -> str:
    """One line describing a valid dataset: frame counts, splits, image size, times/views."""
    meta, _ = load_transforms_json(Path(data_dir))
    assert meta is not None, "summarize_dataset expects a valid dataset"
    frames = meta["frames"]
    train_paths = set(meta.get("train_filenames", []))
    train = [f for f in frames if f["file_path"] in train_paths]
    times = {f["time"] for f in train if "time" in f}
    views = {f["view"] for f in train if "view" in f}
    orbits = {f["orbit"] for f in train if "orbit" in f and f["orbit"] >= 0}
    parts = [
        f"{len(frames)} frames",
        f"{len(meta.get('train_filenames', []))} train / {len(meta.get('test_filenames', []))} test",
        f"{meta.get('w')}x{meta.get('h')}",
    ]
    if orbits:
        parts.append(f"{len(orbits)} orbits")
    if times:
        parts.append(f"train {len(times)} times x {len(views)} views")
    name = meta.get("generator", {}).get("name") if isinstance(meta.get("generator"), dict) else None
    if name:
        parts.append(f"generator {name}")
    return ", ".join(parts)
