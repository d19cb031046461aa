"""The on-disk dataset format: write (atomically), read, validate.

A dataset is a directory with a nerfstudio ``transforms.json`` and its PNG images (RGBA where the object mask is
known). Top level: pinhole intrinsics ``fl_x fl_y cx cy w h`` with ``camera_model: "OPENCV"`` and zero distortion,
``frames``, ``train_filenames`` / ``test_filenames`` (and ``val_filenames``, a copy of the test list, or of the train
list when there is no ground truth, so that nerfstudio's stock ``nerfstudio-data`` parser finds its "val" split), and
``generator`` (how the data was made). Each frame: ``file_path``, ``transform_matrix`` (camera-to-world, OpenGL
axes, see ``datagen.cameras``) and the optional keys ``azimuth_deg elevation_deg orbit time view`` plus any extras.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from jaxtyping import Float, UInt8

from datagen.cameras import Intrinsics
from datagen.scene import scene_extent
from datagen.user_errors import UserError
from datagen.validate import (
    DISTORTION_KEYS,
    INTRINSIC_KEYS,
    TRANSFORMS_NAME,
    Problem,
    load_transforms_json,
    summarize_dataset,
    validate_dataset,
)
from splatcore.atomic import atomic_directory

__all__ = [
    "DatasetError",
    "FrameRecord",
    "GeneratedDataset",
    "Problem",
    "dataset_notes",
    "encode_png",
    "read_dataset",
    "summarize_dataset",
    "validate_dataset",
    "write_dataset",
]

KNOWN_FRAME_KEYS = ("file_path", "transform_matrix", "azimuth_deg", "elevation_deg", "orbit", "time", "view")
SPLITS = ("train", "test")


class DatasetError(UserError):
    """A dataset that breaks the contract; ``problems`` lists every problem with its file and field."""

    def __init__(self, data_dir: Path, problems: list[Problem]):
        self.data_dir = Path(data_dir)
        self.problems = problems
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"invalid dataset {data_dir} ({len(problems)} problem(s)):\n  {shown}{more}")


@dataclass
class FrameRecord:
    """One image of a dataset with its camera and per-frame keys."""

    file_path: str
    """``images/<name>.png``, relative to the dataset directory."""
    c2w_gl: Float[np.ndarray, "4 4"]
    """Camera-to-world, OpenGL axes (x right, y up, z back), world +z up."""
    image: UInt8[np.ndarray, "H W C"] | None
    """[H, W, 3|4] uint8 pixels to write; None when the file is supplied otherwise (``extra_files`` or on reading)."""
    split: str = "train"
    """``"train"`` or ``"test"``."""
    azimuth_deg: float | None = None
    """Azimuth in degrees (``datagen.cameras`` convention)."""
    elevation_deg: float | None = None
    """Elevation in degrees (> 0 = above)."""
    orbit: int | None = None
    """Orbit index, 0 = trained first (-1 = no orbit)."""
    time: float | None = None
    """Normalised time in [0, 1] (4D datasets)."""
    view: int | None = None
    """View index within the time x view matrix (4D datasets)."""
    extra: dict = field(default_factory=dict)
    """Further JSON-serialisable per-frame keys (e.g. per-frame ``fl_x``... overriding the top level)."""

    def to_json(self) -> dict:
        """The frame's ``transforms.json`` entry."""
        entry: dict = {"file_path": self.file_path, "transform_matrix": np.asarray(self.c2w_gl, float).tolist()}
        for key in ("azimuth_deg", "elevation_deg", "time"):
            if getattr(self, key) is not None:
                entry[key] = float(getattr(self, key))
        for key in ("orbit", "view"):
            if getattr(self, key) is not None:
                entry[key] = int(getattr(self, key))
        clash = set(self.extra) & set(KNOWN_FRAME_KEYS)
        if clash:
            raise ValueError(f"frame {self.file_path}: extra keys {sorted(clash)} clash with FrameRecord fields")
        entry.update(self.extra)
        return entry


def _intrinsics(values: dict) -> Intrinsics:
    """Intrinsics from a mapping of the ``fl_x fl_y cx cy w h`` keys (focal lengths and centre float, size int)."""
    return Intrinsics(
        float(values["fl_x"]),
        float(values["fl_y"]),
        float(values["cx"]),
        float(values["cy"]),
        int(values["w"]),
        int(values["h"]),
    )


