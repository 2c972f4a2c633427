"""Owner-only files and folders, created that way from the first byte.

``chmod`` after ``open`` leaves a window in which another local user can open the file; these
helpers pass the mode to ``open``/``mkdir`` themselves (with a restrictive umask for folders),
and write atomically (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and parents) as owner-only (0700) if missing; tighten it if it exists."""
    path = Path(path).expanduser()
    old = os.umask(0o077)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    finally:
        os.umask(old)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:
        pass
    return path


def touch_private(path: Path | str) -> Path:
    """Create an empty owner-only (0600) file if it does not exist (never widening an existing one)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    return path


def write_private(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically, owner-only (0600)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def private_secret(path: Path | str, nbytes: int = 32) -> str:
    """A random hex secret kept in ``path`` (created 0600 atomically on first use)."""
    path = Path(path)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(nbytes))
    return path.read_text().strip()


def use_private_tmp(data_dir: Path | str) -> Path:
    """Make this process's temporary files live in ``<data_dir>/tmp`` (owner-only), not ``/tmp``.

    Sets ``tempfile.tempdir`` and ``TMPDIR`` so that libraries that unpack, convert or cache
    (zip extraction, DICOM decoding, Gradio, matplotlib) write inside the data folder, where the
    identifiers they may hold are protected and swept.
    """
    path = private_dir(Path(data_dir).expanduser() / "tmp")
    os.environ["TMPDIR"] = str(path)
    tempfile.tempdir = str(path)
    return path
