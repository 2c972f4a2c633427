"""Galen against a real PACS (Orthanc over DICOMweb): find, retrieve, refuse what it must, before downloading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from galen.errors import BackendUnavailable, ConfigError, InvalidInput, UnsupportedFile


def test_find_by_patient_accession_modality_date(pacs_settings, stored_patients):
    from interop.workflow import find_studies, picker_rows

    rows = find_studies(pacs_settings, patient_id="galen-synth-001")
    assert len(rows) == 1 and rows[0].accession == "SYN0001" and rows[0].modalities == ("CT",)
    assert rows[0].study_uid == stored_patients["galen-synth-001"].study_uid
    assert [r.patient_id for r in find_studies(pacs_settings, accession="SYN0002")] == ["galen-synth-002"]
    assert {r.patient_id for r in find_studies(pacs_settings, modality="CT")} >= {"galen-synth-001", "galen-synth-002"}
    assert [r.accession for r in find_studies(pacs_settings, date="2026-02-10")] == ["SYN0001"]
    assert {r.accession for r in find_studies(pacs_settings, date="2026-02-01..2026-03-31")} >= {"SYN0001", "SYN0002"}
    assert find_studies(pacs_settings, patient_id="nobody") == []
    table = picker_rows(rows)
    assert table[0][0] == "2026-02-10" and table[0][-1] == rows[0].study_uid
    with pytest.raises(InvalidInput, match="not a study date"):
        find_studies(pacs_settings, date="last tuesday")


def test_fetch_by_accession_gives_a_readable_series(pacs_settings, stored_patients):
    from interop.workflow import fetch_study
    from specialists.imaging.intake import describe_attachment

    fetched = fetch_study(pacs_settings, accession="SYN0001")
    assert fetched.modality == "CT" and fetched.n_instances == 40 and fetched.folder.is_dir()
    assert fetched.folder.is_relative_to(pacs_settings.data_dir)
    info = describe_attachment(fetched.folder)
    assert info.shape == (40, 128, 128) and info.summary.startswith("CT, 1 series, 40 slices")
    again = fetch_study(pacs_settings, study_uid=fetched.study_uid)  # already there: not downloaded again
    assert again.folder == fetched.folder


def test_pacs_down_and_refused_credentials(orthanc, tmp_path):
    from galen.settings import Settings
    from interop.orthanc import free_port
    from interop.workflow import find_studies

    down = Settings(data_dir=tmp_path, pacs_url=f"http://127.0.0.1:{free_port()}/dicom-web")
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        find_studies(down)
    wrong = Settings(data_dir=tmp_path, pacs_url=orthanc.url, pacs_username="galen", pacs_password="wrong")
    with pytest.raises(ConfigError, match=r"refused the credentials \(HTTP 401\)"):
        find_studies(wrong)
    with pytest.raises(ConfigError, match="No PACS is configured"):
        find_studies(Settings(data_dir=tmp_path))


def test_study_without_series_or_images(pacs_settings, orthanc, stored_patients):
    import highdicom  # noqa: F401  (an SR-only study is stored below)
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    from interop.dicomweb import Pacs
    from interop.workflow import fetch_study

    with pytest.raises(InvalidInput, match="has no series"):
        fetch_study(pacs_settings, study_uid=generate_uid())
    sr = pydicom.dcmread(get_testdata_file("test-SR.dcm", download=False))
    Pacs(orthanc.url, orthanc.username, orthanc.password).store([sr])
    with pytest.raises(InvalidInput, match=r"holds no image series \(only SR\)"):
        fetch_study(pacs_settings, study_uid=str(sr.StudyInstanceUID))
    with pytest.raises(InvalidInput, match="no study with accession number NOPE"):
        fetch_study(pacs_settings, accession="NOPE")


def _series_datasets(tmp_path: Path, accession: str, edit=None, n: int = 6, rows: int = 16):
    import pydicom

    from specialists.imaging.dicom_io import write_series

    img = np.random.default_rng(3).normal(-800, 30, size=(n, rows, rows)).astype(np.float32)
    folder = write_series(img, (1.25, 0.8, 0.8), tmp_path / accession, accession=accession, patient_id=f"P-{accession}")
    dss = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    for i, ds in enumerate(dss):
        if edit:
            edit(i, ds)
    return dss


def test_series_with_mixed_orientations_is_refused_after_retrieval(pacs_settings, orthanc, tmp_path):
    from interop.dicomweb import Pacs
    from interop.workflow import fetch_study
    from specialists.imaging.intake import describe_attachment

    def tilt(i, ds):
        if i == 0:
            ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    Pacs(orthanc.url, orthanc.username, orthanc.password).store(_series_datasets(tmp_path, "MIXED1", tilt))
    fetched = fetch_study(pacs_settings, accession="MIXED1")
    with pytest.raises(UnsupportedFile, match="mixes 2 slice orientations"):
        describe_attachment(fetched.folder)


def test_a_2_gb_study_is_refused_before_download(pacs_settings, orthanc, tmp_path):
    """Headers that announce 2 GB of pixels (the stored files are tiny): refused from the metadata, nothing fetched."""
    from interop.dicomweb import Pacs
    from interop.workflow import fetch_study

    def huge(i, ds):
        ds.Rows, ds.Columns, ds.NumberOfFrames = 4096, 4096, 32  # 1 GB per instance as announced
    Pacs(orthanc.url, orthanc.username, orthanc.password).store(_series_datasets(tmp_path, "HUGE1", huge, n=2))
    with pytest.raises(UnsupportedFile, match=r"about 2\.1 GB of pixel data .* more than the 512 MB limit; nothing was "
                                               "downloaded"):
        fetch_study(pacs_settings, accession="HUGE1")
    assert not (pacs_settings.data_dir / "pacs").exists() or not any((pacs_settings.data_dir / "pacs").rglob("*.dcm"))
