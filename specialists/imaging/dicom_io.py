"""Reading DICOM (single files, multi-frame, series in folders) into RAS volumes, and writing series.

Geometry comes from the headers: rows and columns follow ImageOrientationPatient, slices are
sorted by their ImagePositionPatient projected on the slice normal, and the slice spacing is the
median distance between sorted positions. Pixel values are rescaled (slope/intercept) to HU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from galen.errors import UnreadableFile, UnsupportedFile

MAX_FILES = 5000


def is_dicom_file(path: Path) -> bool:
    """True when the file carries the DICOM preamble magic ('DICM' at byte 128)."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def read_header(path: Path):
    """A DICOM dataset without pixel data, or ``UnreadableFile``."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as e:
        raise UnreadableFile(f"{path.name} could not be read as DICOM ({e}).",
                             hint="The file may be truncated or corrupt; export it again from the PACS.") from e


def _pixels(ds, name: str) -> np.ndarray:
    """Decoded, rescaled pixels of one dataset, or ``UnreadableFile`` (truncated, unsupported codec)."""
    if "PixelData" not in ds:
        raise UnsupportedFile(f"{name} is a DICOM object without an image ({ds.get('Modality', '?')} "
                              f"{ds.get('SOPClassUID', '')!s}).", hint="Attach the image series itself.")
    try:
        arr = ds.pixel_array.astype(np.float32)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError, TypeError, EOFError) as e:
        raise UnreadableFile(f"The pixel data of {name} could not be decoded ({e}).",
                             hint="The file may be truncated, or compressed with a codec that is not installed.") from e
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return arr * slope + intercept


def _orientation(ds) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Row and column direction cosines (LPS) and pixel spacing (row, column) in mm."""
    iop, ps = ds.get("ImageOrientationPatient"), ds.get("PixelSpacing")
    sfg = ds.get("SharedFunctionalGroupsSequence")
    if sfg:
        g = sfg[0]
        if iop is None and "PlaneOrientationSequence" in g:
            iop = g.PlaneOrientationSequence[0].get("ImageOrientationPatient")
        if ps is None and "PixelMeasuresSequence" in g:
            ps = g.PixelMeasuresSequence[0].get("PixelSpacing")
    iop = np.array([float(v) for v in iop]) if iop is not None and len(iop) == 6 else np.array([1., 0, 0, 0, 1, 0])
    ps = (float(ps[0]), float(ps[1])) if ps is not None and len(ps) == 2 else (1.0, 1.0)
    return iop[:3], iop[3:], ps


def _slice_spacing_default(ds) -> float:
    for key in ("SpacingBetweenSlices", "SliceThickness"):
        v = ds.get(key)
        if v not in (None, ""):
            try:
                if float(v) > 0:
                    return float(v)
            except (TypeError, ValueError):
                continue
    return 1.0


