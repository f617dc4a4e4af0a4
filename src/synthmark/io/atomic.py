"""Atomic publication of output files: write a temporary file next to the target, fsync, rename.

The target either keeps its old content or gets the complete new content; a failure leaves no
temporary file behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import socket
import tempfile
from pathlib import Path

from .._process import own_start, proc_start
from ..errors import OutputError

log = logging.getLogger(__name__)

# Temporary names carry their owner: .<stem>.<pid>-<host + pid namespace hash>-<start hash>.<random>.part<ext>, so a
# later job on the same target can remove what a killed process left (no final name, no record).
_OWNER_RE = re.compile(r"(\d+)-([0-9a-f]{8})-([0-9a-f]{8})\.[^.]+\.part.*")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _pid_namespace() -> str:
    """This process's PID namespace ('' when unknown): pids mean something only within it."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _host_hash() -> str:
    """Who can judge a temp file's owner pid: same host name and same PID namespace (containers that
    share a volume and a host name see different processes under the same pids)."""
    return _short_hash(f"{socket.gethostname()}\0{_pid_namespace()}")


#: bytes of the target's stem kept in a temporary name (the rest of the name is its owner and the suffix)
_STEM_BYTES = 40
#: an extension longer than this is not kept in the temporary name (it would not pick a muxer anyway)
_SUFFIX_BYTES = 16


def _name_max(folder) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _stem_tag(dst: Path) -> str:
    """The start of ``dst``'s stem used in its temporary names: at most _STEM_BYTES bytes, whole characters."""
    out, n = [], 0
    for ch in dst.stem:
        n += len(os.fsencode(ch))
        if n > _STEM_BYTES:
            break
        out.append(ch)
    return "".join(out)


def temp_path_for(dst: str | os.PathLike, suffix: str | None = None) -> Path:
    """A new, empty temporary file in the directory of ``dst`` (same file system, so rename is atomic).

    Keeps the extension of ``dst`` (muxers pick the format from it) unless ``suffix`` is given; an
    extension too long for the name limit is dropped. First removes the temporary files for the same
    target that processes of this host left when they were killed (see sweep_stale_temps). Raises
    OutputError naming ``dst`` when the file cannot be created.
    """
    given = dst
    dst = Path(dst)
    folder = dst.parent if str(dst.parent) else Path(".")
    suffix = dst.suffix if suffix is None else suffix
    sweep_stale_temps(dst)
    owner = f"{os.getpid()}-{_host_hash()}-{_short_hash(own_start())}"
    prefix = f".{_stem_tag(dst)}.{owner}."
    # mkstemp adds 8 random characters; the whole name must fit the file system's limit
    if len(os.fsencode(suffix)) > _SUFFIX_BYTES or \
            len(os.fsencode(prefix + suffix)) + 8 + len(".part") > _name_max(folder):
        suffix = ""
    try:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=f".part{suffix}", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot create the output {os.fspath(given)}: {exc.strerror or exc}",
                          errno=exc.errno, filename=os.fspath(given)) from None
    os.close(fd)
    return Path(name)


def sweep_stale_temps(dst: str | os.PathLike) -> list[Path]:
    """Remove temporary files for ``dst`` whose owner (a process of this host and PID namespace) is no
    longer running, or whose pid now belongs to another process; returns what was removed. Files of
    live processes, of other hosts and of unknown shape are left alone."""
    dst = Path(dst)
    folder = dst.parent if str(dst.parent) else Path(".")
    prefix = f".{_stem_tag(dst)}."
    host = _host_hash()
    removed = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        m = _OWNER_RE.fullmatch(name[len(prefix):])
        if m is None or m.group(2) != host:
            continue
        pid, start_hash = int(m.group(1)), m.group(3)
        now = proc_start(pid)
        if now is not None and (now == "" or _short_hash(now) == start_hash):
            continue  # the owner still runs (or cannot be told apart from it)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / name)
            removed.append(folder / name)
            log.warning("removed %s, left by process %d that is no longer running", folder / name, pid)
    return removed


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


def move_into_place(tmp: str | os.PathLike, dst: str | os.PathLike, *, replace: bool = True) -> None:
    """Rename ``tmp`` to ``dst`` atomically. Without ``replace``, FileExistsError if ``dst`` exists (even
    if it appeared a moment ago): hard link then unlink, since rename cannot refuse to replace."""
    if replace:
        os.replace(tmp, dst)
        return
    try:
        os.link(tmp, dst)
    except FileExistsError:
        raise
    except OSError as exc:  # no hard links on this file system (some network and FUSE mounts)
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(dst)) from None
        os.replace(tmp, dst)
        return
    os.unlink(tmp)


def publish(tmp: str | os.PathLike, dst: str | os.PathLike, *, replace: bool = True) -> None:
    """fsync ``tmp`` and rename it to ``dst`` atomically (over it unless not ``replace``: then
    FileExistsError), then fsync the directory (see prepare_publish)."""
    prepare_publish(tmp, dst)
    move_into_place(tmp, dst, replace=replace)
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
