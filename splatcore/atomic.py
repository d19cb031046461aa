"""Atomic writes: a file or folder appears complete under its final name, or not at all.

``atomic_directory(path, replace=True)`` also replaces an existing folder as a whole (a dataset, an export set):
readers see the old folder or the new one, never a mix, and a killed writer leaves the old one in place.

`tempfile` creates private (0600 / 0700) entries; what we publish gets the permissions a plain `open()` or
`mkdir()` would give under the current umask, so exports and caches stay readable by the user's other tools.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process umask (reading it requires setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix, so format-sniffing writers work); rename on success.

    On any exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(path: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `path` (hidden, ``.<name>.tmp-XXXX``); rename it to `path` on success.

    An interrupted process leaves only the hidden temporary folder, never one that looks complete.

    Args:
        path: the folder to publish.
        replace: an existing `path` is moved aside, the new folder renamed into place, and the old one deleted
            (restored if the rename fails). Without it `path` must not exist or be empty.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~current_umask())
        if replace:
            _swap_into_place(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_into_place(tmp_dir: Path, out_dir: Path) -> None:
    """Rename ``tmp_dir`` to ``out_dir``, moving an existing ``out_dir`` aside first and deleting it after.

    Where the system can exchange the two folders in one step there is no moment without ``out_dir``; otherwise a
    kill between the two renames leaves the previous folder in a hidden ``.<name>.old-*`` sibling (see
    :func:`leftover_siblings`).
    """
    if out_dir.exists() and exchange_paths(tmp_dir, out_dir):
        shutil.rmtree(tmp_dir, ignore_errors=True)  # now holds the previous folder
        return
    old_dir = None
    if out_dir.exists():
        old_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old_dir / "data")
    try:
        os.replace(tmp_dir, out_dir)
    except BaseException:
        if old_dir is not None:  # put the previous folder back
            os.replace(old_dir / "data", out_dir)
            old_dir.rmdir()
        raise
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system or
    file system cannot (the caller falls back to two renames)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux / glibc < 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, f"cannot exchange {a} and {b}: {os.strerror(code)}")


def leftover_siblings(path: Path) -> list[Path]:
    """Hidden siblings :func:`atomic_directory` leaves only when its process is killed: ``.<name>.tmp-*`` (an
    unfinished new folder, or the previous one after an exchange) and ``.<name>.old-*`` (the previous one, between
    the two renames of a swap)."""
    path = Path(path)
    return sorted([*path.parent.glob(f".{path.name}.tmp-*"), *path.parent.glob(f".{path.name}.old-*")])