def to_ras(stack: np.ndarray, row_dir: np.ndarray, col_dir: np.ndarray, ps: tuple[float, float],
           origin: np.ndarray, dz: float, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Reorient a ``(slices, rows, cols)`` stack to canonical RAS ``(z, y, x)`` with its affine and spacing."""
    import nibabel as nib

    aff = np.eye(4)
    aff[:3, 0] = row_dir * ps[1]  # moving along a row = next column
    aff[:3, 1] = col_dir * ps[0]
    aff[:3, 2] = normal * dz
    aff[:3, 3] = origin
    aff[:2] *= -1  # LPS -> RAS
    img = nib.Nifti1Image(np.ascontiguousarray(stack.transpose(2, 1, 0)), aff)
    can = nib.as_closest_canonical(img)
    data = np.asarray(can.dataobj, dtype=np.float32).transpose(2, 1, 0)
    zooms = can.header.get_zooms()[:3]
    return data, can.affine, (float(zooms[2]), float(zooms[1]), float(zooms[0]))


@dataclass
class DicomSeries:
    """Files of one series with the header fields used to sort and summarise them."""

    uid: str
    files: list[Path]
    modality: str
    description: str
    rows: int
    cols: int
    frames: int = 1
    skipped: int = 0
    headers: list = field(default_factory=list, repr=False)

    @property
    def n_slices(self) -> int:
        return len(self.files) * self.frames


def scan_folder(folder: Path) -> tuple[list[DicomSeries], int]:
    """Group the DICOM files under ``folder`` by series (largest first); also count non-DICOM files."""
    groups: dict[str, DicomSeries] = {}
    ignored = 0
    count = 0
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            count += 1
            if count > MAX_FILES:
                raise UnsupportedFile(f"The folder {folder.name} holds more than {MAX_FILES} files.",
                                      hint="Attach one series at a time.")
            p = Path(root) / name
            if not is_dicom_file(p):
                ignored += 1
                continue
            try:
                ds = read_header(p)
            except UnreadableFile:
                ignored += 1
                continue
            if "Rows" not in ds:
                ignored += 1
                continue
            uid = str(ds.get("SeriesInstanceUID", f"{ds.Rows}x{ds.Columns}"))
            s = groups.get(uid)
            if s is None:
                s = groups[uid] = DicomSeries(uid=uid, files=[], modality=str(ds.get("Modality", "?")),
                                              description=str(ds.get("SeriesDescription", "")),
                                              rows=int(ds.Rows), cols=int(ds.Columns),
                                              frames=int(ds.get("NumberOfFrames", 1) or 1))
            if (int(ds.Rows), int(ds.Columns)) != (s.rows, s.cols):
                s.skipped += 1
                continue
            s.files.append(p)
            s.headers.append(ds)
    series = sorted(groups.values(), key=lambda s: -s.n_slices)
    return series, ignored


def read_series(series: DicomSeries) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Load one series (or a single multi-frame file) as a RAS ``(z, y, x)`` HU volume."""
    import pydicom

    if len(series.files) == 1:
        return read_single(series.files[0])
    ds0 = series.headers[0]
    row_dir, col_dir, ps = _orientation(ds0)
    normal = np.cross(row_dir, col_dir)
    pos = []
    for i, h in enumerate(series.headers):
        ipp = h.get("ImagePositionPatient")
        pos.append(float(np.dot([float(v) for v in ipp], normal)) if ipp is not None else
                   float(h.get("InstanceNumber", i) or i))
    order = np.argsort(pos)
    sorted_pos = np.asarray(pos)[order]
    diffs = np.diff(sorted_pos)
    dz = float(np.median(diffs)) if len(diffs) and np.median(diffs) > 0 else _slice_spacing_default(ds0)
    slices = []
    for k in order:
        try:
            ds = pydicom.dcmread(series.files[k])
        except (EOFError, OSError, ValueError) as e:
            raise UnreadableFile(f"{series.files[k].name} in the series could not be read ({e}).") from e
        slices.append(_pixels(ds, series.files[k].name))
    first = series.headers[order[0]].get("ImagePositionPatient")
    origin = np.array([float(v) for v in first]) if first is not None else np.zeros(3)
    return to_ras(np.stack(slices), row_dir, col_dir, ps, origin, dz, normal)


def read_single(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Load one DICOM file (single slice or multi-frame) as a RAS ``(z, y, x)`` volume."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as e:
        raise UnreadableFile(f"{path.name} could not be read as DICOM ({e}).",
                             hint="The file may be truncated or corrupt; export it again.") from e
    arr = _pixels(ds, path.name)
    row_dir, col_dir, ps = _orientation(ds)
    normal = np.cross(row_dir, col_dir)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames == 1 or arr.ndim == 2:
        arr = arr.reshape((1,) + arr.shape[-2:]) if arr.ndim == 2 else arr
    if arr.ndim == 4:  # colour frames: use luminance
        arr = arr.mean(-1)
    dz = _slice_spacing_default(ds)
    origin = np.array([float(v) for v in ds.ImagePositionPatient]) if "ImagePositionPatient" in ds else np.zeros(3)
    pfg = ds.get("PerFrameFunctionalGroupsSequence")
    if frames > 1 and pfg and len(pfg) == frames:
        try:
            pos = [np.array([float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]) for f in pfg]
        except (AttributeError, IndexError, KeyError):
            pos = []
        if pos:
            proj = np.array([float(np.dot(p, normal)) for p in pos])
            order = np.argsort(proj)
            arr = arr[order]
            origin = pos[order[0]]
            d = np.diff(proj[order])
            if len(d) and np.median(d) > 0:
                dz = float(np.median(d))
    return to_ras(arr, row_dir, col_dir, ps, origin, dz, normal)


def write_series(image: np.ndarray, spacing: tuple[float, float, float], folder: Path, *,
                 patient_name: str = "PHANTOM^TEST", patient_id: str = "PH0001", birth_date: str = "19600101",
                 series_uid: str | None = None, modality: str = "CT", description: str = "synthetic phantom") -> Path:
    """Write a RAS ``(z, y, x)`` HU volume as an axial DICOM series, one file per slice.

    The identifying fields are filled with the given (fake) values so that tests can check that
    de-identification removes them.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid, frame_uid = generate_uid(), generate_uid()
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
        ds.PatientSex, ds.InstitutionName = "O", "Galen Test Hospital"
        ds.StudyDate, ds.AccessionNumber, ds.ReferringPhysicianName = "20260101", "ACC123", "DOC^REFERRING"
        ds.Modality, ds.SeriesDescription = modality, description
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.SeriesNumber, ds.InstanceNumber = 1, z + 1
        # Rows run posterior (LPS +y), columns run to the patient's left (LPS +x): flip RAS y and x.
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-(nx - 1) * spacing[2], -(ny - 1) * spacing[1], z * spacing[0]]
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
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
