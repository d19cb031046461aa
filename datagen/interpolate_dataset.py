"""Densify a 4D (time x view) dataset in time with midpoint frame interpolation.

Efficient4D interpolates the generated image matrix twice: K frames -> 2K - 1 -> 4K - 3 timestamps, each new
frame the midpoint of its two neighbours in time, view by view. This module does the same on any dataset whose
train frames carry ``time`` and ``view``: the original frames are kept byte for byte (their PNG files are copied),
the new ones are written beside them, and every train frame of the matrix gets the per-frame key
``interpolated`` (False for the originals). Frames outside the matrix (test ground truth, frames without time or
view) are copied unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import tyro
from jaxtyping import UInt8

from datagen.dataset import FrameRecord, read_dataset, write_dataset
from datagen.images import read_image
from datagen.interpolate import DisFlowInterpolator, Interpolator, RifeInterpolator
from datagen.validate import summarize_dataset

TIME_COUNTS = {"2k-1": 1, "4k-3": 2}
"""``--times`` choice -> number of midpoint passes (each pass turns n timestamps into 2n - 1)."""
INTERPOLATED_KEY = "interpolated"
"""Per-frame key: True for a frame made by interpolation, False for a generated (original) one."""


def densified_count(num_times: int, passes: int) -> int:
    """Timestamps after ``passes`` midpoint passes over ``num_times`` (``4K - 3`` for two passes)."""
    return (num_times - 1) * 2**passes + 1


def midpoint_u8(
    interpolator: Interpolator, image_a: UInt8[np.ndarray, "H W C"], image_b: UInt8[np.ndarray, "H W C"]
) -> UInt8[np.ndarray, "H W C"]:
    """The midpoint of two uint8 [H, W, 3|4] images of equal shape (RGBA moves along the colour's flow)."""
    mid = interpolator.midpoint_rgba(image_a.astype(np.float32) / 255.0, image_b.astype(np.float32) / 255.0)
    return (np.clip(mid, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def densify_sequence(
    frames: list[UInt8[np.ndarray, "H W C"]], times: list[float], passes: int, interpolator: Interpolator
) -> list[tuple[float, UInt8[np.ndarray, "H W C"] | None]]:
    """Insert midpoints between consecutive frames ``passes`` times.

    Args:
        frames: the K images of one view in time order.
        times: their K increasing times.
        passes: midpoint passes (2 gives 4K - 3 entries).
        interpolator: makes each midpoint.

    Returns:
        ``(time, image)`` in time order; the image is None for an original frame (the caller keeps its file),
        a new array for an interpolated one.
    """
    sequence: list[tuple[float, np.ndarray, bool]] = [(t, f, True) for t, f in zip(times, frames, strict=True)]
    for _ in range(passes):
        denser = [sequence[0]]
        for (t0, f0, _), right in zip(sequence[:-1], sequence[1:], strict=True):
            t1, f1, _ = right
            denser += [(0.5 * (t0 + t1), midpoint_u8(interpolator, f0, f1), False), right]
        sequence = denser
    return [(t, None if original else f) for t, f, original in sequence]


def make_interpolator(kind: str, rife_weights: Optional[Path]) -> Interpolator:
    """``dis`` (weight-free optical flow) or ``rife`` (a TorchScript RIFE export at ``rife_weights``)."""
    if kind == "rife":
        if rife_weights is None:
            raise ValueError("--interpolator rife needs --rife-weights PATH (a TorchScript export of RIFE)")
        return RifeInterpolator(rife_weights)
    return DisFlowInterpolator()


def interpolate_dataset(
    data_dir: Path,
    output_dir: Path,
    passes: int = 2,
    interpolator: Interpolator | None = None,
    overwrite=False,
    extra_files: dict[str, bytes] | None = None,
    source: str | None = None,
) -> Path:
    """Write a copy of a 4D dataset with ``densified_count(K, passes)`` timestamps (see the module docstring).

    Args:
        data_dir: a valid dataset whose train frames carry ``time`` and ``view`` (at least 2 times).
        output_dir: the new dataset's directory (written atomically, then validated).
        passes: midpoint passes, 1 (2K - 1) or 2 (4K - 3).
        interpolator: midpoint method (default: DIS optical flow).
        overwrite: replace an existing dataset at ``output_dir``.
        extra_files: further files for the new dataset by relative path (e.g. ``input/frame_00.png``).
        source: what the record names as the source (default: ``data_dir``; say so when it is a temporary one).
    """
    data_dir, output_dir = Path(data_dir), Path(output_dir)
    if output_dir.resolve() == data_dir.resolve():
        raise ValueError(f"--output-dir {output_dir} is the input dataset; write the interpolated one elsewhere")
    interpolator = interpolator or DisFlowInterpolator()
    dataset = read_dataset(data_dir)
    in_matrix = [f for f in dataset.frames if f.split == "train" and f.time is not None and f.view is not None]
    times = sorted({f.time for f in in_matrix if f.time is not None})
    if len(times) < 2:
        raise ValueError(
            f"{data_dir}/transforms.json: interpolation needs train frames with `time` and `view` at 2 or more "
            f"times, found {len(times)}; is this a 4D dataset?"
        )
    cells = {(f.time, f.view): f for f in in_matrix}
    views = sorted({f.view for f in in_matrix if f.view is not None})
    copied = {f.file_path: (data_dir / f.file_path).read_bytes() for f in dataset.frames}
    columns: dict[int, list[tuple[float, np.ndarray | None]]] = {}
    for view in views:
        images = [read_image(data_dir / cells[(t, view)].file_path) for t in times]
        columns[view] = densify_sequence(images, times, passes, interpolator)

    matrix_frames = []
    for step in range(densified_count(len(times), passes)):
        for view in views:
            time, image = columns[view][step]
            if image is None:  # an original: same record and file, flagged
                original = cells[(time, view)]
                extra = {INTERPOLATED_KEY: False, **original.extra}
                matrix_frames.append(_replace(original, extra=extra))
                continue
            before = cells[(times[step // 2**passes], view)]  # the original this frame follows in time
            matrix_frames.append(
                _replace(
                    before,
                    file_path=f"images/interpolated/t{step:04d}_v{view:02d}.png",
                    image=image,
                    time=time,
                    extra={**before.extra, INTERPOLATED_KEY: True},
                )
            )
    matrix_ids = {id(f) for f in in_matrix}
    others = [f for f in dataset.frames if id(f) not in matrix_ids]
    used = {f.file_path for f in matrix_frames + others if f.image is None}
    record = {
        **dataset.generator,
        "interpolation": {
            "method": interpolator.cache_key(),
            "passes": passes,
            "source_times": len(times),
            "times": densified_count(len(times), passes),
            "source": str(data_dir) if source is None else source,
        },
    }
    return write_dataset(
        output_dir,
        matrix_frames + others,
        dataset.intrinsics,
        record,
        extra_files={**{path: data for path, data in copied.items() if path in used}, **(extra_files or {})},
        overwrite=overwrite,
    )


def _replace(frame: FrameRecord, **changes) -> FrameRecord:
    values = {**frame.__dict__, **changes}
    return FrameRecord(**values)


@dataclass
class Interpolate:
    """Densify a 4D dataset in time: midpoints between neighbouring times, once (2K-1) or twice (4K-3)."""

    data_dir: tyro.conf.Positional[Path]
    """The 4D dataset to densify (train frames with `time` and `view`)."""
    output_dir: Path
    """Directory of the new dataset (written atomically, then validated)."""
    times: Literal["4k-3", "2k-1"] = "4k-3"
    """Timestamps to reach from K: `4k-3` interpolates twice (as Efficient4D), `2k-1` once."""
    interpolator: Literal["dis", "rife"] = "dis"
    """Midpoint method: `dis` optical flow (no weights) or `rife` (needs --rife-weights)."""
    rife_weights: Optional[Path] = None
    """TorchScript export of RIFE, for --interpolator rife."""
    overwrite: bool = False
    """Replace an existing dataset at --output-dir."""

    def main(self) -> int:
        interpolator = make_interpolator(self.interpolator, self.rife_weights)
        out = interpolate_dataset(self.data_dir, self.output_dir, TIME_COUNTS[self.times], interpolator, self.overwrite)
        print(f"OK: {summarize_dataset(out)} ({out})")
        return 0