@dataclass
class GeneratedDataset:
    """A parsed dataset (``read_dataset``); images are not loaded (``FrameRecord.image`` is None)."""

    data_dir: Path
    """The dataset directory."""
    frames: list[FrameRecord]
    """All frames in file order."""
    intrinsics: Intrinsics
    """Top-level pinhole intrinsics."""
    generator: dict
    """How the data was made."""
    train_filenames: list[str]
    """File paths of the training frames."""
    test_filenames: list[str]
    """File paths of the test frames (ground truth; may be empty)."""

    def frame_intrinsics(self, frame: FrameRecord) -> Intrinsics:
        """A frame's intrinsics: its own ``fl_x ... h`` keys where given, else the top level."""
        values = {k: frame.extra.get(k, getattr(self.intrinsics, k)) for k in INTRINSIC_KEYS}
        return _intrinsics(values)

    def split_frames(self, split: str) -> list[FrameRecord]:
        """Frames of a split in file order; "val" means "test"."""
        names = set(self.train_filenames if split == "train" else self.test_filenames)
        return [f for f in self.frames if f.file_path in names]


def encode_png(image: UInt8[np.ndarray, "H W C"], name: str = "image") -> bytes:
    """PNG bytes of an [H, W, 3|4] (or [H, W]) uint8 array."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"{name}: expected an [H, W, 3|4] uint8 array, got {image.dtype} {image.shape}")
    if image.ndim == 3:  # OpenCV stores BGR(A); its encoder is several times faster than Pillow's default
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise ValueError(f"{name}: PNG encoding failed")
    return buffer.tobytes()


def _transforms_json(frames: list[FrameRecord], intrinsics: Intrinsics, generator: dict) -> dict:
    train = [f.file_path for f in frames if f.split == "train"]
    test = [f.file_path for f in frames if f.split == "test"]
    meta: dict = {"camera_model": "OPENCV", **intrinsics.to_dict(), **{k: 0.0 for k in DISTORTION_KEYS}}
    meta["frames"] = [f.to_json() for f in frames]
    meta["train_filenames"] = train
    meta["val_filenames"] = test or train
    meta["test_filenames"] = test
    meta["generator"] = generator
    return meta


def _check_records(frames: list[FrameRecord], extra_files: dict[str, bytes]) -> None:
    if not frames:
        raise ValueError("write_dataset: no frames given")
    for frame in frames:
        if frame.split not in SPLITS:
            raise ValueError(f"frame {frame.file_path}: split={frame.split!r}, expected one of {SPLITS}")
        path = Path(frame.file_path)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"frame file_path {frame.file_path!r} must be relative inside the dataset")
        if frame.image is None and frame.file_path not in extra_files:
            raise ValueError(f"frame {frame.file_path}: image is None and extra_files has no such file")
    if not any(f.split == "train" for f in frames):
        raise ValueError("write_dataset: no frame has split='train'")


def _write_bytes(root: Path, relative: str, data: bytes) -> None:
    path = root / relative
    if root.resolve() not in path.resolve().parents:
        raise ValueError(f"extra file {relative!r} must be a relative path inside the dataset")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_dataset(
    out_dir: Path,
    frames: list[FrameRecord],
    intrinsics: Intrinsics,
    generator: dict,
    extra_files: dict[str, bytes] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a dataset atomically and return its directory.

    Everything goes into a hidden temporary sibling ``.<name>.tmp-XXXX`` (``transforms.json`` last), is validated,
    and is then renamed to ``out_dir``; a failure removes the temporary directory, and an interrupted process leaves
    only a hidden ``.tmp-`` directory, never one that looks complete. An existing non-empty ``out_dir`` is refused
    unless ``overwrite`` and it is a dataset (holds ``transforms.json``); it is then moved aside, the new dataset
    renamed into place, and the old one deleted (restored if the rename fails).

    Args:
        out_dir: dataset directory to create.
        frames: the frames, in the order they are listed.
        intrinsics: top-level intrinsics (every image must be ``w`` x ``h`` unless a frame overrides them).
        generator: JSON-serialisable description of how the data was made.
        extra_files: further files by relative path (e.g. ``"input/video.mp4"``); also supplies the images of
            frames whose ``image`` is None.
        overwrite: replace an existing dataset.

    Raises:
        FileExistsError: ``out_dir`` exists, is not empty and ``overwrite`` is False.
        DatasetError: the written data breaks the contract (nothing is left behind).
        ValueError: malformed records.
    """
    out_dir = Path(out_dir)
    extra_files = dict(extra_files or {})
    _check_records(frames, extra_files)
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory; choose another output path")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out_dir} exists and is not empty; choose another output or pass overwrite")
        if not (out_dir / TRANSFORMS_NAME).is_file():  # never delete a directory that is not a dataset
            raise FileExistsError(
                f"{out_dir} is not empty and holds no {TRANSFORMS_NAME}, so it is not a dataset; refusing to replace "
                "it even with overwrite: choose another output directory"
            )
    meta = _transforms_json(frames, intrinsics, generator)
    text = json.dumps(meta, indent=2, allow_nan=False)  # before any file is written: a JSON error leaves nothing

    with atomic_directory(out_dir, replace=out_dir.exists()) as tmp_dir:
        for frame in frames:
            if frame.image is not None:
                _write_bytes(tmp_dir, frame.file_path, encode_png(frame.image, frame.file_path))
        for relative, data in extra_files.items():
            _write_bytes(tmp_dir, relative, data)
        (tmp_dir / TRANSFORMS_NAME).write_text(text, encoding="utf-8")
        problems = validate_dataset(tmp_dir, check_pixels=False)  # we just encoded the pixels ourselves
        if problems:
            raise DatasetError(out_dir, problems)
    return out_dir


