"""A stamp that a dataset's images were all decoded cleanly, so that a check already passed is not repeated.

The stamp holds a fingerprint of the checked files' sizes and modification times: any edit, added or replaced image
makes it stale, and the next check decodes again. Cheap to test (one ``stat`` per file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

STAMP_NAME = ".pixels-checked"
"""File in the dataset directory holding the fingerprint of the files whose pixels last passed a full check."""


def fingerprint_files(data_dir: Path, paths: list[str]) -> str:
    """Sizes and modification times of ``paths`` (relative to ``data_dir``); "" when one cannot be read."""
    digest = hashlib.sha256()
    for relative in sorted(paths):
        try:
            stat = (Path(data_dir) / relative).stat()
        except OSError:
            return ""
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def stamp_is_current(data_dir: Path, fingerprint: str) -> bool:
    """Whether the stamp in ``data_dir`` records exactly ``fingerprint``."""
    try:
        return bool(fingerprint) and (Path(data_dir) / STAMP_NAME).read_text(encoding="utf-8").strip() == fingerprint
    except (OSError, UnicodeDecodeError):
        return False


def write_stamp(data_dir: Path, fingerprint: str) -> None:
    """Record ``fingerprint``; best effort, since a read-only dataset is simply decoded again next time."""
    if not fingerprint:
        return
    try:
        (Path(data_dir) / STAMP_NAME).write_text(fingerprint + "\n", encoding="utf-8")
    except OSError:
        pass
