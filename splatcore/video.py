"""Write frame sequences as GIF or MP4 (imageio; MP4 through imageio-ffmpeg), atomically."""

from pathlib import Path
from typing import Any, Optional

import imageio.v2 as imageio
import numpy as np

from splatcore.atomic import atomic_file


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=-1)
    return frame[..., :3]


def write_video(
    path: Path,
    frames: list[np.ndarray] | np.ndarray,
    fps: float = 15.0,
    mp4_quality: Optional[float] = None,
    mp4_block_size: int = 2,
) -> Path:
    """Write frames ([H, W, 3|4] or [H, W], uint8 or float in [0, 1]) to `path`; the suffix picks the format.

    `.gif` loops forever; `.mp4` is H.264 (frame sizes are padded to multiples of `mp4_block_size`; the default 2
    gives even sizes, which every player accepts; 1 keeps the frame size). `mp4_quality` is imageio-ffmpeg's 0..10
    scale (None: its default). The file is written to a temporary sibling and renamed when complete.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"write_video: unsupported extension '{path.suffix}' in {path}; use .gif or .mp4")
    if len(frames) == 0:
        raise ValueError(f"write_video: no frames to write to {path}")
    images: list[Any] = [_to_uint8(f) for f in frames]
    with atomic_file(path) as tmp:
        if suffix == ".gif":
            imageio.mimsave(tmp, images, format="GIF", duration=1000.0 / fps, loop=0)
        else:
            quality: dict[str, Any] = {} if mp4_quality is None else {"quality": mp4_quality}
            with imageio.get_writer(
                tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=mp4_block_size, **quality
            ) as writer:
                for image in images:
                    writer.append_data(image)  # type: ignore[attr-defined]  # stubs give the base class
    return path
