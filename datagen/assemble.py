"""Frames + cameras -> dataset: the one place generated views become a dataset on disk.

Every producer of views (the converters, the diffusion generators, tests' fake generator) hands a
:class:`~datagen.generators.GeneratedFrames` to :func:`write_orbit_dataset` (3D: views on orbits) or
:func:`write_matrix_dataset` (4D: a time x view matrix). Poses come from ``datagen.cameras`` only; the write is
atomic and validated (see ``datagen.dataset.write_dataset``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from datagen.cameras import c2w_gl_from_spherical, intrinsics_from_fov
from datagen.dataset import FrameRecord, write_dataset
from datagen.generators.base import GeneratedFrames, GeneratedView


def _record(view: GeneratedView, name: str) -> FrameRecord:
    return FrameRecord(
        file_path=f"images/{name}",
        c2w_gl=c2w_gl_from_spherical(view.azimuth_deg, view.elevation_deg, view.radius),
        image=view.image,
        split=view.split,
        azimuth_deg=view.azimuth_deg,
        elevation_deg=view.elevation_deg,
        orbit=view.orbit,
        time=view.time,
        view=view.view,
        extra=dict(view.extra),
    )


def _write(
    frames: GeneratedFrames, names: list[str], output_dir: Path, overwrite: bool, extra_files: dict[str, bytes] | None
) -> Path:
    if not frames.views:
        raise ValueError("the generator returned no views; nothing to write")
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    if duplicates:
        raise ValueError(f"two views would be written as images/{duplicates[0]}; give the views distinct names")
    height, width = frames.views[0].image.shape[:2]
    records = [_record(view, name) for view, name in zip(frames.views, names, strict=True)]
    intrinsics = intrinsics_from_fov(frames.fov_deg, width, height)
    return write_dataset(
        Path(output_dir), records, intrinsics, dict(frames.record), extra_files=extra_files, overwrite=overwrite
    )


def write_orbit_dataset(
    frames: GeneratedFrames,
    output_dir: Path,
    *,
    overwrite: bool = False,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write views on orbits as a 3D dataset; returns its directory.

    Unnamed views are written as ``images/orbit{o}_{k:02d}.png``, k counting the views of orbit o in order.
    ``extra_files`` (relative path -> bytes, e.g. ``input/input.png``) are written into the dataset too.

    Raises:
        FileExistsError: ``output_dir`` is not empty and not a dataset that ``overwrite`` may replace.
        DatasetError: the result breaks the dataset contract (nothing is left behind).
    """
    counts: Counter[int] = Counter()
    names = []
    for view in frames.views:
        names.append(view.name or f"orbit{view.orbit}_{counts[view.orbit]:02d}.png")
        counts[view.orbit] += 1
    return _write(frames, names, output_dir, overwrite, extra_files)


def write_matrix_dataset(
    frames: GeneratedFrames,
    output_dir: Path,
    *,
    overwrite: bool = False,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write a time x view matrix as a 4D dataset; every view needs ``time`` and ``view``.

    Unnamed views are written as ``images/t{i:03d}_v{v:02d}.png`` with i the rank of the view's time.

    Raises:
        ValueError: a view without ``time`` or ``view``.
        FileExistsError, DatasetError: as :func:`write_orbit_dataset`.
    """
    for index, view in enumerate(frames.views):
        if view.time is None or view.view is None:
            raise ValueError(
                f"view {index} ({view.name or 'unnamed'}) has no time or view index; a 4D dataset needs both"
            )
    rank: dict[float | None, int] = {
        t: i for i, t in enumerate(sorted({v.time for v in frames.views if v.time is not None}))
    }
    names = [view.name or f"t{rank[view.time]:03d}_v{view.view:02d}.png" for view in frames.views]
    return _write(frames, names, output_dir, overwrite, extra_files)
