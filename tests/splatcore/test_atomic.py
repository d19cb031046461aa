"""Atomic writes publish complete files/folders with normal permissions, and nothing on failure."""

import os
import stat

import pytest

from splatcore.atomic import atomic_directory, atomic_file


def test_atomic_file_publishes_with_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "out" / "a.ply"
        with atomic_file(target) as tmp:
            assert tmp.parent == target.parent and tmp.suffix == ".ply"
            tmp.write_bytes(b"data")
            assert not target.exists()
        assert target.read_bytes() == b"data"
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert [p.name for p in target.parent.iterdir()] == ["a.ply"]
    finally:
        os.umask(old)


def test_atomic_file_failure_keeps_old_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_directory_publishes_whole_or_nothing(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "pngs") as tmp:
            (tmp / "x.png").write_bytes(b"1")
        assert (tmp_path / "pngs" / "x.png").read_bytes() == b"1"
        assert stat.S_IMODE((tmp_path / "pngs").stat().st_mode) == 0o755
    finally:
        os.umask(old)
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "broken") as tmp:
        (tmp / "x.png").write_bytes(b"1")
        raise RuntimeError("crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pngs"]


def test_atomic_directory_replace_swaps_or_keeps_the_old_folder(tmp_path):
    target = tmp_path / "ds"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(target, replace=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("crash")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    with atomic_directory(target, replace=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temp or old siblings left
