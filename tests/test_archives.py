"""Attached archives are unpacked within limits counted on the bytes actually written."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from galen.archives import safe_extract, unpacked
from galen.errors import UnreadableFile, UnsupportedFile


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_normal_series_unpacks(tmp_path) -> None:
    z = _zip(tmp_path / "s.zip", {"series/001.dcm": b"x" * 1000, "series/002.dcm": b"y" * 1000})
    with unpacked(z, max_bytes=10**6, max_ratio=1000) as folder:
        assert sorted(p.name for p in folder.rglob("*.dcm")) == ["001.dcm", "002.dcm"]


def test_a_zip_bomb_is_stopped_by_the_ratio_while_unpacking(tmp_path) -> None:
    # 64 MB of zeros deflate to ~60 kB: a ratio of about 1000.
    z = _zip(tmp_path / "bomb.zip", {"a.dcm": b"\0" * (64 << 20)})
    assert z.stat().st_size < 200_000
    dest = tmp_path / "out"
    with pytest.raises(UnsupportedFile, match="times its own size"):
        safe_extract(z, dest, max_bytes=10**10, max_ratio=50)
    assert list(dest.rglob("*")) == []  # nothing half-written is left behind


def test_the_absolute_limit_holds_whatever_the_ratio(tmp_path) -> None:
    z = _zip(tmp_path / "big.zip", {f"{i}.dcm": bytes(range(256)) * 400 for i in range(10)})
    dest = tmp_path / "out"
    with pytest.raises(UnsupportedFile, match="the limit of"):
        safe_extract(z, dest, max_bytes=500_000, max_ratio=10**6)
    assert list(dest.rglob("*")) == []


def test_declared_sizes_are_not_trusted(tmp_path) -> None:
    """A member whose header under-states its size is still counted by what it writes."""
    z = tmp_path / "liar.zip"
    _zip(z, {"a.dcm": b"\0" * (8 << 20)})
    raw = bytearray(z.read_bytes())
    # Rewrite the uncompressed size in the central directory to 1 kB.
    with zipfile.ZipFile(z) as zf:
        info = zf.infolist()[0]
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (1024).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    # The old check summed the declared sizes (1 kB here) and would have unpacked it.
    with pytest.raises((UnsupportedFile, UnreadableFile)):
        safe_extract(z, tmp_path / "out", max_bytes=4 << 20, max_ratio=10**6)
    assert info.file_size == 8 << 20
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


@pytest.mark.parametrize("name", ["../escape.dcm", "/etc/evil.dcm", "a/../../escape.dcm"])
def test_member_names_that_escape_are_refused(tmp_path, name) -> None:
    z = _zip(tmp_path / "evil.zip", {name: b"x"})
    with pytest.raises(UnsupportedFile, match="unsafe path"):
        safe_extract(z, tmp_path / "out", max_bytes=10**6, max_ratio=100)
    assert not (tmp_path / "escape.dcm").exists()


def test_symbolic_links_are_refused(tmp_path) -> None:
    z = tmp_path / "link.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("series/link.dcm")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsupportedFile, match="symbolic link"):
        safe_extract(z, tmp_path / "out", max_bytes=10**6, max_ratio=100)


def test_not_a_zip_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UnreadableFile, match="not a readable zip"):
        safe_extract(bad, tmp_path / "out", max_bytes=10**6, max_ratio=100)
