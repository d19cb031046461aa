"""Atomic writes: a file or folder appears complete under its final name, or not at all.

:func:`replacing_directory` also replaces an existing folder as a whole (an export set): readers see the old set or
the new one, never a mix, and a killed writer leaves the old set in place.

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
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; rename it to `path` on success (which must not exist yet)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
    """Hidden siblings :func:`replacing_directory` leaves only when its process is killed (``.<name>.tmp-*``:
    an unfinished new set, or the previous set after the swap)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


@contextmanager
def replacing_directory(path: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` (if any) as a whole.

    The swap is one atomic exchange where the system offers it; elsewhere the old folder is renamed aside first and
    put back if the second rename fails. On any exception the temporary folder is removed and ``path`` is untouched;
    a killed process leaves ``path`` as it was plus a hidden ``.<name>.tmp-*`` sibling (see
    :func:`leftover_siblings`). The caller decides whether ``path`` may be replaced at all.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~current_umask())
        if not path.exists():
            os.replace(tmp, path)
            return
        if not exchange_paths(tmp, path):
            _swap_by_renames(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous folder


def _swap_by_renames(new: Path, path: Path) -> None:
    """Put ``new`` at ``path`` and the previous ``path`` at ``new`` with two renames (restoring on failure)."""
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    os.replace(path, aside / "previous")
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(aside / "previous", path)
        aside.rmdir()
        raise
    os.replace(aside / "previous", new)
    aside.rmdir()
