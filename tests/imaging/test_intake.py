"""Intake of real and generated files, and clear answers for bad ones."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from galen.errors import GalenError, UnreadableFile, UnsupportedFile
from specialists.imaging.intake import describe_attachment, load_volume, to_working_spacing


def _testdata(name: str) -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file(name, download=False))


def _nibabel_data(name: str) -> Path:
    import nibabel

    return Path(nibabel.__file__).parent / "tests" / "data" / name


def test_pydicom_ct_and_mr():
    ct = describe_attachment(_testdata("CT_small.dcm"))
    assert ct.kind == "dicom" and ct.modality == "CT" and ct.shape == (1, 128, 128)
    assert ct.summary.startswith("CT, 1 series, 2-D image of 128×128, 0.66×0.66 mm")
    vol = load_volume(_testdata("CT_small.dcm"))
    assert -1100 < vol.array.min() < 0 < vol.array.max() < 4000  # rescaled to HU
    mr = describe_attachment(_testdata("MR_small.dcm"))
    assert mr.modality == "MR" and mr.shape == (1, 64, 64)


def test_nibabel_anatomical_and_4d():
    info = describe_attachment(_nibabel_data("anatomical.nii"))
    assert info.kind == "nifti" and info.shape == (25, 41, 33) and info.spacing == (2.0, 2.0, 2.0)
    four = describe_attachment(_nibabel_data("example4d.nii.gz"))
    assert "first volume was used" in four.summary and len(four.shape) == 3


def test_phantom_round_trips(phantom_files, small_phantom):
    ph = small_phantom
    for key, kind in (("nifti", "nifti"), ("folder", "dicom-folder"), ("zip", "dicom-zip")):
        info = describe_attachment(phantom_files[key])
        assert info.kind == kind and info.modality == "CT" and info.shape == ph.image.shape
        assert np.allclose(info.spacing, ph.spacing, atol=1e-3)
        vol = load_volume(phantom_files[key])
        # Same orientation (RAS, z to the head) whatever the container: voxels agree after int16 rounding.
        assert np.abs(vol.array - np.round(ph.image)).max() <= 1.0
    assert describe_attachment(phantom_files["folder"]).summary.startswith("CT, 1 series, 40 slices of 128×128, 0.80×0.80×1.25 mm")


def test_resampling_keeps_geometry(small_phantom):
    from specialists.imaging.phantom import phantom_to_volume

    vol = phantom_to_volume(small_phantom)
    arr, spacing, z_scale = to_working_spacing(vol, (2.5, 1.6, 1.6))
    assert arr.shape == (20, 64, 64) and np.allclose(spacing, (2.5, 1.6, 1.6)) and z_scale == pytest.approx(2.0)


def test_png_is_a_2d_image(tmp_path):
    from PIL import Image

    p = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)).save(p)
    info = describe_attachment(p)
    assert info.kind == "image" and info.shape == (1, 60, 80) and "2-D image" in info.summary


# --- bad inputs: a clear error or a clear choice, never a traceback of a bug ------------------------


def test_truncated_dicom(tmp_path):
    src = _testdata("CT_small.dcm").read_bytes()
    p = tmp_path / "truncated.dcm"
    p.write_bytes(src[: len(src) // 2])
    with pytest.raises(UnreadableFile, match="truncated.dcm"):
        describe_attachment(p)


def test_png_renamed_dcm(tmp_path):
    from PIL import Image

    p = tmp_path / "scan.dcm"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(p, format="PNG")
    with pytest.raises(UnsupportedFile, match="PNG image, not DICOM"):
        describe_attachment(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.nii.gz"
    p.write_bytes(b"")
    with pytest.raises(UnreadableFile, match="empty"):
        describe_attachment(p)


def test_folder_with_two_series_states_the_choice(tmp_path, small_phantom):
    from specialists.imaging.dicom_io import write_series

    ph = small_phantom
    write_series(ph.image, ph.spacing, tmp_path / "mixed" / "a", description="chest")
    write_series(ph.image[:6, :64, :64], ph.spacing, tmp_path / "mixed" / "b", description="scout", modality="MR")
    (tmp_path / "mixed" / "notes.txt").write_text("not DICOM")
    info = describe_attachment(tmp_path / "mixed")
    assert info.shape == ph.image.shape and info.n_series == 2
    assert "2 series found: used the largest, CT 'chest' (40 slices)" in info.summary and "'scout'" in info.summary


def test_oversize_nifti_refused_from_header(tmp_path):
    import nibabel as nib

    hdr = nib.Nifti1Header()
    hdr.set_data_shape((1024, 1024, 1024))
    hdr.set_data_dtype(np.int16)  # 2 GB of voxels, announced by a 352-byte header
    p = tmp_path / "huge.nii"
    p.write_bytes(hdr.binaryblock + b"\0" * 4)
    with pytest.raises(UnsupportedFile, match="too large"):
        describe_attachment(p)
    gz = tmp_path / "huge.nii.gz"
    with open(p, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    with pytest.raises(UnsupportedFile, match="too large"):
        describe_attachment(gz)


def test_oversize_dicom_refused_from_header(tmp_path):
    import pydicom

    ds = pydicom.dcmread(_testdata("CT_small.dcm"))
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4096, 4096, 64  # claims 1 G voxels; pixel data is tiny
    p = tmp_path / "huge.dcm"
    ds.save_as(p)
    with pytest.raises(UnsupportedFile, match="too large"):
        describe_attachment(p)


@pytest.mark.parametrize("content, name", [(b"hello world", "notes.dcm"), (b"\0" * 400, "x.nii"),
                                           (b"PK\x03\x04garbage", "series.zip")])
def test_garbage_is_a_clear_error(tmp_path, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(GalenError) as e:
        describe_attachment(p)
    assert name in e.value.user_message() or "not a DICOM" in e.value.user_message()


def test_multiframe_dicom(tmp_path, small_phantom):
    """An enhanced multi-frame file (frames stored in reverse order) is sorted by position."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ph = small_phantom
    img = ph.image[:8]
    nz, ny, nx = img.shape
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ny, nx, nz
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    shared = Dataset()
    po, pm = Dataset(), Dataset()
    po.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    pm.PixelSpacing, pm.SliceThickness = [ph.spacing[1], ph.spacing[2]], ph.spacing[0]
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([po]), Sequence([pm])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames, per = [], []
    for z in reversed(range(nz)):
        f, pp = Dataset(), Dataset()
        pp.ImagePositionPatient = [-(nx - 1) * ph.spacing[2], -(ny - 1) * ph.spacing[1], z * ph.spacing[0]]
        f.PlanePositionSequence = Sequence([pp])
        per.append(f)
        frames.append(np.round(img[z][::-1, ::-1]).astype(np.int16))
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.PixelData = np.stack(frames).tobytes()
    p = tmp_path / "enhanced.dcm"
    ds.save_as(p, enforce_file_format=True)
    info = describe_attachment(p)
    assert info.shape == img.shape and np.allclose(info.spacing, ph.spacing, atol=1e-3)
    assert "multi-frame" in info.summary
    assert np.abs(load_volume(p).array - np.round(img)).max() <= 1.0


