"""Atomic publication of output files: write a temporary file next to the target, fsync, rename.

The target either keeps its old content or gets the complete new content; a failure leaves no
temporary file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def temp_path_for(dst: str | os.PathLike, suffix: str | None = None) -> Path:
    """A new, empty temporary file in the directory of ``dst`` (same file system, so rename is atomic).

    Keeps the extension of ``dst`` (muxers pick the format from it) unless ``suffix`` is given.
    """
    dst = Path(dst)
    suffix = dst.suffix if suffix is None else suffix
    fd, name = tempfile.mkstemp(prefix=f".{dst.stem[:40]}.", suffix=f".part{suffix}", dir=dst.parent or ".")
    os.close(fd)
    return Path(name)


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's content, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # some platforms cannot open directories; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def prepare_publish(tmp: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Give ``tmp`` the permission bits of the file it will replace (or the umask default for a new
    file; the temporary file was created 0600) and fsync its bytes, ready for the rename."""
    try:
        mode = os.stat(dst).st_mode & 0o7777
    except FileNotFoundError:
        mode = _default_mode()
    os.chmod(tmp, mode)
    fsync_file(tmp)


def publish(tmp: str | os.PathLike, dst: str | os.PathLike) -> None:
    """fsync ``tmp`` and rename it over ``dst`` atomically, then fsync the directory (see prepare_publish)."""
    prepare_publish(tmp, dst)
    os.replace(tmp, dst)
    fsync_dir(Path(dst).parent)


def remove_quietly(path: str | os.PathLike | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike, suffix: str | None = None):
    """``with atomic_output(dst) as tmp:`` write ``tmp``; on normal exit it replaces ``dst``.

    On an exception the temporary file is removed and ``dst`` is left untouched.
    """
    tmp = temp_path_for(dst, suffix)
    try:
        yield tmp
        publish(tmp, dst)
    except BaseException:
        remove_quietly(tmp)
        raise
