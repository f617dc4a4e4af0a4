import os
import stat

import pytest

import synthmark as sm
from synthmark.errors import InvalidArgumentError, InvalidTypeError, KeyFileError


def test_key_id_is_stable_and_secret_never_shown(tmp_path):
    key = sm.Key.generate()
    secret_hex = key.secret_bytes().hex()
    assert len(key.id) == 16
    assert secret_hex not in repr(key) and secret_hex not in str(key)
    path = tmp_path / "k.key"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = sm.Key.load(path)
    assert loaded == key and loaded.id == key.id
    assert sm.Key.generate().id != key.id


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "k.key"
    sm.Key.generate().save(path)
    with pytest.raises(KeyFileError, match="already exists"):
        sm.Key.generate().save(path)


@pytest.mark.parametrize(
    "content",
    ["", "synthmark-key-v1\n", "synthmark-key-v1\nzz\n", "other\n" + "00" * 32, "synthmark-key-v1\n" + "00" * 8],
)
def test_bad_key_files(tmp_path, content):
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(KeyFileError):
        sm.Key.load(path)
    with pytest.raises(ValueError):  # also a builtin
        sm.Key.load(path)


def test_missing_key_file(tmp_path):
    with pytest.raises(KeyFileError, match="not found"):
        sm.Key.load(tmp_path / "nope.key")


def test_bad_key_bytes():
    with pytest.raises(InvalidTypeError):
        sm.Key.from_bytes("not bytes")
    with pytest.raises(InvalidArgumentError):
        sm.Key.from_bytes(b"short")
