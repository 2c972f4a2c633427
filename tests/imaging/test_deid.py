"""De-identification removes planted identifiers and never touches the original."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pydicom

from specialists.imaging.dicom_io import write_series
from specialists.imaging.intake import deidentify_to, load_volume

PLANTED = {"PatientName": "DOE^JANE", "PatientID": "MRN-99812", "PatientBirthDate": "19571203"}


def _digest(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256()
    for p in files:
        h.update(p.read_bytes())
    return h.hexdigest()


def _check_clean(ds: pydicom.Dataset) -> None:
    text = str(ds)
    for value in PLANTED.values():
        assert value not in text
    assert "ACC123" not in text and "Galen Test Hospital" not in text and "DOC^REFERRING" not in text
    assert ds.PatientIdentityRemoved == "YES" and "PatientBirthDate" not in ds
    assert str(ds.PatientName) == "ANONYMOUS"


def _series(tmp_path: Path, n: int = 4) -> Path:
    img = np.random.default_rng(0).normal(-800, 50, size=(n, 16, 16)).astype(np.float32)
    return write_series(img, (1.25, 0.8, 0.8), tmp_path / "orig" / "series", patient_name=PLANTED["PatientName"],
                        patient_id=PLANTED["PatientID"], birth_date=PLANTED["PatientBirthDate"])


def test_single_file(tmp_path):
    src = next(iter(sorted(_series(tmp_path).iterdir())))
    before = _digest(src)
    out = deidentify_to(src, tmp_path / "clean")
    assert out.parent == tmp_path / "clean" and _digest(src) == before
    _check_clean(pydicom.dcmread(out))
    assert str(pydicom.dcmread(src).PatientName) == PLANTED["PatientName"]  # original intact


def test_folder_keeps_the_series_together(tmp_path):
    src = _series(tmp_path)
    before = _digest(src)
    out = deidentify_to(src, tmp_path / "clean")
    assert _digest(src) == before
    files = sorted(out.iterdir())
    assert len(files) == 4
    dss = [pydicom.dcmread(f) for f in files]
    for ds in dss:
        _check_clean(ds)
    # UIDs are replaced but consistently: still one series, and the images are unchanged.
    assert len({ds.SeriesInstanceUID for ds in dss}) == 1
    assert dss[0].SeriesInstanceUID != pydicom.dcmread(sorted(src.iterdir())[0]).SeriesInstanceUID
    assert np.array_equal(load_volume(out).array, load_volume(src).array)


def test_zip(tmp_path):
    src_dir = _series(tmp_path)
    z = tmp_path / "orig" / "series.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(src_dir.iterdir()):
            zf.write(p, f"s/{p.name}")
    before = _digest(z)
    out = deidentify_to(z, tmp_path / "clean")
    assert _digest(z) == before and zipfile.is_zipfile(out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == [f"s/{p.name}" for p in sorted(src_dir.iterdir())]  # every file, in order, once
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
        assert zf.testzip() is None  # every member's CRC checks
        for n in names:
            with zf.open(n) as f:
                _check_clean(pydicom.dcmread(f))
    assert np.array_equal(load_volume(out).array, load_volume(src_dir).array)


def test_non_dicom_copied_unchanged(tmp_path):
    src = tmp_path / "vol.nii.gz"
    src.write_bytes(b"not really nifti but bytes to copy")
    out = deidentify_to(src, tmp_path / "clean")
    assert out.read_bytes() == src.read_bytes() and out != src


def test_malformed_header_is_a_clear_error(tmp_path):
    """An unknown value representation gives 'not a readable DICOM file', never an internal error."""
    import pytest
    from pydicom.data import get_testdata_file

    from galen.errors import UnreadableFile

    raw = Path(get_testdata_file("CT_small.dcm", download=False)).read_bytes()
    at = raw.find(b"\x10\x00\x10\x00PN")
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(raw[:at + 4] + b"ZZ" + raw[at + 6:])
    with pytest.raises(UnreadableFile, match="bad.dcm is not a readable DICOM file"):
        deidentify_to(bad, tmp_path / "clean")
