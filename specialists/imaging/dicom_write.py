"""Writing volumes as DICOM series (test fixtures, synthetic patients, demos).

The series carry real patient geometry (Image Orientation / Position (Patient), pixel spacing)
and CT/MR image modules; identifying fields are filled with given (fake) values so that tests
can check that de-identification removes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_series(image: np.ndarray, spacing: tuple[float, float, float], folder: Path, *,
                 patient_name: str = "PHANTOM^TEST", patient_id: str = "PH0001", birth_date: str = "19600101",
                 series_uid: str | None = None, modality: str = "CT", description: str = "synthetic phantom",
                 study_uid: str | None = None, accession: str = "ACC123", sex: str = "O", study_date: str = "20260101",
                 study_description: str = "CT chest", series_number: int = 1) -> Path:
    """Write a RAS ``(z, y, x)`` HU volume as an axial DICOM series, one file per slice.

    The identifying fields are filled with the given (fake) values so that tests can check that
    de-identification removes them.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid, frame_uid = study_uid or generate_uid(), generate_uid()
    sop_class = CTImageStorage if modality == "CT" else MRImageStorage
    nz, ny, nx = image.shape
    for z in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = patient_name, patient_id, birth_date
        ds.PatientSex, ds.InstitutionName = sex, "Galen Test Hospital"
        ds.StudyDate, ds.AccessionNumber, ds.ReferringPhysicianName = study_date, accession, "DOC^REFERRING"
        ds.StudyTime, ds.StudyID, ds.StudyDescription = "090000", "1", study_description
        ds.SeriesDate, ds.SeriesTime, ds.ContentDate, ds.ContentTime = study_date, "090000", study_date, "090000"
        ds.ImageType, ds.Manufacturer, ds.PatientPosition = ["ORIGINAL", "PRIMARY", "AXIAL"], "Galen phantom", "FFS"
        ds.Modality, ds.SeriesDescription = modality, description
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.SeriesNumber, ds.InstanceNumber = series_number, z + 1
        # Rows run posterior (LPS +y), columns run to the patient's left (LPS +x): flip RAS y and x.
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-(nx - 1) * spacing[2], -(ny - 1) * spacing[1], z * spacing[0]]
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
        ds.SliceLocation = z * spacing[0]
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        pix = np.clip(np.round(image[z][::-1, ::-1]), -32768, 32767).astype(np.int16)
        ds.PixelData = pix.tobytes()
        ds.save_as(folder / f"slice_{z:04d}.dcm", enforce_file_format=True)
    return folder


def write_series_zip(image: np.ndarray, spacing: tuple[float, float, float], zip_path: Path, **kw) -> Path:
    """Write the series into a zip file (via a temporary folder)."""
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_series(image, spacing, Path(tmp) / "series", **kw)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.iterdir()):
                zf.write(p, f"series/{p.name}")
    return zip_path
