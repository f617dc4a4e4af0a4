"""Provider keys.

A key is 32 secret bytes. It is shown, logged and recorded only by its ``id``: a short public
fingerprint (the first 8 bytes of a domain-separated SHA-256, in hex). The bytes themselves go to
the native core and nowhere else: ``repr``, ``str``, errors and metadata carry the id.
"""

from __future__ import annotations

import hashlib
import os
import secrets
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
    def load(cls, path: str | os.PathLike) -> "Key":
        path = Path(path)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyFileError(f"key file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"key file unreadable: {path}: {exc.__class__.__name__}") from None
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
        """Write the key to ``path`` readable by the owner only (mode 0600)."""
        path = Path(path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise KeyFileError(f"key file already exists (not overwritten): {path}") from None
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{_FILE_MAGIC}\n{self._secret.hex()}\n")
            f.flush()
            os.fsync(f.fileno())

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
