"""Fixtures of the imaging tests: small phantoms written to NIfTI and DICOM at test time."""

from __future__ import annotations

import pytest

from specialists.imaging.phantom import WORKING_SPACING, make_phantom


@pytest.fixture(scope="session")
def small_phantom():
    """A 40×128×128 phantom at the working spacing with an 8 mm solid and a 14 mm part-solid nodule."""
    return make_phantom(11, shape=(40, 128, 128), spacing=WORKING_SPACING, diameters_mm=[8.0, 14.0],
                        kinds=["solid", "part-solid"], shapes=["round", "lobulated"])


@pytest.fixture(scope="session")
def phantom_files(tmp_path_factory, small_phantom):
    """The small phantom as NIfTI, a DICOM folder and a DICOM zip."""
    from specialists.imaging.phantom import write_phantom_dicom, write_phantom_nifti, write_phantom_zip

    d = tmp_path_factory.mktemp("phantom")
    ph = small_phantom
    return {
        "nifti": write_phantom_nifti(ph, d / "ct_phantom.nii.gz"),
        "folder": write_phantom_dicom(ph, d / "ct_series"),
        "zip": write_phantom_zip(ph, d / "ct_series.zip"),
    }


@pytest.fixture
def ctx(tmp_path):
    from galen.settings import Settings
    from tools.base import ToolContext

    def make(attachments=None, question="", findings=None):
        return ToolContext(settings=Settings(), workdir=tmp_path / "work", attachments=attachments or [],
                           findings=findings or [], question=question)
    return make
