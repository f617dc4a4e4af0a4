"""What the command line shows on stderr while it works: one status line (a progress bar, and a note
while Numba compiles kernels) on a terminal, plain lines elsewhere.

The watermark kernels are compiled on the first run after an install (cache=True: later processes
load them from the cache). That takes tens of seconds on a small machine, with nothing else to show,
so :class:`CompileNotice` says so: "compiling kernels (first run only)..." with a count and the time
spent, updated twice a second on a terminal, and a summary line when the command ends.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time


class StatusLine:
    """One line on a terminal, redrawn in place: the progress bar's text and a note side by side."""

    def __init__(self, stream=None, tty: bool | None = None):
        self.stream = sys.stderr if stream is None else stream
        self.tty = self.stream.isatty() if tty is None else tty
        self._lock = threading.Lock()
        self._bar = self._bar_short = self._note = ""
        self._drawn = False

    def set_bar(self, text: str, short: str = "") -> None:
        """``short``: what to show instead when the line would not fit the terminal (no wrapping: a
        wrapped line cannot be redrawn in place)."""
        with self._lock:
            self._bar, self._bar_short = text, short or text
            self._draw()

    def set_note(self, text: str) -> None:
        with self._lock:
            self._note = text
            self._draw()

    def _draw(self) -> None:
        if not self.tty:
            return
        width = shutil.get_terminal_size((80, 24)).columns - 1
        text = "  ".join(t for t in (self._bar, self._note) if t)
        if len(text) > width:
            text = "  ".join(t for t in (self._bar_short, self._note) if t)
        self.stream.write("\r" + text[:width] + "\033[K")
        self.stream.flush()
        self._drawn = True

    def println(self, text: str) -> None:
        """A line of its own, above the status line (which is redrawn below it)."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r\033[K")
            self.stream.write(text + "\n")
            self._drawn = False
            if self._bar or self._note:
                self._draw()
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False
            self._bar = self._bar_short = self._note = ""


class ProgressBar:
    """A text progress bar on the status line (drawn only on a terminal)."""

    def __init__(self, label: str, line: StatusLine, enabled: bool = True):
        self.label, self.line, self.enabled = label, line, enabled and line.tty

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        width = 30
        done = int(round(fraction * width))
        self.line.set_bar(f"{self.label} [{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%",
                          f"{self.label} {fraction * 100:5.1f}%")

    def close(self) -> None:
        self.line.close()


def _numba_event():
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover - numba is a dependency; without it nothing compiles
        return None
    return event


class CompileNotice:
    """``with CompileNotice(line):`` reports Numba compilations (cache misses) that happen inside.

    Nothing is shown when every kernel comes from the cache. On a terminal the status line shows
    "compiling kernels (first run only)... N compiled, S s" (refreshed twice a second); elsewhere one
    line when compilation starts. A summary line follows at the end.
    """

    TEXT = "compiling kernels (first run only)..."

    def __init__(self, line: StatusLine | None = None, *, prefix: str = "synthmark: "):
        self.line = StatusLine() if line is None else line
        self.prefix = prefix
        self.started = self.done = 0
        self._active = 0
        self._t0 = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._listener = None

    def _status(self) -> str:
        return f"{self.TEXT} {self.done} compiled, {time.perf_counter() - self._t0:.0f} s"

    def _on_start(self) -> None:
        with self._lock:
            first = self.started == 0
            self.started += 1
            self._active += 1
            if first:
                self._t0 = time.perf_counter()
        if first:
            if self.line.tty:
                self._ticker = threading.Thread(target=self._tick, name="synthmark-compile-notice", daemon=True)
                self._ticker.start()
            else:
                self.line.println(self.prefix + self.TEXT)
        if self.line.tty:
            self.line.set_note(self._status())

    def _on_end(self) -> None:
        with self._lock:
            self.done += 1
            self._active -= 1
        if self.line.tty:
            self.line.set_note(self._status())

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            if self._active > 0:
                self.line.set_note(self._status())

    def __enter__(self) -> "CompileNotice":
        event = _numba_event()
        if event is None:
            return self
        notice = self

        class _Listener(event.Listener):
            def on_start(self, ev):
                notice._on_start()

            def on_end(self, ev):
                notice._on_end()

        self._listener = _Listener()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc) -> None:
        if self._listener is not None:
            _numba_event().unregister("numba:compile", self._listener)
            self._listener = None
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.started:
            self.line.set_note("")
            s = "" if self.done == 1 else "s"
            self.line.println(f"{self.prefix}compiled {self.done} kernel{s} in {time.perf_counter() - self._t0:.1f} s "
                              "(first run only: later runs load them from the cache)")
