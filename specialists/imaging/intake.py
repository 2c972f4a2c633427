"""Imaging intake: recognise, validate, load and summarise an attached image or series.

Reads DICOM (a single file, a multi-frame file, a folder of slices, a zip of a series), NIfTI
(``.nii``, ``.nii.gz``) and PNG/JPEG (as a 2-D image) into one :class:`Volume`: a float32 array
``(z, y, x)`` in canonical RAS orientation (z toward the head), voxel spacing in mm and the
modality. Size is checked from the headers before any pixel data is read, so an oversize
volume is refused with bounded memory.

The agent's intake step calls :func:`describe_attachment` and :func:`deidentify_to`.
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from galen.errors import UnreadableFile, UnsupportedFile
from specialists.imaging.deid import deidentify_to  # noqa: F401  (re-exported for the agent's intake)
from specialists.imaging.dicom_io import (
    DicomImage,
    DicomSeries,
    is_dicom_file,
    load_file,
    load_series,
    read_header,
    scan_folder,
)
from specialists.imaging.dicom_pixels import header_int, refusal

#: Largest volume loaded (voxels): 300 M float32 voxels is 1.2 GB; larger inputs are refused.
MAX_VOXELS = 300_000_000
#: Largest zip accepted, uncompressed (bytes), to refuse zip bombs before extracting.
MAX_UNZIPPED_BYTES = 2_000_000_000

AttachmentKind = Literal["dicom", "dicom-folder", "dicom-zip", "nifti", "image"]
_PNG, _JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


@dataclass
class Volume:
    """A loaded image: HU (CT) or raw intensities, ``(z, y, x)`` RAS, spacing in mm."""

    array: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray
    modality: str
    source: str
    is_2d: bool = False
    description: str = ""
    notes: list[str] = field(default_factory=list)
    n_series: int = 1
    #: False when the header records no pixel spacing (1 mm assumed; sizes in mm are unreliable).
    spacing_known: bool = True


@dataclass(frozen=True)
class AttachmentInfo:
    """What an imaging attachment is, in one quotable line and as fields."""

    kind: AttachmentKind
    summary: str
    modality: str
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    n_series: int = 1
    notes: tuple[str, ...] = ()


def attachment_kind(path: Path) -> AttachmentKind:
    """The kind of an imaging attachment, from its content (not only its name).

    Raises:
        UnreadableFile: missing or empty.
        UnsupportedFile: not an imaging file Galen reads (e.g. a PNG renamed ``.dcm``).
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableFile(f"The attachment {path.name} does not exist.")
    if path.is_dir():
        return "dicom-folder"
    if path.stat().st_size == 0:
        raise UnreadableFile(f"The attachment {path.name} is empty (0 bytes).", hint="Attach the file again.")
    with open(path, "rb") as f:
        head = f.read(132)
    name = path.name.lower()
    is_png, is_jpeg = head.startswith(_PNG), head.startswith(_JPEG)
    if name.endswith((".png", ".jpg", ".jpeg")):
        if not (is_png or is_jpeg):
            raise UnsupportedFile(f"{path.name} is named as an image but is not a PNG or JPEG file.")
        return "image"
    if name.endswith(".dcm") and (is_png or is_jpeg):
        raise UnsupportedFile(f"{path.name} is named .dcm but is a {'PNG' if is_png else 'JPEG'} image, not DICOM.",
                              hint=f"Rename it to .{'png' if is_png else 'jpg'} to analyse it as a 2-D image.")
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if zipfile.is_zipfile(path):
        return "dicom-zip"
    if is_dicom_file(path):
        return "dicom"
    if is_png or is_jpeg:
        return "image"
    raise UnsupportedFile(f"{path.name} is not a DICOM, NIfTI, PNG or JPEG file.",
                          hint="Attach a DICOM file, folder or zip, a .nii/.nii.gz volume, or a PNG/JPEG image.")


