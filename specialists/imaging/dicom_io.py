"""Reading DICOM (single files, multi-frame files, series in folders) into images with real geometry.

What is built comes from what the header really holds:

* a series of single-frame slices, or an enhanced multi-frame file, with patient geometry
  (Image Orientation / Position (Patient), pixel spacing) becomes a volume: highdicom sorts the
  frames, checks that they are regularly spaced and stacked along their normal, and applies the
  modality transform; the result is reoriented to canonical RAS ``(z, y, x)``;
* a single slice, or an image without patient geometry (a radiograph, ultrasound, a secondary
  capture), becomes a 2-D image with its pixel spacing from ``PixelSpacing``,
  ``ImagerPixelSpacing`` or the ultrasound calibration, flagged when the header records none; a
  multi-frame file without per-frame positions (a cine loop) gives its first frame.

Slices that do not form one volume (mixed orientations, two slices at one position, uneven
gaps) are refused with the reason before any pixel data is decoded. 2-D images are stored
flipped in both axes, so that :func:`specialists.imaging.intake.display_slice` shows them as the
file does, which for an axial slice is also its RAS orientation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from galen.errors import UnreadableFile, UnsupportedFile
from specialists.imaging.dicom_pixels import (
    check_decoder,
    check_not_derived,
    decode_error,
    decode_frames,
    ensure_transfer_syntax,
    header_int,
    planar_spacing,
    refusal,
)
from specialists.imaging.dicom_write import write_series, write_series_zip  # noqa: F401  (re-exported)

MAX_FILES = 5000
#: Largest angle between two slices' orientations still treated as one orientation (cosine tolerance).
ORIENTATION_TOL = 1e-3


def _looks_like_raw_dataset(head: bytes) -> bool:
    """A DICOM data set without the 128-byte preamble (ACR-NEMA style): it starts with a group 0x0002/0x0008 tag."""
    return len(head) >= 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[3:4] == b"\x00"


def is_dicom_file(path: Path) -> bool:
    """True for the DICOM preamble magic ('DICM' at byte 128) or a data set written without a preamble."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return (len(head) == 132 and head[128:132] == b"DICM") or _looks_like_raw_dataset(head)


_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}


def _convert_all(ds) -> None:
    """Convert every element now (pydicom converts lazily), sequences included, pixel data excepted."""
    for tag in list(ds.keys()):
        if tag in _PIXEL_TAGS:
            continue
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                _convert_all(item)


