"""Clip input: the released subsampling, one mask mode and one framing for the whole clip, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from datagen.clip_input import clip_frames, read_clip, subsample_indices
from datagen.user_errors import UserError
from splatcore.video import write_video


def released(num: int, count: int) -> list[int]:
    """Efficient4D ``prepare_inputs`` + ``generate.py``, verbatim on a list of indices."""
    images = list(range(num))
    seg = max(num // count, 1)
    return images[::seg][:count]


@pytest.mark.parametrize(("num", "count"), [(32, 16), (33, 16), (47, 16), (16, 16), (100, 8), (9, 4), (5, 5)])
def test_subsampling_is_the_released_formula(num, count):
    assert subsample_indices(num, count) == released(num, count)
    assert len(subsample_indices(num, count)) == count


def moving_clip(tmp_path, num=6, size=48):
    """A red square moving right and growing on a plain grey backdrop, frames named 1.png .. so that natural
    order differs from text order."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(num):
        frame = np.full((size, size, 3), 128, np.uint8)
        frame[10 : 20 + i, 5 + 3 * i : 15 + 3 * i] = (220, 10, 10)
        Image.fromarray(frame).save(folder / f"{i + 1}.png")
    return folder


def test_union_framing_keeps_motion(tmp_path):
    """All frames share one framing: the union box (x 5..30, y 10..25) maps to 200 px in 256, so the square keeps
    its size in the first frame and moves by the same scaled step each frame."""
    framed, indices = clip_frames(moving_clip(tmp_path), 6, size=256)
    assert indices == list(range(6))
    scale = 200 / 25  # union box 25 wide (x 5..30), 15 high
    lefts = [np.nonzero(f[..., 3].max(axis=0) > 127)[0].min() for f in framed]
    steps = np.diff(lefts)
    assert np.all(np.abs(steps - 3 * scale) <= 1.5)
    heights = [np.ptp(np.nonzero(f[..., 3].max(axis=1) > 127)[0]) + 1 for f in framed]
    assert abs(heights[0] - 10 * scale) <= 1.5 and abs(heights[-1] - 15 * scale) <= 1.5


def test_natural_order_and_subsampling(tmp_path):
    folder = moving_clip(tmp_path, num=12)
    frames, names = read_clip(folder)
    assert [n.split("/")[-1] for n in names[:3]] == ["1.png", "2.png", "3.png"]
    framed, indices = clip_frames(folder, 4, size=64)
    assert indices == [0, 3, 6, 9] and len(framed) == 4


def test_video_file_input(tmp_path):
    frames = [np.full((32, 32, 3), 255, np.uint8) for _ in range(5)]
    for i, frame in enumerate(frames):
        frame[8:24, 4 + 2 * i : 12 + 2 * i] = (0, 0, 200)
    video = write_video(tmp_path / "clip.gif", frames, fps=5)
    framed, indices = clip_frames(video, 5, size=64)
    assert len(framed) == 5 and indices == [0, 1, 2, 3, 4]
    assert (framed[0][0, 0, 3] == 0) and framed[0][..., 3].max() == 255


def test_clip_errors(tmp_path):
    with pytest.raises(UserError, match="no such video file or folder"):
        clip_frames(tmp_path / "none.mp4", 4)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no frames"):
        clip_frames(empty, 4)
    (tmp_path / "zero.mp4").write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        clip_frames(tmp_path / "zero.mp4", 4)
    folder = moving_clip(tmp_path, num=3)
    with pytest.raises(UserError, match="3 frame.*--frames 8.*--frames 3"):
        clip_frames(folder, 8)
    with pytest.raises(UserError, match="at least 2"):
        clip_frames(folder, 1)
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(folder / "4.png")
    with pytest.raises(UserError, match="4.png: 12x10 pixels.*48x48"):
        clip_frames(folder, 3)


def test_clip_without_object(tmp_path):
    folder = tmp_path / "blank"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.zeros((16, 16, 4), np.uint8)).save(folder / f"{i}.png")
    with pytest.raises(UserError, match="mask is empty"):
        clip_frames(folder, 3, alpha="keep")
