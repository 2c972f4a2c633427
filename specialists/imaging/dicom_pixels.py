"""Decoding DICOM pixel data into grey-level arrays, or refusing with the specific reason.

pydicom decodes every transfer syntax it supports through its plugins (pylibjpeg with libjpeg,
openjpeg and RLE, pyjpegls, python-gdcm, Pillow; see requirements.txt). This module adds what a
person needs around that: which object is not an image the models can use (a segmentation, a
dose grid), which compression has no decoder here (video), whether a failure means a damaged
file or a truncated one, and how colour, palette and inverted (MONOCHROME1) images become the
grey-level arrays the imaging models read. It also says where the in-plane pixel spacing of an
image without patient geometry comes from (``PixelSpacing``, ``ImagerPixelSpacing``, the
ultrasound region calibration) and flags it when the header records none.

Every refusal is an ``UnsupportedFile`` or ``UnreadableFile`` whose ``code`` attribute names the
class of failure (see :data:`REFUSAL_CODES`), so the intake survey can count outcomes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile

#: Refusal classes (the ``code`` of an intake error) and what each means.
REFUSAL_CODES = {
    "unreadable-header": "the header cannot be parsed (corrupt, truncated, an unknown value representation)",
    "not-an-image": "a DICOM object that carries no image the models can analyse (segmentation, dose grid, report)",
    "no-image-attributes": "pixel data without the attributes that describe it (Rows, Columns, Bits Allocated)",
    "no-decoder": "compressed with a scheme that no installed decoder reads (e.g. video)",
    "damaged-pixel-data": "compressed pixel data that every installed decoder rejected",
    "truncated": "less pixel data than the header announces",
    "geometry": "slices whose positions or orientations do not form one volume",
    "too-large": "larger than the voxel limit",
}

#: SOP classes that carry pixel data but are not an acquired image the models can read.
#: UIDs from DICOM PS3.4 Annex B (Storage Service Class, standard SOP classes).
NOT_SOURCE_IMAGES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.66.4": "a Segmentation (labels derived from another image)",
    "1.2.840.10008.5.1.4.1.1.66.7": "a Label Map Segmentation (labels derived from another image)",
    "1.2.840.10008.5.1.4.1.1.481.2": "a radiotherapy dose grid (RT Dose), not an image",
    "1.2.840.10008.5.1.4.1.1.30": "a Parametric Map (values derived from other images)",
    "1.2.840.10008.5.1.4.1.1.66": "raw data, not an image",
    "1.2.840.10008.5.1.4.1.1.104.1": "an encapsulated PDF document",
    "1.2.840.10008.5.1.4.1.1.11.1": "a presentation state (display settings for another image)",
}

_COLOUR = {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420", "YBR_PARTIAL_422"}
_ITEM_TAG_LE = b"\xfe\xff\x00\xe0"  # first item of encapsulated (compressed) pixel data


def refusal(cls: type[InvalidInput], code: str, message: str, hint: str | None = None) -> InvalidInput:
    """An intake error carrying its refusal class in ``code`` (one of :data:`REFUSAL_CODES`)."""
    err = cls(message, hint=hint)
    err.code = code  # type: ignore[attr-defined]
    return err


def sop_class_name(ds) -> str:
    """'CT Image Storage' (pydicom's name for the SOP Class UID), or the UID, or 'unknown'."""
    uid = ds.get("SOPClassUID")
    if not uid:
        return "unknown object type"
    name = getattr(uid, "name", "") or str(uid)
    return name


def header_int(ds, keyword: str, default: int | None, name: str) -> int | None:
    """An integer header field, or ``UnreadableFile`` naming the field when its value is malformed."""
    v = ds.get(keyword)
    if v in (None, ""):
        return default
    try:
        return int(v)
    except (TypeError, ValueError) as e:
        raise refusal(UnreadableFile, "unreadable-header",
                      f"{name} is not a readable DICOM file: its header field {keyword} holds {str(v)!r}, not a number.",
                      "The file was written by faulty software or damaged; export it again from the PACS.") from e


def check_not_derived(ds, name: str) -> None:
    """Refuse objects the models cannot analyse (segmentations, dose grids, documents)."""
    uid = str(ds.get("SOPClassUID", ""))
    if uid in NOT_SOURCE_IMAGES:
        raise refusal(UnsupportedFile, "not-an-image", f"{name} is {NOT_SOURCE_IMAGES[uid]}, which Galen does not analyse.",
                      "Attach the CT/MR image series it refers to.")
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise refusal(UnsupportedFile, "not-an-image",
                      f"{name} is a DICOM object without an image ({sop_class_name(ds)}, modality "
                      f"{ds.get('Modality', 'not recorded')}).", "Attach the image series itself.")
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if ds.get(k) in (None, "")]
    if missing:
        raise refusal(UnsupportedFile, "no-image-attributes",
                      f"{name} carries pixel data but its header does not describe it (missing: {', '.join(missing)}).",
                      "The file is incomplete; export the image again from the PACS.")


