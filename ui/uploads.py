"""Files between the browser and the server: uploads accepted, results published, the cache swept.

Everything lives in ``<data_dir>/ui-cache`` (owner-only), which is Gradio's upload folder for
this process (``GRADIO_TEMP_DIR``), never ``/tmp``:

- **Uploads** are accepted only when Gradio's own upload route stored them: the path resolves
  inside the upload folder, its parent folder is named by Gradio's keyed hash of the file's
  content (a secret seed plus the bytes, so a path cannot be forged without the file itself),
  and Gradio recorded it as uploaded in this process. Anything else a client names — the thread
  database, the users file, ``/etc/passwd`` — is refused before it is opened. An accepted upload
  is deleted once its turn has stored the de-identified copy in the workspace.
- **Published** results (overlays, grids, downloads, case reports) are copied into a fresh
  folder per turn with an unguessable name.
- The **sweep** deletes anything older than ``ui_cache_max_age_h`` at start-up and then at most
  every ten minutes.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from galen.files import private_dir

PUBLISHED = "galen-out"
_sweep_lock = threading.Lock()
_last_sweep = [0.0]


class UploadRefused(Exception):
    """A file entry the client sent that is not one of its own uploads (the reason is for the log)."""


def cache_root(data_dir: Path) -> Path:
    """The UI's cache folder inside the data folder, created owner-only."""
    return private_dir(Path(data_dir) / "ui-cache")


def use_cache(data_dir: Path) -> Path:
    """Point Gradio's upload/cache folder at ``<data_dir>/ui-cache`` (before any Blocks is built)."""
    root = cache_root(data_dir)
    os.environ["GRADIO_TEMP_DIR"] = str(root)
    return root


def _upload_folder() -> Path:
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def accept_upload(raw: Any, blocks: Any = None) -> Path:
    """The local path of one file entry of a message, if and only if it is this server's upload.

    Args:
        raw: a path string or Gradio's file dict (``{"path": ...}``) from the message.
        blocks: the running ``gr.Blocks`` (its ``upload_file_set`` lists what was uploaded).

    Raises:
        UploadRefused: anything else (the path is never opened).
    """
    from gradio.processing_utils import hash_file

    from galen.privacy import scrub_filename

    text = raw if isinstance(raw, str) else (raw or {}).get("path") if isinstance(raw, dict) else None
    if not text or not isinstance(text, str) or "\x00" in text:
        raise UploadRefused("no path")
    shown = scrub_filename(text)  # the reason goes to the log: never a raw file name
    root = _upload_folder()
    path = Path(os.path.realpath(text))
    if root not in path.parents or path.parent.parent != root:
        raise UploadRefused(f"outside the upload folder: {shown!r}")
    uploaded = getattr(blocks, "upload_file_set", set()) if blocks is not None else None
    if uploaded is not None and text not in uploaded and str(path) not in uploaded:
        raise UploadRefused(f"not uploaded through this server: {shown!r}")
    if not path.is_file():
        raise UploadRefused(f"not a file: {shown!r}")
    if hash_file(path) != path.parent.name:
        raise UploadRefused(f"content does not match its upload folder: {shown!r}")
    return path


def discard_upload(path: Path) -> None:
    """Delete an accepted upload and its hash folder (the workspace keeps the de-identified copy)."""
    root = _upload_folder()
    folder = Path(path).resolve().parent
    if folder.parent == root:
        shutil.rmtree(folder, ignore_errors=True)


def publish(paths: list[str]) -> list[str]:
    """Copy files into a fresh, unguessable folder Gradio may serve (one per turn, never shared)."""
    if not paths:
        return []
    folder = private_dir(_upload_folder() / PUBLISHED / uuid.uuid4().hex)
    out = []
    for p in paths:
        dest = folder / Path(p).name
        shutil.copyfile(p, dest)
        os.chmod(dest, 0o600)
        out.append(str(dest))
    return out


def publish_text(text: str, name: str) -> str:
    from galen.files import write_private

    folder = private_dir(_upload_folder() / PUBLISHED / uuid.uuid4().hex)
    return str(write_private(folder / name, text))


def sweep(root: Path, max_age_s: float, *, force: bool = False, every_s: float = 600.0) -> int:
    """Delete files under ``root`` older than ``max_age_s`` (and folders left empty); returns the count.

    Runs at most every ``every_s`` seconds unless ``force``.
    """
    now = time.time()
    with _sweep_lock:
        if not force and now - _last_sweep[0] < every_s:
            return 0
        _last_sweep[0] = now
    removed = 0
    root = Path(root)
    if not root.is_dir():
        return 0
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            p = Path(dirpath) / name
            try:
                if now - p.lstat().st_mtime > max_age_s:
                    p.unlink()
                    removed += 1
            except OSError:
                continue
        if Path(dirpath) != root:
            try:
                os.rmdir(dirpath)  # only succeeds when empty
            except OSError:
                pass
    return removed
