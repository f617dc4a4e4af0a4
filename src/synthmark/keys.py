"""Provider keys.

A key is 32 secret bytes. It is shown, logged and recorded only by its ``id``: a short public
fingerprint (the first 8 bytes of a domain-separated SHA-256, in hex). The bytes themselves go to
the native core and nowhere else: ``repr``, ``str``, errors and metadata carry the id.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
import warnings
from pathlib import Path

from .errors import InvalidArgumentError, InvalidTypeError, KeyFileError

KEY_BYTES = 32
MIN_KEY_BYTES = 16
_FILE_MAGIC = "synthmark-key-v1"
_ID_DOMAIN = b"synthmark/key-id/v1\x00"
_CACHE_DOMAIN = b"synthmark/key-cache-tag/v1\x00"


class Key:
    """A secret watermarking and signing key."""

    __slots__ = ("_secret", "_id")

    def __init__(self, secret: bytes):
        if not isinstance(secret, (bytes, bytearray, memoryview)):
            raise InvalidTypeError(f"key: expected bytes, got {type(secret).__name__}")
        secret = bytes(secret)
        if len(secret) < MIN_KEY_BYTES:
            raise InvalidArgumentError(f"key: expected at least {MIN_KEY_BYTES} bytes, got {len(secret)}")
        self._secret = secret
        self._id = hashlib.sha256(_ID_DOMAIN + secret).hexdigest()[:16]

    @classmethod
    def generate(cls) -> "Key":
        """A new random key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_bytes(cls, secret: bytes) -> "Key":
        return cls(secret)

    @classmethod
    def load(cls, path: str | os.PathLike, *, allow_insecure: bool = False) -> "Key":
        """Read a key file written by ``save`` (or ``synthmark keygen``).

        A file that group or others may access (any of the mode bits 0o077) is refused with
        KeyFileError, as ssh refuses such a private key: the key may already be known to others,
        and the marks and records it signs would prove nothing. ``allow_insecure=True`` loads it with
        a warning instead (e.g. a secret mounted 0644 by an orchestrator that cannot set 0600).
        """
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise KeyFileError(f"key file not found: {path}") from None
        except OSError as exc:
            raise KeyFileError(f"key file unreadable: {path}: {exc.__class__.__name__}") from None
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)  # of the file read, not of whatever the path names later
            with os.fdopen(fd, "rb") as f:
                fd = None
                raw = f.read(4096)
        except OSError as exc:
            raise KeyFileError(f"key file unreadable: {path}: {exc.__class__.__name__}") from None
        finally:
            if fd is not None:
                os.close(fd)
        if os.name == "posix" and mode & 0o077:
            msg = (f"key file {path} has mode {mode:04o}: group or others can access it, so the key may no longer "
                   "be secret")
            if not allow_insecure:
                raise KeyFileError(f"{msg}; run 'chmod 600 {path}' (or load it with allow_insecure=True, "
                                   "--allow-insecure-key on the command line)")
            warnings.warn(msg, UserWarning, stacklevel=2)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise KeyFileError(f"key file unreadable: {path}: not ASCII text") from None
        lines = text.split()
        if len(lines) != 2 or lines[0] != _FILE_MAGIC:
            raise KeyFileError(f"not a synthmark key file (expected '{_FILE_MAGIC}' header): {path}")
        try:
            secret = bytes.fromhex(lines[1])
        except ValueError:
            raise KeyFileError(f"key file is corrupt (bad hex): {path}") from None
        if len(secret) < MIN_KEY_BYTES:
            raise KeyFileError(f"key file holds a key that is too short: {path}")
        return cls(secret)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Write the key to ``path`` readable by the owner only (mode 0600).

        With ``overwrite`` an existing file is replaced by a new one (written 0600 under a temporary
        name in the same directory, fsynced, renamed over ``path``), so the result is 0600 whatever
        the old file's mode; a symlink at ``path`` is replaced, not followed. Without it an existing
        ``path`` raises KeyFileError.
        """
        path = Path(path)
        data = f"{_FILE_MAGIC}\n{self._secret.hex()}\n".encode("ascii")
        if not overwrite:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                raise KeyFileError(f"key file already exists (not overwritten): {path}") from None
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return
        from .io.atomic import fsync_dir

        folder = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=".synthmark-key.", suffix=".part", dir=folder)  # created 0600
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(folder)

    @property
    def id(self) -> str:
        """Public fingerprint of the key: safe to log, print and store."""
        return self._id

    def secret_bytes(self) -> bytes:
        """The secret itself. Only for handing to the native core; never log or store it."""
        return self._secret

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and secrets.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"Key(id={self._id!r})"

    __str__ = __repr__

    def __reduce__(self):  # pickling would copy the secret into arbitrary places
        raise TypeError("synthmark.Key cannot be pickled; save() it to a key file instead")


def cache_tag(key: Key) -> bytes:
    """A full 32-byte domain-separated SHA-256 of the key's secret: the key of in-process caches of
    keyed material (layouts, patterns). Not the public ``id``: 8 bytes can be ground for, and a cache
    keyed by it would serve one key's material to another key with the same id. Never log it."""
    return hashlib.sha256(_CACHE_DOMAIN + key.secret_bytes()).digest()