def read_dataset(path: Path, *, pixels: bool = True):
    """A fully parsed DICOM dataset, or ``UnreadableFile`` (code ``unreadable-header``) saying why not.

    Every element is converted here (pydicom converts lazily), so a header with an unknown value
    representation or a malformed value fails now, with the file named, rather than later.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(132)
        raw = not (len(head) == 132 and head[128:132] == b"DICM")
        # A header read defers large values, so pixel data is known to exist without being loaded.
        ds = pydicom.dcmread(path, defer_size=None if pixels else 4096, force=raw)
        _convert_all(ds)
    except (InvalidDicomError, NotImplementedError, EOFError, OSError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, OverflowError, UnicodeDecodeError) as e:
        detail = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise refusal(UnreadableFile, "unreadable-header", f"{path.name} is not a readable DICOM file ({detail}).",
                      "The file is damaged or was written by faulty software; export it again from the PACS.") from e
    if raw and "SOPClassUID" not in ds and "Rows" not in ds:
        raise refusal(UnreadableFile, "unreadable-header",
                      f"{path.name} is not a readable DICOM file (no DICOM preamble and no image header).")
    return ds


def read_header(path: Path):
    """The dataset without pixel data (see :func:`read_dataset`)."""
    return read_dataset(path, pixels=False)


@dataclass
class DicomImage:
    """A decoded DICOM image: ``(z, y, x)`` array, RAS affine of the ``(x, y, z)`` index, spacing in mm."""

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]
    modality: str
    description: str
    is_2d: bool
    spacing_known: bool = True
    notes: list[str] = field(default_factory=list)


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
    """Group the DICOM image files under ``folder`` by series (largest first); also count files left out."""
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
                rows, cols = header_int(ds, "Rows", None, p.name), header_int(ds, "Columns", None, p.name)
                frames = header_int(ds, "NumberOfFrames", 1, p.name) or 1
            except UnreadableFile:
                ignored += 1
                continue
            if rows is None or cols is None:
                ignored += 1
                continue
            uid = str(ds.get("SeriesInstanceUID", f"{rows}x{cols}"))
            s = groups.get(uid)
            if s is None:
                s = groups[uid] = DicomSeries(uid=uid, files=[], modality=str(ds.get("Modality", "?")),
                                              description=str(ds.get("SeriesDescription", "")),
                                              rows=rows, cols=cols, frames=frames)
            if (rows, cols) != (s.rows, s.cols):
                s.skipped += 1
                continue
            s.files.append(p)
            s.headers.append(ds)
    series = sorted(groups.values(), key=lambda s: -s.n_slices)
    return series, ignored


# --- geometry --------------------------------------------------------------------------------


def _floats(value, n: int) -> np.ndarray | None:
    try:
        arr = np.array([float(v) for v in value], float)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (n,) and np.all(np.isfinite(arr)) else None


def _iop(ds) -> np.ndarray | None:
    """Image Orientation (Patient), top level or in the shared functional groups; None if absent or degenerate."""
    iop = _floats(ds.get("ImageOrientationPatient") or [], 6)
    sfg = ds.get("SharedFunctionalGroupsSequence")
    if iop is None and sfg and "PlaneOrientationSequence" in sfg[0]:
        iop = _floats(sfg[0].PlaneOrientationSequence[0].get("ImageOrientationPatient") or [], 6)
    if iop is None or min(np.linalg.norm(iop[:3]), np.linalg.norm(iop[3:])) < 0.5:
        return None
    return iop


def _has_frame_positions(ds) -> bool:
    pfg = ds.get("PerFrameFunctionalGroupsSequence")
    return bool(pfg) and all("PlanePositionSequence" in f for f in pfg)


def _orientation_name(iop: np.ndarray) -> str:
    normal = np.abs(np.cross(iop[:3], iop[3:]))
    return ("sagittal", "coronal", "axial")[int(np.argmax(normal))]


def check_series_geometry(headers: list, name: str) -> None:
    """Refuse slices that cannot form one volume, from their headers alone.

    Raises:
        UnsupportedFile: (code ``geometry``) slices without position, mixed orientations,
            two slices at one position, or uneven gaps.
    """
    iops = [_iop(h) for h in headers]
    ipps = [_floats(h.get("ImagePositionPatient") or [], 3) for h in headers]
    without = sum(1 for a, b in zip(iops, ipps, strict=True) if a is None or b is None)
    if without:
        raise refusal(UnsupportedFile, "geometry", f"{without} of the {len(headers)} slices of {name} have no position "
                      "or orientation in their headers, so they cannot be stacked into a volume.",
                      "Export the series again from the PACS, or attach a single image.")
    groups: list[tuple[np.ndarray, int]] = []
    for iop in iops:
        for i, (ref, n) in enumerate(groups):
            if np.allclose(iop, ref, atol=ORIENTATION_TOL * 10):
                groups[i] = (ref, n + 1)
                break
        else:
            groups.append((iop, 1))
    if len(groups) > 1:
        parts = ", ".join(f"{n} {_orientation_name(ref)}" + (" (oblique)" if np.abs(ref).max() < 0.99 else "")
                          for ref, n in sorted(groups, key=lambda g: -g[1]))
        raise refusal(UnsupportedFile, "geometry", f"The series {name} mixes {len(groups)} slice orientations ({parts} "
                      "slices), so it is not one volume.",
                      "Attach (or choose on the PACS) one reconstruction with a single orientation; localisers "
                      "belong in their own series.")
    normal = np.cross(iops[0][:3], iops[0][3:])
    pos = np.sort([float(np.dot(p, normal)) for p in ipps])
    if len(pos) > 1:
        gaps = np.diff(pos)
        if np.any(gaps < 1e-3):
            raise refusal(UnsupportedFile, "geometry", f"The series {name} has {int(np.sum(gaps < 1e-3)) + 1} slices at "
                          "the same position (two acquisitions, echoes or time points in one series).",
                          "Choose one acquisition (or split the series) and attach it alone.")
        med = float(np.median(gaps))
        if gaps.max() - gaps.min() > max(0.01 * med, 0.05):
            raise refusal(UnsupportedFile, "geometry", f"The slices of {name} are unevenly spaced (gaps from "
                          f"{gaps.min():.2f} to {gaps.max():.2f} mm): a slice may be missing.",
                          "Attach the complete series.")


def _from_hd_volume(vol, modality: str, description: str, notes: list[str], axial: bool = True) -> DicomImage:
    """A highdicom volume (LPS, any orientation) as a RAS ``(z, y, x)`` image with its RAS ``(x, y, z)`` affine."""
    if vol.spatial_shape[0] == 1 and not axial:
        vol = vol.flip_spatial((1, 2))  # a single non-axial slice: keep its plane, store it flipped for display
        is_2d = True
    else:
        vol = vol.to_patient_orientation("HAR")  # axis 0 toward the head, 1 anterior, 2 to the patient's right
        is_2d = vol.spatial_shape[0] == 1
    arr = np.asarray(vol.array, dtype=np.float32)
    lps_zyx = np.asarray(vol.affine, float)
    perm = np.zeros((4, 4))
    perm[0, 2] = perm[1, 1] = perm[2, 0] = perm[3, 3] = 1  # (x, y, z, 1) index -> (z, y, x, 1)
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps_zyx @ perm
    spacing = tuple(float(s) for s in vol.spacing)
    if not np.isfinite(arr).all():  # one fast pass; nan_to_num's three passes only when something needs fixing
        arr = np.nan_to_num(arr)
    return DicomImage(np.ascontiguousarray(arr), affine, spacing, modality, description, is_2d, True, notes)


def _geometry_error(e: Exception, name: str, ds=None):
    """The refusal for a highdicom failure: a pixel-data problem (decode, truncation) or a geometry one."""
    text = str(e)
    if ds is not None and any(w in text.lower() for w in ("pixel data", "decode", "plugin", "bytes")):
        return decode_error(e, ds, name)
    if "perpendicular" in text.lower():
        why = "its slices are not stacked along their normal (a tilted gantry or a sheared acquisition)"
    elif "spac" in text.lower():
        why = "its slices are not regularly spaced"
    else:
        why = text.splitlines()[0][:160] if text else type(e).__name__
    return refusal(UnsupportedFile, "geometry", f"{name} cannot be built into a volume: {why}.",
                   "Attach a standard axial reconstruction of the series.")


def _volume_of_series(datasets: list, name: str, notes: list[str]) -> DicomImage:
    import highdicom as hd

    missing_for = [ds for ds in datasets if "FrameOfReferenceUID" not in ds]
    for ds in missing_for:
        ds.FrameOfReferenceUID = "2.25.1"  # geometry still comes from each slice's own position and orientation
    if missing_for:
        notes.append("no Frame of Reference UID in the header: the slices' own positions were used.")
    for ds in datasets:
        notes += [n for n in ensure_transfer_syntax(ds, name) if n not in notes]
        check_decoder(ds, name)
    try:
        vol = hd.get_volume_from_series(datasets, dtype=np.float32)
    except (ValueError, RuntimeError, AttributeError, KeyError, TypeError, IndexError, EOFError) as e:
        raise _geometry_error(e, name, datasets[0]) from e
    d0 = datasets[0]
    axial = _orientation_name(_iop(d0)) == "axial"
    return _from_hd_volume(vol, str(d0.get("Modality", "?")), str(d0.get("SeriesDescription", "")), notes, axial)


def _planar(ds, name: str, notes: list[str], frame: int | None = None) -> DicomImage:
    arr, more = decode_frames(ds, name, frame)
    (dy, dx), spacing_note = planar_spacing(ds)
    notes = notes + more + ([spacing_note] if spacing_note else [])
    image = np.ascontiguousarray(arr[:1][:, ::-1, ::-1])
    known = spacing_note is None or "not recorded" not in spacing_note
    return DicomImage(image, np.diag([dx, dy, 1.0, 1.0]), (1.0, float(dy), float(dx)), str(ds.get("Modality", "?")),
                      str(ds.get("SeriesDescription", "")), True, known, notes)


def _colour(ds) -> bool:
    return str(ds.get("PhotometricInterpretation", "")).upper().startswith(("RGB", "YBR", "PALETTE"))


def load_file(path: Path) -> DicomImage:
    """Load one DICOM file: an enhanced multi-frame volume, a single slice or a 2-D image.

    Raises:
        UnreadableFile, UnsupportedFile: with the specific reason (``code`` attribute, see dicom_pixels).
    """
    import highdicom as hd

    path = Path(path)
    ds = read_dataset(path)
    check_not_derived(ds, path.name)
    frames = header_int(ds, "NumberOfFrames", 1, path.name) or 1
    has_geometry = _iop(ds) is not None and not _colour(ds)
    if frames > 1 and has_geometry and _has_frame_positions(ds):
        notes: list[str] = []
        if "FrameOfReferenceUID" not in ds:
            ds.FrameOfReferenceUID = "2.25.1"
            notes.append("no Frame of Reference UID in the header: the frames' own positions were used.")
        notes += ensure_transfer_syntax(ds, path.name)
        check_decoder(ds, path.name)
        try:
            vol = hd.Image.from_dataset(ds, copy=False).get_volume(dtype=np.float32)
        except (ValueError, RuntimeError, AttributeError, KeyError, TypeError, IndexError, EOFError) as e:
            raise _geometry_error(e, path.name, ds) from e
        return _from_hd_volume(vol, str(ds.get("Modality", "?")), str(ds.get("SeriesDescription", "")), notes)
    if frames == 1 and has_geometry and _floats(ds.get("ImagePositionPatient") or [], 3) is not None \
            and planar_spacing(ds)[1] is None:
        return _volume_of_series([ds], path.name, [])
    if frames > 1:
        img = _planar(ds, path.name, [f"multi-frame file of {frames} frames without per-frame positions (a cine "
                                      "loop or a stack of projections): frame 1 was used as a 2-D image."], frame=0)
        return img
    return _planar(ds, path.name, [])


def load_series(series: DicomSeries) -> DicomImage:
    """Load one series of single-frame files (or its one multi-frame file) as an image.

    Raises:
        UnreadableFile, UnsupportedFile: with the specific reason.
    """
    if len(series.files) == 1:
        return load_file(series.files[0])
    name = f"'{series.description}'" if series.description else f"of {series.modality}"
    check_not_derived(series.headers[0], f"The series {name}")
    check_series_geometry(series.headers, name)
    datasets = [read_dataset(p) for p in series.files]
    if any(_colour(d) for d in datasets):
        raise refusal(UnsupportedFile, "geometry", f"The series {name} is a stack of colour images, which Galen does "
                      "not build into a volume.", "Attach one image of it.")
    return _volume_of_series(datasets, name, [])
