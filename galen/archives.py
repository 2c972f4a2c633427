"""Unpacking attached archives safely: the one place zip files are opened for their contents.

A zip declares each member's size, but the declaration is data the sender wrote: a 2 MB file can
claim 2 MB and inflate to 2 GB. :func:`safe_extract` therefore counts the bytes actually written
while it unpacks and stops at the first of two limits — an absolute one
(``settings.max_unpacked_mb``) and a ratio to the archive's own size
(``settings.max_unpack_ratio``) — deleting what it wrote. Member names that would escape the
target folder (``../``, absolute paths, symbolic links) are refused before anything is written,
and so are archives with very many members.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from galen.errors import UnreadableFile, UnsupportedFile

MAX_MEMBERS = 20_000
_CHUNK = 1 << 20


def _limits(max_bytes: int | None, max_ratio: float | None) -> tuple[int, float]:
    if max_bytes is None or max_ratio is None:
        from galen.settings import get_settings

        s = get_settings()
        max_bytes = int(s.max_unpacked_mb * 1e6) if max_bytes is None else max_bytes
        max_ratio = s.max_unpack_ratio if max_ratio is None else max_ratio
    return int(max_bytes), float(max_ratio)


def _member_path(root: Path, info: zipfile.ZipInfo, archive: str) -> Path | None:
    """Where ``info`` may be written under ``root`` (None for a folder entry); refuses escapes and links."""
    name = info.filename.replace("\\", "/")
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and pure.parts[0].endswith(":")):
        raise UnsupportedFile(f"{archive} contains an unsafe path ({name[:80]}).",
                              hint="Re-create the archive from the series folder itself.")
    mode = (info.external_attr >> 16) & 0o170000
    if mode and stat.S_ISLNK(mode):
        raise UnsupportedFile(f"{archive} contains a symbolic link ({name[:80]}), which Galen does not follow.")
    if name.endswith("/"):
        return None
    target = (root / pure).resolve()
    if root.resolve() not in target.parents:
        raise UnsupportedFile(f"{archive} contains an unsafe path ({name[:80]}).")
    return target


def safe_extract(archive: Path, dest: Path, *, max_bytes: int | None = None, max_ratio: float | None = None,
                 display_name: str | None = None) -> int:
    """Unpack ``archive`` into ``dest`` within the limits; returns the bytes written.

    Raises:
        UnreadableFile: not a zip, or damaged.
        UnsupportedFile: an unsafe member, too many members, or a limit reached (what was
            written is removed).
    """
    archive, dest = Path(archive), Path(dest)
    shown = display_name or archive.name
    max_bytes, max_ratio = _limits(max_bytes, max_ratio)
    budget = min(max_bytes, int(max(archive.stat().st_size, 1) * max_ratio))
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise UnreadableFile(f"{shown} is not a readable zip file ({e}).") from e
    written = 0
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UnsupportedFile(f"{shown} holds {len(infos):,} files; Galen unpacks at most {MAX_MEMBERS:,}.",
                                      hint="Attach one series at a time.")
            targets = [(info, _member_path(dest, info, shown)) for info in infos]
            for info, target in targets:
                if target is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as out:
                    while block := src.read(_CHUNK):
                        written += len(block)
                        if written > budget:
                            which = ("the limit of " + f"{max_bytes / 1e6:,.0f} MB") if budget == max_bytes else (
                                f"{max_ratio:g} times its own size")
                            raise UnsupportedFile(
                                f"{shown} unpacks to more than {which}; it was not unpacked.",
                                hint="Attach the series folder, or a zip of one series (GALEN_MAX_UNPACKED_MB and "
                                     "GALEN_MAX_UNPACK_RATIO set the limits).")
                        out.write(block)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as e:
        _clear(dest)
        raise UnreadableFile(f"{shown} could not be unpacked ({e}).") from e
    except UnsupportedFile:
        _clear(dest)
        raise
    return written


def _clear(folder: Path) -> None:
    for child in list(folder.iterdir()) if folder.is_dir() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextmanager
def unpacked(archive: Path, *, max_bytes: int | None = None, max_ratio: float | None = None,
             display_name: str | None = None) -> Iterator[Path]:
    """A temporary folder holding the archive's contents, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="galen-unzip-") as tmp:
        safe_extract(Path(archive), Path(tmp), max_bytes=max_bytes, max_ratio=max_ratio, display_name=display_name)
        yield Path(tmp)