def _check_size(shape: tuple[int, ...], name: str, max_voxels: int) -> None:
    n = int(np.prod([int(s) for s in shape]))
    if n > max_voxels:
        raise refusal(UnsupportedFile, "too-large", 
            f"{name} is too large to analyse here: {'×'.join(str(int(s)) for s in shape)} = {n / 1e6:.0f} million "
            f"voxels (limit {max_voxels / 1e6:.0f} million).",
            "Crop the volume to the region of interest or attach a thicker-slice reconstruction.")


@contextmanager
def _unzipped(path: Path) -> Iterator[Path]:
    """Extract a zip into a temporary folder within the unpacking limits (:mod:`galen.archives`)."""
    from galen.archives import unpacked

    with unpacked(path) as folder:
        yield folder


def _choose_series(series: list[DicomSeries], ignored: int, name: str, max_voxels: int) -> tuple[DicomSeries, list[str]]:
    if not series:
        raise UnsupportedFile(f"{name} holds no readable DICOM image files"
                              f"{f' ({ignored} other files ignored)' if ignored else ''}.",
                              hint="Attach a folder or zip that contains the .dcm slices of one series.")
    chosen = series[0]
    notes = []
    if len(series) > 1:
        others = "; ".join(f"{s.modality} '{s.description}' ({s.n_slices} slices)" for s in series[1:])
        notes.append(f"{len(series)} series found: used the largest, {chosen.modality} '{chosen.description}' "
                     f"({chosen.n_slices} slices); not used: {others}.")
    if chosen.skipped:
        notes.append(f"{chosen.skipped} slices of another size were left out of the series.")
    if ignored:
        notes.append(f"{ignored} non-DICOM files were ignored.")
    _check_size((chosen.n_slices, chosen.rows, chosen.cols), name, max_voxels)
    return chosen, notes


def _volume(img: DicomImage, name: str, notes: list[str], n_series: int = 1) -> Volume:
    return Volume(img.array, img.spacing, img.affine, img.modality, name, is_2d=img.is_2d, description=img.description,
                  notes=notes + img.notes, n_series=n_series, spacing_known=img.spacing_known)


def _load_folder(folder: Path, name: str, max_voxels: int) -> Volume:
    series, ignored = scan_folder(folder)
    chosen, notes = _choose_series(series, ignored, name, max_voxels)
    return _volume(load_series(chosen), name, notes, len(series))


def _load_nifti(path: Path, max_voxels: int) -> Volume:
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    try:
        img = nib.load(str(path))
    except (ImageFileError, OSError, EOFError, ValueError) as e:
        raise UnreadableFile(f"{path.name} could not be read as NIfTI ({e}).") from e
    shape = tuple(int(s) for s in img.shape)
    notes = []
    if len(shape) > 4 or (len(shape) == 4 and any(s > 1 for s in shape[4:])):
        raise UnsupportedFile(f"{path.name} has {len(shape)} dimensions {shape}; only 3-D (or 4-D) volumes are read.")
    _check_size(shape[:3], path.name, max_voxels)
    try:
        if len(shape) == 4 and shape[3] > 1:
            notes.append(f"4-D NIfTI with {shape[3]} volumes: the first volume was used.")
            img = img.slicer[..., 0]
        elif len(shape) == 4:
            img = img.slicer[..., 0]
        elif len(shape) == 2:
            img = nib.Nifti1Image(np.asarray(img.dataobj)[..., None], img.affine)
        can = nib.as_closest_canonical(img)
        data = np.asarray(can.dataobj, dtype=np.float32)
    except (OSError, EOFError, ValueError, zlib.error) as e:
        raise UnreadableFile(f"The voxel data of {path.name} could not be read ({e}); the file may be truncated.") from e
    data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0).transpose(2, 1, 0)
    zooms = can.header.get_zooms()[:3]
    spacing = (float(zooms[2]), float(zooms[1]), float(zooms[0]))
    # NIfTI has no modality field: call it CT when the intensities look like Hounsfield units.
    lo, hi = np.percentile(data, [1, 99]) if data.size else (0, 0)
    modality = "CT" if lo <= -700 and 0 < hi < 4000 else "unknown"
    return Volume(np.ascontiguousarray(data), spacing, can.affine, modality, path.name,
                  is_2d=data.shape[0] == 1, notes=notes)


