"""Exceptions of synthmark.

Every class also subclasses the matching builtin (the PyAV pattern), so callers can catch
``ValueError``/``TypeError`` without knowing synthmark, or ``SynthmarkError`` to catch ours only.
Messages name the argument at fault and never contain key bytes.
"""

from __future__ import annotations


class SynthmarkError(Exception):
    """Base class of every error synthmark raises on purpose."""


class InvalidArgumentError(SynthmarkError, ValueError):
    """An argument has a bad value, shape, size or range."""


class InvalidTypeError(SynthmarkError, TypeError):
    """An argument has the wrong type or dtype (synthmark never silently converts)."""


class FrameTooSmallError(InvalidArgumentError):
    """The frame or clip is too small to carry the watermark or a legible label."""


class KeyFileError(SynthmarkError, ValueError):
    """A key file is missing, malformed or of an unknown version."""


class MediaError(SynthmarkError, ValueError):
    """A media file is empty, truncated, corrupt or of an unsupported format."""


class MetadataError(SynthmarkError, ValueError):
    """An AIGC metadata record is malformed, or a container dropped it on write."""


class AuditError(SynthmarkError, RuntimeError):
    """The audit store is unreachable, read-only, or its chain does not verify."""


class OutputError(SynthmarkError, OSError):
    """An output file cannot be created or written (missing or read-only directory, name too long, ...).

    ``filename`` is the path the caller gave, never a temporary name."""

    def __init__(self, message: str, *, errno: int | None = None, filename=None):
        super().__init__(message)
        self.errno, self.filename = errno, filename

    def __str__(self) -> str:
        return self.args[0]


class OutputExistsError(OutputError, FileExistsError):
    """The output file already exists and overwriting it was not asked for."""


class LimitExceededError(MediaError):
    """A file is beyond a resource limit (pixels per frame, duration, decoded samples).

    Raised before the work that would need the memory or time; the message names the option that raises
    the limit (``max_pixels=``/``max_seconds=``, ``--max-pixels``/``--max-seconds``) for trusted files."""
