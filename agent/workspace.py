"""The case workspace: attachments validated, de-identified and stored content-addressed.

An attached file is checked (exists, readable, not empty, within the size limit, of a known
type), DICOM is de-identified before anything is stored or logged, and the stored copy lives at
``<data>/workspace/files/<sha256>/<name>``; the original is never modified.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from galen.errors import ModelUnavailable, UnreadableFile, UnsupportedFile
from galen.privacy import scrub_filename
from galen.settings import Settings
from tools.base import Attachment

IMAGING_SUFFIXES = {".dcm", ".dicom", ".ima", ".nii", ".nii.gz", ".png", ".jpg", ".jpeg", ".zip"}
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".json": "json", ".sdf": "sdf", ".mol": "sdf", ".txt": "text", ".smi": "text"}
SUPPORTED = "DICOM (.dcm, a folder or a .zip of a series), NIfTI (.nii, .nii.gz), PNG/JPEG, CSV/TSV, JSON, SDF/MOL, TXT/SMI"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f.relative_to(path).as_posix().encode())
            h.update(_sha256(f).encode())
        return h.hexdigest()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6


def check_attachment(path: Path, settings: Settings) -> str:
    """Validate ``path`` and return its kind; raises a clear error otherwise (naming the file by
    its scrubbed name: the message may be shown or kept)."""
    shown = scrub_filename(path.name)
    if not path.exists():
        raise UnreadableFile(f"The attachment {shown} does not exist.", hint="Check the path and try again.")
    try:
        if path.is_file():
            with path.open("rb") as fh:
                fh.read(1)
    except OSError as e:
        raise UnreadableFile(f"The attachment {shown} cannot be read ({e.strerror}).") from e
    size = _size_mb(path)
    if size == 0:
        raise UnreadableFile(f"The attachment {shown} is empty.", hint="Attach the file again; it has no content.")
    if size > settings.max_attachment_mb:
        raise UnreadableFile(
            f"The attachment {shown} is {size:.0f} MB; the limit is {settings.max_attachment_mb:.0f} MB.",
            hint="Send a smaller series or raise GALEN_MAX_ATTACHMENT_MB.",
        )
    if path.is_dir():
        return "dicom-folder"
    suffix = _suffix(path)
    if suffix in IMAGING_SUFFIXES:
        return {".nii": "nifti", ".nii.gz": "nifti", ".png": "image", ".jpg": "image", ".jpeg": "image", ".zip": "dicom-zip"}.get(suffix, "dicom")
    if suffix == ".json":
        from interop.fhir_facts import is_fhir_json

        if is_fhir_json(path):  # a FHIR resource or Bundle: facts for the risk models (interop.fhir_facts)
            return "fhir"
    if suffix in TABLE_SUFFIXES:
        return TABLE_SUFFIXES[suffix]
    if suffix == "":
        # DICOM files often have no extension: look for the DICM preamble.
        with path.open("rb") as fh:
            head = fh.read(132)
        if head[128:132] == b"DICM":
            return "dicom"
    raise UnsupportedFile(
        f"The attachment {shown} is of a type Galen does not read ({suffix or 'no extension'}).",
        hint=f"Supported: {SUPPORTED}.",
    )


def _person_names(path: Path, kind: str) -> tuple[str, ...]:
    """Person names in a DICOM header (patient, referring physician ...), read before de-identification
    so that the same names can be taken out of the file's name ("Doe_Jane_chest.dcm")."""
    if kind not in ("dicom", "dicom-folder"):
        return ()
    try:
        import pydicom
    except ImportError:
        return ()
    first = path if path.is_file() else next((p for p in sorted(path.rglob("*")) if p.is_file()), None)
    if first is None:
        return ()
    try:
        ds = pydicom.dcmread(first, stop_before_pixels=True, force=True)
        names = [ds.get(k) for k in ("PatientName", "ReferringPhysicianName", "PerformingPhysicianName",
                                      "OperatorsName", "PatientMotherBirthName", "OtherPatientNames")]
    except Exception:  # noqa: BLE001 - any unreadable header simply yields no names; intake reports the file
        return ()
    out: list[str] = []
    for n in names:
        for one in (n if isinstance(n, list | tuple | pydicom.multival.MultiValue) else [n]):
            if one:
                out.append(str(one))
    return tuple(out)


def safe_name(path: Path | str) -> str:
    """The file's name fit to show or store: scrubbed, and free of the person names in its own DICOM header."""
    path = Path(path)
    kind = "dicom-folder" if path.is_dir() else "dicom" if _suffix(path) in (".dcm", ".dicom", ".ima", "") else "other"
    return scrub_filename(path.name, _person_names(path, kind))


def store_attachment(path: Path, settings: Settings) -> Attachment:
    """Validate, de-identify (DICOM) and store one attachment; returns its workspace record.

    The record's ``name`` is the file name scrubbed of identifiers (including the person names
    in its own DICOM header); the original name is never stored.
    """
    path = Path(path).expanduser()
    kind = check_attachment(path, settings)
    safe_name = scrub_filename(path.name, _person_names(path, kind))
    digest = _sha256(path)
    dest_dir = settings.resolved_data_dir() / "workspace" / "files" / digest
    imaging = kind in ("dicom", "dicom-folder", "dicom-zip", "nifti", "image")
    if imaging:
        try:
            from specialists.imaging.intake import deidentify_to, describe_attachment
        except ImportError as e:
            raise ModelUnavailable(
                "Imaging attachments need the imaging specialist, which is not installed in this version.",
            ) from e
        if not dest_dir.is_dir():
            # De-identify into a staging folder, then rename: a failure leaves nothing half-stored.
            dest_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            staging = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=".staging-"))
            try:
                produced = deidentify_to(path, staging)
                # a neutral name: original file names can carry identifiers
                produced.rename(staging / f"attachment{_suffix(path) if path.is_file() else ''}")
                staging.rename(dest_dir)
            except OSError:
                if not dest_dir.is_dir():
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        stored_path = next(p for p in sorted(dest_dir.iterdir()) if not p.name.startswith("."))
        info = describe_attachment(stored_path)
        kind, summary = info.kind, info.summary
    else:
        fhir_summary = None
        if kind == "fhir":  # validated before it is stored: an invalid resource is refused at intake
            from interop.fhir_facts import describe_attachment as describe_fhir

            fhir_summary = describe_fhir(path, safe_name)
        dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stored_path = dest_dir / f"attachment{_suffix(path)}"
        if not stored_path.exists():
            if kind == "fhir":  # names, contacts, identifiers and the birth date removed (the age is kept)
                from interop.fhir_deid import deidentify_file

                deidentify_file(path, stored_path)
            else:
                tmp = stored_path.with_name(stored_path.name + ".part")
                shutil.copyfile(path, tmp)
                tmp.rename(stored_path)
        summary = fhir_summary or f"{kind.upper()} file {safe_name}, {_size_mb(path) * 1000:.0f} kB"
    return Attachment(path=stored_path, name=safe_name, kind=kind, summary=summary, sha256=digest)
