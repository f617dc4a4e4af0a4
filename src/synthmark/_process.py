"""Which process owns a piece of on-disk state, and whether that owner is still running (Linux /proc,
with a kill(0) fallback elsewhere). Used to settle what a crashed process left behind: audit records in
doubt and temporary output files."""

from __future__ import annotations

import os


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


_BOOT_ID = _boot_id()


def proc_start(pid: int) -> str | None:
    """``boot_id:starttime`` of a live process (Linux), '' when unknown, None when it is not running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        stat = None
    if stat is not None:
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) < 20 or fields[0] in ("Z", "X", "x"):  # a zombie is dead: it publishes nothing
            return None
        return f"{_BOOT_ID}:{fields[19]}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


_own_start_cache: dict = {}


def own_start() -> str:
    """proc_start of this process ('' when unknown); cached per pid (a forked child has its own)."""
    pid = os.getpid()
    if pid not in _own_start_cache:
        _own_start_cache[pid] = proc_start(pid) or ""
    return _own_start_cache[pid]


def owner_alive(pid: int, pid_start: str | None) -> bool:
    """Whether process ``pid`` that had start token ``pid_start`` (None/'' when unknown) still runs."""
    now = proc_start(pid)
    if now is None:
        return False
    return not (pid_start and now and now != pid_start)  # a different start time: the pid was reused
