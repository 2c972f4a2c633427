"""Write the corrupt and hostile files used by ``evals/suites/robustness.jsonl`` (deterministic).

Run: ``python -m evals.make_robustness_fixtures`` (the files are committed; this recreates them).
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "suites" / "fixtures" / "robustness"


def _dicom_bytes() -> bytes:
    """A small, valid single-slice CT DICOM file (synthetic pixels, no patient data)."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["galen-robustness"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.Rows, ds.Columns = "CT", 64, 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelSpacing, ds.SliceThickness, ds.RescaleIntercept, ds.RescaleSlope = [0.7, 0.7], 1.25, -1024, 1
    ds.PixelData = np.random.default_rng(0).integers(0, 1200, (64, 64)).astype(np.int16).tobytes()
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def _png_bytes() -> bytes:
    from PIL import Image

    img = Image.fromarray((np.random.default_rng(1).random((32, 32)) * 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    junk = np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    dicom = _dicom_bytes()
    files = {
        "truncated.dcm": dicom[: len(dicom) // 3],  # header intact, pixel data cut off
        "png_renamed.dcm": _png_bytes(),
        "empty.dcm": b"",
        "empty.nii.gz": b"",
        "junk.nii.gz": junk,
        "junk_gzip.nii.gz": gzip.compress(junk),  # a valid gzip stream holding no NIfTI header
        "junk.png": junk[:1024],
        "text_renamed.nii.gz": b"This is a discharge letter, not an image.\n" * 20,
    }
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(files)} files to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
