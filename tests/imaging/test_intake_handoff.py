"""The intake step's read of an attachment is handed to segmentation once, and only while the file is unchanged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from specialists.imaging import intake, pipeline


@pytest.fixture(autouse=True)
def _empty_slot():
    intake._handoff._slot = None
    yield
    intake._handoff._slot = None


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = intake.load_volume

    def counted(path, *a, **k):
        reads.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(intake, "load_volume", counted)
    return reads


@pytest.mark.parametrize("kind", ["zip", "folder", "nifti"])
def test_describe_then_segment_reads_the_file_once_and_sees_a_fresh_load(phantom_files, monkeypatch, kind):
    path = phantom_files[kind]
    fresh = intake.load_volume(path)
    reads = _count_reads(monkeypatch)
    intake.describe_attachment(path)
    got = intake.take_volume(path)
    assert reads == [str(path)]
    assert np.array_equal(got.array, fresh.array) and got.spacing == fresh.spacing
    assert got.notes == fresh.notes and np.array_equal(got.affine, fresh.affine)
    intake.take_volume(path)  # handed over once: the next load reads the file again
    assert len(reads) == 2


def test_describe_leaves_the_handed_over_volume_as_loaded(phantom_files):
    """Notes that describe adds for the person (multi-frame, spacing) do not leak into the segmentation's volume."""
    path = phantom_files["nifti"]
    vol = intake.load_volume(path)
    vol.spacing_known = False
    intake._handoff.keep(path, intake.MAX_VOXELS, vol)
    info = intake.describe_attachment(path)  # loads again and keeps its own volume
    assert info.notes == tuple(intake.load_volume(path).notes)
    assert intake.take_volume(path).notes == intake.load_volume(path).notes


def test_a_changed_or_other_file_is_read_again(phantom_files, tmp_path, monkeypatch):
    copy = tmp_path / "series.zip"
    shutil.copyfile(phantom_files["zip"], copy)
    intake.describe_attachment(copy)
    copy.write_bytes(phantom_files["nifti"].read_bytes())  # same path, new content
    reads = _count_reads(monkeypatch)
    with pytest.raises(Exception):  # noqa: B017 - a NIfTI named .zip is refused however it is read
        intake.take_volume(copy)
    assert reads == [str(copy)]

    intake.describe_attachment(phantom_files["folder"])
    reads.clear()
    intake.take_volume(phantom_files["zip"])  # another file: the slot is not used
    assert reads == [str(phantom_files["zip"])]


def test_a_changed_size_limit_is_read_again(phantom_files, monkeypatch):
    path = phantom_files["nifti"]
    intake.describe_attachment(path)
    reads = _count_reads(monkeypatch)
    intake.take_volume(path, max_voxels=intake.MAX_VOXELS - 1)
    assert reads == [str(path)]


def test_open_study_uses_the_handoff(phantom_files, monkeypatch):
    path = phantom_files["zip"]
    intake.describe_attachment(path)

    def no_second_read(*a, **k):
        raise AssertionError("the series was read again")

    monkeypatch.setattr(intake, "load_volume", no_second_read)
    study = pipeline.open_study(path, (1.0, 1.0, 1.0))
    assert study.image.ndim == 3
