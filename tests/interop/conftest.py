"""A real Orthanc (Debian's orthanc + orthanc-dicomweb) on 127.0.0.1 for the interop tests, with synthetic patients."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(scope="session")
def orthanc():
    """Orthanc on a free loopback port with a temporary config and storage; stopped after the session."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Orthanc from Debian packages exists only on Linux")
    from interop.orthanc import OrthancServer

    with OrthancServer() as server:  # ModelUnavailable (a failure) if setup did not install it
        yield server


@pytest.fixture
def pacs_settings(orthanc, tmp_path):
    from galen.settings import Settings

    return Settings(data_dir=tmp_path / "data", pacs_url=orthanc.url, pacs_username=orthanc.username,
                    pacs_password=orthanc.password)


@pytest.fixture(scope="session")
def synthetic_written(tmp_path_factory):
    """Every synthetic patient written once (FHIR bundle + CT phantom series)."""
    from interop.synthetic import patients, write_patient

    folder = tmp_path_factory.mktemp("synthetic")
    return {p["id"]: write_patient(p["id"], folder) for p in patients()}


@pytest.fixture(scope="session")
def stored_patients(orthanc, synthetic_written):
    """The synthetic CT studies stored on the Orthanc (STOW-RS)."""
    import pydicom

    from interop.dicomweb import Pacs

    pacs = Pacs(orthanc.url, orthanc.username, orthanc.password)
    for w in synthetic_written.values():
        if w.dicom is not None:
            pacs.store([pydicom.dcmread(p) for p in sorted(w.dicom.iterdir())])
    return synthetic_written


@pytest.fixture
def ctx(tmp_path):
    """A tool context factory (no attachments unless given)."""
    from galen.settings import Settings
    from tools.base import ToolContext

    def make(attachments=None, question="", findings=None):
        return ToolContext(settings=Settings(data_dir=tmp_path / "data"), workdir=tmp_path / "work",
                           attachments=attachments or [], findings=findings or [], question=question)
    return make
