"""Atomic writes publish complete files/folders with normal permissions, and nothing on failure."""

import os
import stat

import pytest

from splatcore.atomic import atomic_directory, atomic_file, exchange_paths, leftover_siblings


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


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_atomic_directory_replaces_the_whole_set_never_a_mix(tmp_path, monkeypatch, exchange):
    import splatcore.atomic

    if not exchange:
        monkeypatch.setattr(splatcore.atomic, "exchange_paths", lambda a, b: False)
    target = tmp_path / "export"
    target.mkdir()
    for name in ("frame_000.ply", "frame_001.ply", "times.json"):
        (target / name).write_text("old")
    with atomic_directory(target, replace=True) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".export.tmp-")
        (tmp / "frame_000.ply").write_text("new")
        assert (target / "frame_001.ply").read_text() == "old"  # readers still see the previous set
    assert {p.name: p.read_text() for p in target.iterdir()} == {"frame_000.ply": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["export"] and leftover_siblings(target) == []


def test_exchange_paths_swaps_two_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x").write_text("from a")
    if not exchange_paths(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this system or file system cannot exchange paths atomically")
    assert (tmp_path / "b" / "x").read_text() == "from a" and not any((tmp_path / "a").iterdir())


def test_leftover_siblings_lists_what_a_killed_writer_leaves(tmp_path):
    for name in (".export.tmp-a1", ".export.old-b2", ".exports.tmp-c3", "export"):
        (tmp_path / name).mkdir()
    assert [p.name for p in leftover_siblings(tmp_path / "export")] == [".export.old-b2", ".export.tmp-a1"]