def _encapsulated(ds) -> bool:
    value = ds.get("PixelData")
    return isinstance(value, bytes | bytearray) and bytes(value[:4]) == _ITEM_TAG_LE


def ensure_transfer_syntax(ds, name: str) -> list[str]:
    """Fill a missing Transfer Syntax UID from how the header was encoded (uncompressed data only)."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return []
    if _encapsulated(ds):
        raise refusal(UnreadableFile, "unreadable-header",
                      f"{name} holds compressed pixel data but does not record how it was compressed "
                      f"(no Transfer Syntax UID).", "Export the image again from the PACS.")
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit is None:
        implicit, little = True, True
    uid = ImplicitVRLittleEndian if implicit else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    if meta is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = uid
    return [f"no transfer syntax recorded: read as uncompressed {uid.name}."]


def check_decoder(ds, name: str) -> None:
    """Refuse a transfer syntax that no installed pydicom decoder reads, naming it."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    ts = UID(str(ds.file_meta.TransferSyntaxUID))
    try:
        decoder = get_decoder(ts)
    except NotImplementedError as e:
        raise refusal(UnsupportedFile, "no-decoder",
                      f"{name} is compressed as {ts.name or ts}, which no installed DICOM decoder reads "
                      f"(video and private compressions are not decoded here).",
                      "Export the series uncompressed (or as JPEG / JPEG 2000) from the PACS.") from e
    if not decoder.is_available:
        missing = "; ".join(f"{k}: {', '.join(v)}" for k, v in decoder.missing_dependencies.items()) or "none"
        raise refusal(UnsupportedFile, "no-decoder",
                      f"{name} is compressed as {ts.name}, and its decoder is not installed ({missing}).",
                      "Run the setup again (scripts/setup.sh installs the pinned decoders).")


def decode_error(e: Exception, ds, name: str) -> InvalidInput:
    ts = getattr(ds.file_meta.get("TransferSyntaxUID"), "name", "") or "uncompressed"
    text = str(e)
    if "less than expected" in text or "truncated" in text.lower() or isinstance(e, EOFError):
        return refusal(UnreadableFile, "truncated", f"{name} is truncated: it holds less pixel data than its header announces.",
                       "The transfer was probably interrupted; export the image again.")
    if "Unable to decode" in text or "all available plugins" in text:
        first = next((line.strip() for line in text.splitlines()[1:] if line.strip()), "")
        return refusal(UnreadableFile, "damaged-pixel-data",
                       f"The {ts} pixel data of {name} could not be decoded by any installed decoder"
                       f"{f' ({first[:160]})' if first else ''}: the compressed data are damaged or use a variant "
                       "the decoders do not support.", "Export the image again, uncompressed if possible.")
    return refusal(UnreadableFile, "damaged-pixel-data", f"The pixel data of {name} could not be decoded ({text[:200]}).",
                   "The file may be damaged; export it again.")