def _load_image(path: Path, max_voxels: int) -> Volume:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            _check_size((1, im.size[1], im.size[0]), path.name, max_voxels)
            arr = np.asarray(im.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise UnreadableFile(f"{path.name} could not be read as an image ({e}).") from e
    # stored flipped like every 2-D image, so that display_slice shows it as the file does
    return Volume(np.ascontiguousarray(arr[None, ::-1, ::-1]), (1.0, 1.0, 1.0), np.eye(4), "photo", path.name,
                  is_2d=True, notes=["2-D image without pixel spacing: 1 pixel is taken as 1 mm."], spacing_known=False)


def load_volume(path: Path, max_voxels: int = MAX_VOXELS) -> Volume:
    """Load any supported imaging attachment.

    Raises:
        UnreadableFile: empty, truncated or corrupt.
        UnsupportedFile: not an imaging file, too large, or a DICOM object without an image.
    """
    path = Path(path)
    kind = attachment_kind(path)
    if kind == "dicom-folder":
        return _load_folder(path, path.name, max_voxels)
    if kind == "dicom-zip":
        with _unzipped(path) as folder:
            return _load_folder(folder, path.name, max_voxels)
    if kind == "nifti":
        return _load_nifti(path, max_voxels)
    if kind == "image":
        return _load_image(path, max_voxels)
    ds = read_header(path)
    from specialists.imaging.dicom_pixels import check_not_derived

    check_not_derived(ds, path.name)
    frames = header_int(ds, "NumberOfFrames", 1, path.name) or 1
    rows, cols = header_int(ds, "Rows", 0, path.name), header_int(ds, "Columns", 0, path.name)
    samples = header_int(ds, "SamplesPerPixel", 1, path.name) or 1
    _check_size((frames, rows, cols, samples), path.name, max_voxels)
    return _volume(load_file(path), path.name, [])


def summarise(vol: Volume, kind: str) -> str:
    """'CT, 1 series, 64 slices of 512×512, 0.70×0.70×1.25 mm' or 'CR, 2-D image of 1841×1955, 0.10×0.10 mm'."""
    z, y, x = vol.array.shape
    if kind == "image":
        return f"2-D image, {x}×{y} pixels, spacing unknown"
    sz, sy, sx = vol.spacing
    series = f"{vol.n_series} series, " if kind.startswith("dicom") else ""
    modality = vol.modality if vol.modality not in ("unknown", "?") else f"{kind.upper()} volume (modality not recorded)"
    if vol.is_2d:
        size = f"{sx:.2f}×{sy:.2f} mm" if vol.spacing_known else "pixel spacing unknown"
        text = f"{modality}, {series}2-D image of {x}×{y}, {size}"
    else:
        text = (f"{modality}, {series}{z} slice{'s' if z != 1 else ''} of {x}×{y}, "
                f"{sx:.2f}×{sy:.2f}×{sz:.2f} mm")
    if vol.notes:
        text += " (" + " ".join(vol.notes) + ")"
    return text


def describe_attachment(path: Path, max_voxels: int = MAX_VOXELS) -> AttachmentInfo:
    """Check and summarise an imaging attachment for the agent's intake step.

    The file is loaded (bounded by ``max_voxels``, checked from the headers first) so that a
    truncated file is caught here rather than later.

    Raises:
        UnreadableFile: missing, empty, truncated or corrupt.
        UnsupportedFile: not an imaging file, or too large.
    """
    kind = attachment_kind(Path(path))
    vol = load_volume(Path(path), max_voxels)
    _handoff.keep(Path(path), max_voxels, vol)
    notes = list(vol.notes)  # the volume itself is left as loaded: the handed-off copy must match a fresh load
    if kind == "dicom" and vol.array.shape[0] > 1:
        notes.append(f"multi-frame file with {vol.array.shape[0]} frames.")
    if not vol.spacing_known and not any("spacing not recorded" in n for n in notes):
        notes.append("pixel spacing not recorded: sizes in mm are unreliable.")
    described = dataclasses.replace(vol, notes=notes)
    return AttachmentInfo(kind=kind, summary=summarise(described, kind), modality=vol.modality,
                          shape=tuple(int(s) for s in vol.array.shape), spacing=vol.spacing,
                          n_series=vol.n_series, notes=tuple(notes))


class _Handoff:
    """The volume :func:`describe_attachment` just loaded, kept for the one next load of that file.

    The intake step reads an attachment to check and describe it; segmentation reads the same
    stored file moments later. Handing the volume over saves the second read (a 300-file series
    or its zip: 2-3 s). One volume at most; it is handed over once (:func:`take_volume`) and only
    while the file is unchanged: same path, size, modification time and inode of the file or of
    every file under the folder, and the same size limit.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._slot: tuple[tuple, Volume] | None = None

    @staticmethod
    def key(path: Path, max_voxels: int) -> tuple | None:
        try:
            path = path.resolve()
            files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
            stats = tuple((str(f), st.st_size, st.st_mtime_ns, st.st_ino) for f in files for st in [f.stat()])
        except OSError:
            return None
        return (str(path), max_voxels, stats)

    def keep(self, path: Path, max_voxels: int, vol: Volume) -> None:
        key = self.key(path, max_voxels)
        with self._lock:
            self._slot = (key, vol) if key is not None else None

    def take(self, path: Path, max_voxels: int) -> Volume | None:
        with self._lock:
            slot, self._slot = self._slot, None
        if slot is None or slot[0] != self.key(path, max_voxels):
            return None
        return dataclasses.replace(slot[1], notes=list(slot[1].notes))


_handoff = _Handoff()


def take_volume(path: Path, max_voxels: int = MAX_VOXELS) -> Volume:
    """:func:`load_volume`, but the volume :func:`describe_attachment` just read of this unchanged
    file when there is one (see :class:`_Handoff`); the same volume a fresh load gives."""
    return _handoff.take(Path(path), max_voxels) or load_volume(Path(path), max_voxels)


def to_working_spacing(vol: Volume, spacing: tuple[float, float, float]) -> tuple[np.ndarray, tuple, float]:
    """Resample a volume (linear) to ``spacing``; 2-D inputs keep their single slice.

    Returns:
        The array, its actual spacing and the working-slice → input-slice factor.
    """
    from scipy import ndimage

    target = (vol.spacing[0] if vol.is_2d else spacing[0], spacing[1], spacing[2])
    factors = [s / t for s, t in zip(vol.spacing, target, strict=False)]
    if np.allclose(factors, 1.0, atol=1e-3):
        return vol.array.astype(np.float32), tuple(vol.spacing), 1.0
    out = ndimage.zoom(vol.array.astype(np.float32), factors, order=1, mode="nearest", grid_mode=True)
    actual = tuple(s * n / m for s, n, m in zip(vol.spacing, vol.array.shape, out.shape, strict=False))
    return out, actual, actual[0] / vol.spacing[0]


WINDOWS = {"lung": (-600.0, 1500.0), "mediastinum": (40.0, 400.0), "brain": (40.0, 80.0)}


def window(arr: np.ndarray, level: float, width: float) -> np.ndarray:
    """Display windowing: HU → uint8 grey levels for ``level ± width/2``."""
    lo = level - width / 2
    return (np.clip((arr - lo) / width, 0, 1) * 255).astype(np.uint8)


def display_slice(arr2d: np.ndarray) -> np.ndarray:
    """A RAS ``(y, x)`` slice in radiological display (anterior up, patient's right on the left)."""
    return arr2d[::-1, ::-1]