def test_truncated_nifti_gz(tmp_path, phantom_files):
    data = phantom_files["nifti"].read_bytes()
    p = tmp_path / "cut.nii.gz"
    p.write_bytes(data[: len(data) // 3])
    with pytest.raises(UnreadableFile, match="cut.nii.gz"):
        describe_attachment(p)


# --- series that are not one volume: refused from the headers, with the reason ---------------------


def _edit_series(folder: Path, edit) -> None:
    import pydicom

    for i, p in enumerate(sorted(folder.iterdir())):
        ds = pydicom.dcmread(p)
        edit(i, ds)
        ds.save_as(p)


def _small_series(tmp_path: Path, name: str) -> Path:
    from specialists.imaging.dicom_io import write_series

    img = np.random.default_rng(1).normal(-800, 30, size=(6, 16, 16)).astype(np.float32)
    return write_series(img, (1.25, 0.8, 0.8), tmp_path / name)


def test_mixed_orientations_refused(tmp_path):
    folder = _small_series(tmp_path, "mixed")

    def sagittal(i, ds):
        if i == 0:
            ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    _edit_series(folder, sagittal)
    with pytest.raises(UnsupportedFile, match=r"mixes 2 slice orientations \(5 axial, 1 sagittal"):
        describe_attachment(folder)


def test_duplicate_positions_and_gaps_refused(tmp_path):
    dup = _small_series(tmp_path, "dup")
    _edit_series(dup, lambda i, ds: setattr(ds, "ImagePositionPatient", [0, 0, 0]) if i < 2 else None)
    with pytest.raises(UnsupportedFile, match="at the same position"):
        describe_attachment(dup)
    gap = _small_series(tmp_path, "gap")
    sorted(gap.iterdir())[3].unlink()
    with pytest.raises(UnsupportedFile, match="unevenly spaced .* a slice may be missing"):
        describe_attachment(gap)


def test_cr_without_geometry_is_2d_with_its_spacing(tmp_path):
    import pydicom

    ds = pydicom.dcmread(_testdata("RG1_UNCR.dcm"))
    ds.ImagerPixelSpacing = [0.15, 0.15]
    del ds.PixelSpacing
    p = tmp_path / "cr.dcm"
    ds.save_as(p)
    vol = load_volume(p)
    assert vol.is_2d and vol.spacing_known and vol.spacing[1:] == (0.15, 0.15)
    assert any("ImagerPixelSpacing" in n for n in vol.notes) and any("MONOCHROME1" in n for n in vol.notes)


def test_colour_and_cine(tmp_path):
    rgb = describe_attachment(_testdata("US1_UNCR.dcm"))
    assert rgb.shape == (1, 480, 640) and "converted to grey" in rgb.summary
    cine = describe_attachment(_testdata("color3d_jpeg_baseline.dcm"))
    assert cine.shape == (1, 480, 640) and "frame 1 was used" in cine.summary and "0.51×0.51 mm" in cine.summary


def test_derived_objects_refused():
    for name, why in (("liver.dcm", "Segmentation"), ("rtdose.dcm", "dose grid")):
        with pytest.raises(UnsupportedFile, match=why):
            describe_attachment(_testdata(name))