def _optional(entry: dict, key: str, kind):
    return kind(entry[key]) if key in entry else None


def read_dataset(data_dir: Path, validate: bool = True, check_pixels: bool | None = False) -> GeneratedDataset:
    """Parse a dataset directory (images are not loaded).

    Args:
        data_dir: directory holding ``transforms.json``.
        validate: run ``validate_dataset`` first and raise on any problem.
        check_pixels: with ``validate``, also decode every image (None: unless they passed a full check since they
            last changed, see ``validate_dataset``).

    Raises:
        DatasetError: listing every problem with its file and field.
    """
    data_dir = Path(data_dir)
    if validate:
        problems = validate_dataset(data_dir, check_pixels=check_pixels)
        if problems:
            raise DatasetError(data_dir, problems)
    meta, problems = load_transforms_json(data_dir)
    if meta is None:
        raise DatasetError(data_dir, problems)
    frames_json = meta["frames"]
    top = {k: meta.get(k, frames_json[0].get(k)) for k in INTRINSIC_KEYS}
    intrinsics = _intrinsics(top)
    all_paths = [f["file_path"] for f in frames_json]
    train = list(meta.get("train_filenames", all_paths))
    test = list(meta.get("test_filenames", []))
    train_set, test_set = set(train), set(test)
    frames = []
    for entry in frames_json:
        path = entry["file_path"]
        frames.append(
            FrameRecord(
                file_path=path,
                c2w_gl=np.asarray(entry["transform_matrix"], dtype=np.float64),
                image=None,
                split="test" if path in test_set and path not in train_set else "train",
                azimuth_deg=_optional(entry, "azimuth_deg", float),
                elevation_deg=_optional(entry, "elevation_deg", float),
                orbit=_optional(entry, "orbit", int),
                time=_optional(entry, "time", float),
                view=_optional(entry, "view", int),
                extra={k: v for k, v in entry.items() if k not in KNOWN_FRAME_KEYS},
            )
        )
    generator = meta.get("generator", {})
    return GeneratedDataset(data_dir, frames, intrinsics, generator if isinstance(generator, dict) else {}, train, test)


def nearest_camera_distance(dataset: GeneratedDataset) -> float:
    """Smallest distance of any frame's camera centre from the origin (the object's centre)."""
    return float(np.linalg.norm(np.stack([f.c2w_gl[:3, 3] for f in dataset.frames]), axis=1).min())


def dataset_notes(data_dir: Path) -> list[str]:
    """Things worth knowing about a dataset that do not stop training: leftovers of an interrupted write or
    overwrite beside it, and a generator object extent set aside because it does not fit the cameras."""
    data_dir = Path(data_dir)
    notes = []
    for leftover in sorted(data_dir.parent.glob(f".{data_dir.name}.old-*")):
        notes.append(
            f"{leftover} holds the previous dataset from an interrupted overwrite: delete it, or restore it with "
            f"`mv {leftover / 'data'} {data_dir}` after moving the current one away"
        )
    for leftover in sorted(data_dir.parent.glob(f".{data_dir.name}.tmp-*")):
        notes.append(f"{leftover} is an incomplete write that was interrupted: delete it")
    try:
        dataset = read_dataset(data_dir, validate=False)
    except Exception:  # a malformed dataset: validation reports what is wrong
        return notes
    _, extent_note = scene_extent(
        dataset.generator, nearest_camera_distance(dataset), any(f.time is not None for f in dataset.frames)
    )
    if extent_note:
        notes.append(f"{data_dir / TRANSFORMS_NAME}: generator: {extent_note}")
    return notes