def decode_frames(ds, name: str, frame: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Decoded grey-level frames ``(n, rows, cols)`` float32 with modality LUT applied, and notes.

    Colour (RGB/YBR) and palette images become luminance; MONOCHROME1 is inverted so that high
    values are bright, as in MONOCHROME2. ``frame`` decodes only that frame of a multi-frame file.

    Raises:
        UnsupportedFile, UnreadableFile: with ``code`` set (see :data:`REFUSAL_CODES`).
    """
    from pydicom.pixels import apply_color_lut, apply_modality_lut, pixel_array

    notes = ensure_transfer_syntax(ds, name)
    check_decoder(ds, name)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    try:
        arr = pixel_array(ds, index=frame) if frame is not None else ds.pixel_array
        if photometric == "PALETTE COLOR":
            arr = apply_color_lut(arr, ds)
            notes.append("palette-colour image converted to grey (luminance).")
        elif photometric in _COLOUR:
            notes.append(f"colour image ({photometric}) converted to grey (luminance).")
        elif "PixelData" in ds:
            arr = apply_modality_lut(arr, ds)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError, TypeError, EOFError, KeyError,
            IndexError, OverflowError) as e:
        raise decode_error(e, ds, name) from e
    arr = np.asarray(arr, dtype=np.float32)
    samples = header_int(ds, "SamplesPerPixel", 1, name) or 1
    colour = photometric == "PALETTE COLOR" or (photometric in _COLOUR and samples == 3)
    if colour:
        arr = arr @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma
    if arr.ndim == 2:
        arr = arr[None]
    if photometric == "MONOCHROME1":
        arr = (arr.max() + arr.min()) - arr
        notes.append("MONOCHROME1 image (low values bright) inverted to the usual grey scale.")
    overlays = sorted({t.group for t in ds.keys() if 0x6000 <= t.group <= 0x601E and t.element == 0x3000})
    if overlays:
        notes.append(f"{len(overlays)} overlay plane(s) (graphics or annotations) in the header were left out of the image.")
    return np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0), notes


def _positive_pair(value: Any) -> tuple[float, float] | None:
    try:
        pair = (float(value[0]), float(value[1]))
    except (TypeError, ValueError, IndexError):
        return None
    return pair if all(np.isfinite(pair)) and min(pair) > 0 else None


def planar_spacing(ds) -> tuple[tuple[float, float], str | None]:
    """In-plane spacing ``(row, column)`` in mm of an image without patient geometry, and a note.

    Sources, in order: ``PixelSpacing`` (also in the shared functional groups),
    ``ImagerPixelSpacing`` (projection radiographs: at the detector, corrected by the estimated
    radiographic magnification factor when the header gives one), ``NominalScannedPixelSpacing``
    (digitised film), the ultrasound region calibration (regions measured in cm). None of them:
    1 mm is assumed and the note says the spacing is unknown (``None`` note means measured).
    """
    ps = _positive_pair(ds.get("PixelSpacing"))
    sfg = ds.get("SharedFunctionalGroupsSequence")
    if ps is None and sfg and "PixelMeasuresSequence" in sfg[0]:
        ps = _positive_pair(sfg[0].PixelMeasuresSequence[0].get("PixelSpacing"))
    if ps is not None:
        return ps, None
    ips = _positive_pair(ds.get("ImagerPixelSpacing"))
    if ips is not None:
        try:
            mag = float(ds.get("EstimatedRadiographicMagnificationFactor") or 0)
        except (TypeError, ValueError):
            mag = 0.0
        if mag > 0:
            return (ips[0] / mag, ips[1] / mag), (f"pixel spacing from ImagerPixelSpacing divided by the estimated "
                                                  f"magnification factor {mag:g}.")
        return ips, "pixel spacing from ImagerPixelSpacing (at the detector, not corrected for magnification)."
    nominal = _positive_pair(ds.get("NominalScannedPixelSpacing"))
    if nominal is not None:
        return nominal, "pixel spacing from NominalScannedPixelSpacing (digitised film)."
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    deltas = set()
    for r in regions:
        if r.get("PhysicalUnitsXDirection") == 3 and r.get("PhysicalUnitsYDirection") == 3:  # 3 = cm (PS3.3 C.8.5.5.1.15)
            pair = _positive_pair((r.get("PhysicalDeltaY"), r.get("PhysicalDeltaX")))
            if pair:
                deltas.add((round(pair[0] * 10, 6), round(pair[1] * 10, 6)))
    if len(deltas) == 1:
        return next(iter(deltas)), "pixel spacing from the ultrasound region calibration."
    return (1.0, 1.0), "pixel spacing not recorded in the header: 1 pixel is taken as 1 mm, so sizes in mm are unreliable."
