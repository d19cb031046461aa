"""A training run's record of its dataset's cameras, so that exports work after the dataset moved or was deleted.

nerfstudio rebuilds the datamanager (and so reads the dataset) whenever it loads a run, although an export needs no
training image: only the cameras (turntable radius, elevation, intrinsics), the scene box and the per-frame keys.
The trainer saves ``dataparser_transforms.json`` into the run directory by calling the parser outputs'
``save_dataparser_transform``; :class:`GeneratedDataparserOutputs` writes :data:`SNAPSHOT_NAME` beside it, and the
`generated-data` parser's ``snapshot`` option reads it back in place of the dataset (no images).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from nerfstudio.cameras.cameras import Cameras, CameraType
from nerfstudio.data.dataparsers.base_dataparser import DataparserOutputs
from nerfstudio.data.scene_box import SceneBox

from datagen.user_errors import UserError
from splatcore.atomic import atomic_file

SNAPSHOT_NAME = "dataset_cameras.json"
"""File in the run directory (beside config.yml) holding the training split's cameras."""
_CAMERA_KEYS = ("fx", "fy", "cx", "cy", "width", "height")


@dataclass
class GeneratedDataparserOutputs(DataparserOutputs):
    """The parser's outputs; saving the dataparser transform also saves the camera snapshot beside it."""

    def save_dataparser_transform(self, path: Path) -> None:
        """nerfstudio's transform file, then :data:`SNAPSHOT_NAME` in the same directory."""
        super().save_dataparser_transform(path)
        write_snapshot(self, Path(path).parent / SNAPSHOT_NAME)


def write_snapshot(outputs: DataparserOutputs, path: Path) -> None:
    """The cameras, image names, scene box and metadata of ``outputs`` as JSON (atomically)."""
    cameras = outputs.cameras
    payload = {
        "image_filenames": [str(p) for p in outputs.image_filenames],
        "camera_to_worlds": cameras.camera_to_worlds.tolist(),
        **{key: getattr(cameras, key).reshape(-1).tolist() for key in _CAMERA_KEYS},
        "times": None if cameras.times is None else cameras.times.reshape(-1).tolist(),
        "scene_box": outputs.scene_box.aabb.tolist(),
        "frame_meta": {k: v.tolist() for k, v in (outputs.metadata.get("frame_meta") or {}).items()},
        "generator": outputs.metadata.get("generator", {}),
    }
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(payload), encoding="utf-8")


def snapshot_has_time(path: Path) -> bool:
    """Whether the snapshot's cameras carry times (False when it cannot be read; reading reports that)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("times") is not None
    except (OSError, ValueError, AttributeError):
        return False


def outputs_from_snapshot(path: Path) -> GeneratedDataparserOutputs:
    """Parser outputs rebuilt from a snapshot: cameras and metadata of the training split; images are not available.

    Raises:
        UserError: the snapshot is missing or unreadable.
    """
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        column = {key: torch.tensor(payload[key])[:, None] for key in _CAMERA_KEYS}
        intrinsics: dict[str, Any] = {
            k: v.float() if k in ("fx", "fy", "cx", "cy") else v.long() for k, v in column.items()
        }
        cameras = Cameras(
            camera_to_worlds=torch.tensor(payload["camera_to_worlds"], dtype=torch.float32),
            **intrinsics,
            camera_type=CameraType.PERSPECTIVE,
            times=None if payload["times"] is None else torch.tensor(payload["times"], dtype=torch.float32)[:, None],
        )
        frame_meta = {
            k: torch.tensor(v, dtype=torch.long if k in ("orbit", "view") else torch.float32)
            for k, v in payload["frame_meta"].items()
        }
        scene_box = SceneBox(aabb=torch.tensor(payload["scene_box"], dtype=torch.float32))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(
            f"{path}: cannot read the training run's camera snapshot ({type(error).__name__}: {error}); it is "
            "written when training starts, so point at a run directory made by this version, or restore the dataset"
        ) from error
    return GeneratedDataparserOutputs(
        image_filenames=[Path(p) for p in payload["image_filenames"]],
        cameras=cameras,
        alpha_color=None,
        scene_box=scene_box,
        dataparser_scale=1.0,
        metadata={"frame_meta": frame_meta, "generator": payload["generator"]},
    )
