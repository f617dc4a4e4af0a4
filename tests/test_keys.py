import os
import stat
import subprocess
import sys
from pathlib import Path

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
    path.chmod(0o600)  # the content is at fault, not the mode
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


SRC = str(Path(sm.__file__).resolve().parent.parent)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("loose", [0o644, 0o666, 0o640, 0o604, 0o777])
def test_overwrite_ends_at_0600(tmp_path, loose):
    path = tmp_path / "k.key"
    sm.Key.generate().save(path)
    os.chmod(path, loose)
    old_inode = os.stat(path).st_ino
    key = sm.Key.generate()
    key.save(path, overwrite=True)
    assert _mode(path) == 0o600
    assert sm.Key.load(path) == key
    assert os.listdir(tmp_path) == ["k.key"]  # no temporary file left
    assert os.stat(path).st_ino != old_inode  # a new file replaced the old one (never rewritten in place)


def test_keygen_force_ends_at_0600(tmp_path):
    path = tmp_path / "k.key"
    path.write_text("old contents\n")
    os.chmod(path, 0o644)
    env = dict(os.environ, PYTHONPATH=SRC)
    run = subprocess.run([sys.executable, "-m", "synthmark", "keygen", str(path), "--force"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "mode 0600" in run.stdout and _mode(path) == 0o600
    assert sm.Key.load(path).id in run.stdout


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o620, 0o660])
def test_loading_a_key_others_can_access_is_refused(tmp_path, loose):
    path = tmp_path / "k.key"
    key = sm.Key.generate()
    key.save(path)
    os.chmod(path, loose)
    with pytest.raises(KeyFileError, match=f"{loose:04o}.*chmod 600") as exc:
        sm.Key.load(path)
    assert key.secret_bytes().hex() not in str(exc.value)
    with pytest.warns(UserWarning, match=f"{loose:04o}"):
        assert sm.Key.load(path, allow_insecure=True) == key
    os.chmod(path, 0o400)  # read-only for the owner is fine
    assert sm.Key.load(path) == key


def test_cli_refuses_a_loose_key_unless_told(tmp_path):
    from synthmark.samples import make_clip

    src = make_clip(tmp_path / "c.mp4", seconds=0.3, width=128, height=96, acodec=None)
    path = tmp_path / "k.key"
    sm.Key.generate().save(path)
    os.chmod(path, 0o644)
    env = dict(os.environ, PYTHONPATH=SRC)
    base = [sys.executable, "-m", "synthmark", "inspect", src, "--key", str(path)]
    run = subprocess.run(base, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "synthmark: error:" in run.stderr and "--allow-insecure-key" in run.stderr
    assert "Traceback" not in run.stderr
    run = subprocess.run(base + ["--allow-insecure-key"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "0644" in run.stderr, run.stderr
