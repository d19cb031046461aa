"""The SyncDreamer-T generator: tiny-random plumbing run to a dataset, the record, and missing files."""

import numpy as np
import pytest
import torch

from datagen.assemble import write_matrix_dataset
from datagen.cameras import SYNCDREAMER_FOV_DEG
from datagen.dataset import read_dataset, validate_dataset
from datagen.generators.syncdreamer import loading
from datagen.generators.syncdreamer.settings import TINY_RANDOM, SyncDreamerSettings, load_syncdreamer_t_generator
from datagen.user_errors import UserError


def clip_frames(count, size=256):
    rng = np.random.default_rng(0)
    frames = []
    for k in range(count):
        frame = np.full((size, size, 3), 255, np.uint8)
        frame[80:176, 80 + 10 * k : 176 + 10 * k] = rng.integers(0, 200, 3, dtype=np.uint8)
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def generator():
    return load_syncdreamer_t_generator(SyncDreamerSettings(TINY_RANDOM, steps=2, progress=False, device="cpu"))


def test_tiny_random_clip_to_matrix_dataset(generator, tmp_path):
    out = generator.generate(clip_frames(3), seed=5)
    assert len(out.views) == 3 * 16 and out.fov_deg == SYNCDREAMER_FOV_DEG
    for i, view in enumerate(out.views):
        k, v = divmod(i, 16)
        assert view.image.dtype == np.uint8 and view.image.shape[2] == 4
        assert (view.time, view.view) == (k / 2, v)
        assert (view.azimuth_deg, view.elevation_deg, view.radius) == (22.5 * v, 30.0, 1.5)
        assert view.extra == {"input_view": v == 0}
    record = out.record
    assert record["name"] == "syncdreamer-t" and record["checkpoint"] == TINY_RANDOM and record["seed"] == 5
    assert (record["steps"], record["guidance"], record["eta"], record["cyclic"]) == (2, "decomposed", 1.0, False)
    assert record["guidance_scales"] == [2.0, 1.0] and record["smoothing"].startswith("paper")
    assert "noise" in record["note"]
    data_dir = write_matrix_dataset(out, tmp_path / "clip")
    assert validate_dataset(data_dir, check_pixels=True) == []
    data = read_dataset(data_dir)
    assert len(data.frames) == 48 and sorted({f.time for f in data.frames}) == [0.0, 0.5, 1.0]
    assert data.frames[17].file_path == "images/t001_v01.png"


def test_same_seed_same_views(generator):
    frames = clip_frames(2)
    a, b, c = (generator.generate(frames, seed=s) for s in (1, 1, 2))
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a.views, b.views, strict=True))
    assert not all(np.array_equal(x.image, y.image) for x, y in zip(a.views, c.views, strict=True))


def test_bad_frames_are_refused(generator):
    with pytest.raises(ValueError, match="frame 1"):
        generator.generate([np.zeros((256, 256, 3), np.uint8), np.zeros((256, 200, 3), np.uint8)], seed=0)


def test_missing_files_name_each_file_before_loading(tmp_path, monkeypatch):
    def heavy(*args, **kwargs):
        raise AssertionError("nothing heavy may load before the files are checked")

    monkeypatch.setattr(loading, "released_networks", heavy)
    monkeypatch.setattr(torch, "load", heavy)
    ckpt, clip = tmp_path / "syncdreamer-pretrain.ckpt", tmp_path / "ViT-L-14.pt"
    with pytest.raises(UserError) as error:
        load_syncdreamer_t_generator(SyncDreamerSettings(str(ckpt), clip_weights=str(clip)))
    message = str(error.value)
    for expected in (str(ckpt), str(clip), "--checkpoint", "--clip-weights", "drive.google.com", "openaipublic"):
        assert expected in message
    clip.write_bytes(b"")
    with pytest.raises(UserError) as error:
        load_syncdreamer_t_generator(SyncDreamerSettings(str(ckpt), clip_weights=str(clip)))
    assert str(ckpt) in str(error.value) and "--clip-weights" not in str(error.value)
    with pytest.raises(UserError, match="--clip-weights"):
        load_syncdreamer_t_generator(SyncDreamerSettings(str(clip)))


@pytest.mark.parametrize(
    ("change", "match"),
    [({"steps": 30}, "must divide 1000"), ({"guidance": "pag"}, "guidance"), ({"cfg_scales": (2.0,)}, "two scales")],
)
def test_bad_options_fail_before_loading(change, match):
    with pytest.raises(UserError, match=match):
        load_syncdreamer_t_generator(SyncDreamerSettings("missing.ckpt", **change))
