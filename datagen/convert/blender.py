"""`datagen convert blender`: a Blender / NeRF-synthetic folder -> a dataset.

The layout (``transforms_train.json`` / ``transforms_val.json`` / ``transforms_test.json``, a horizontal field of
view ``camera_angle_x`` in radians, file paths without an extension, RGBA PNGs) already uses our conventions: OpenGL
camera-to-world, +z up, the object at the origin. The converter keeps the poses as they are, turns the field of
view into pinhole intrinsics, keeps the alpha channel as the mask, and writes the train split as training frames
and the test split as ground truth.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from datagen.cameras import intrinsics_from_fov, spherical_from_c2w_gl
from datagen.dataset import FrameRecord, summarize_dataset, write_dataset
from datagen.images import ConvertError, read_image, resize
from datagen.options import check_options

BLENDER_OBJECT_EXTENT = 1.5
"""Half-size of the NeRF-synthetic scenes' bounding box (nerfstudio's `blender-data` parser uses the same)."""


def _read_split(folder: Path, split: str) -> dict | None:
    path = folder / f"transforms_{split}.json"
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConvertError(f"{path}: cannot be read as JSON ({error}); re-export it") from error
    if not isinstance(meta, dict) or not isinstance(meta.get("frames"), list) or not meta["frames"]:
        raise ConvertError(f"{path}: needs a non-empty 'frames' list")
    angle = meta.get("camera_angle_x")
    if not isinstance(angle, (int, float)) or not 0.0 < angle < math.pi:
        raise ConvertError(f"{path}: camera_angle_x must be the horizontal field of view in radians, got {angle!r}")
    return meta


def _shape(image: np.ndarray | None) -> tuple[int, int]:
    """(height, width) of a frame's image, which conversion always reads."""
    assert image is not None
    return image.shape[0], image.shape[1]


def _image_path(folder: Path, file_path, where: str) -> Path:
    """The image a frame names; Blender file paths usually omit the ``.png``."""
    if not isinstance(file_path, str) or not file_path:
        raise ConvertError(f"{where}.file_path: missing or not a string")
    path = folder / file_path
    for candidate in (path, path.with_name(path.name + ".png")):
        if candidate.is_file():
            return candidate
    raise ConvertError(f"{where}.file_path: no image {path} (nor {path.name}.png); check the folder is complete")


@dataclass
class ConvertBlender:
    """Convert a Blender / NeRF-synthetic folder (transforms_train.json, camera_angle_x) into a dataset."""

    input: Path
    """The folder holding transforms_train.json (and transforms_test.json for ground-truth views)."""
    output_dir: Path
    """Dataset directory to write (transforms.json + images/)."""
    resolution: Optional[int] = None
    """Resize the (square) images to this size in pixels (default: keep, 800 for NeRF-synthetic)."""
    max_test_frames: Optional[int] = None
    """Keep at most this many test frames as ground truth, evenly spaced (default: all; 0: none)."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def _frames(self, meta: dict, split: str) -> list[FrameRecord]:
        entries = meta["frames"]
        if split == "test" and self.max_test_frames is not None:
            keep = np.unique(np.linspace(0, len(entries) - 1, self.max_test_frames).round().astype(int))
            entries = [entries[i] for i in keep] if self.max_test_frames else []
        records = []
        for index, entry in enumerate(tqdm(entries, desc=f"convert blender {split}", unit="frame")):
            where = f"transforms_{split}.json: frames[{index}]"
            if not isinstance(entry, dict):
                raise ConvertError(f"{where}: must be a JSON object")
            image = read_image(_image_path(self.input, entry.get("file_path"), where))
            if self.resolution is not None:
                image = resize(image, self.resolution, self.resolution)
            try:
                c2w_gl = np.asarray(entry.get("transform_matrix"), dtype=np.float64)
            except (TypeError, ValueError):
                c2w_gl = np.zeros(0)
            if c2w_gl.shape != (4, 4):
                raise ConvertError(f"{where}.transform_matrix: must be a 4x4 list of numbers")
            azimuth, elevation, _ = spherical_from_c2w_gl(c2w_gl)
            name = f"{split}_{Path(str(entry['file_path'])).stem}.png"
            records.append(
                FrameRecord(f"images/{name}", c2w_gl, image, split, float(azimuth), float(elevation))
            )  # fmt: skip
        return records

    def main(self) -> Path:
        """Read, convert and write; returns the dataset directory."""
        check_options(self)
        train = _read_split(self.input, "train")
        if train is None:
            raise ConvertError(
                f"{self.input}: no transforms_train.json; pass the Blender / NeRF-synthetic scene folder"
            )
        test = _read_split(self.input, "test")
        frames = self._frames(train, "train") + (self._frames(test, "test") if test is not None else [])
        sizes = {_shape(f.image) for f in frames}
        if len(sizes) > 1:
            raise ConvertError(f"{self.input}: images of several sizes {sorted(sizes)}; pass --resolution")
        height, width = _shape(frames[0].image)
        if test is not None and not math.isclose(test["camera_angle_x"], train["camera_angle_x"], rel_tol=1e-6):
            raise ConvertError(f"{self.input}: the train and test splits have different camera_angle_x")
        generator = {
            "name": "convert",
            "kind": "blender",
            "source": str(self.input),
            "camera_angle_x": train["camera_angle_x"],
            "object_extent": BLENDER_OBJECT_EXTENT,
        }
        intrinsics = intrinsics_from_fov(math.degrees(train["camera_angle_x"]), width, height)
        out = write_dataset(self.output_dir, frames, intrinsics, generator, overwrite=self.overwrite)
        print(f"Wrote {out}: {summarize_dataset(out)}")
        return out
