"""The PACS workflow as pure functions, for the CLI (``galen pacs find``, ``galen ask --study/--push``) and the UI.

1. :func:`find_studies` — QIDO-RS query → rows for a study picker (:func:`picker_rows`);
2. :func:`fetch_study` — choose the image series of a study (by UID or accession), refuse it from
   its metadata if too large, retrieve it (WADO-RS) into ``<data_dir>/pacs/<key>/source``; the
   folder is then attached to the turn like any DICOM folder (the workspace de-identifies it);
3. :func:`prepare_results` — after the turn, DICOM SEG + SR (referencing the original series)
   and a FHIR Bundle from the turn's tool results, written as downloads;
4. :func:`push_results` — only after the clinician confirms: STOW-RS, then QIDO-RS to find the
   stored objects again; returns the confirmation to show.

Nothing here imports the agent or the UI; tool calls are read as the plain dicts ``galen ask
--json`` prints (``name``, ``ok``, ``result`` with ``data``, ``artifacts``, ``versions``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput
from interop.dicomweb import Pacs, StudyRow


def find_studies(settings, patient_id: str | None = None, accession: str | None = None, modality: str | None = None,
                 date: str | None = None) -> list[StudyRow]:
    return Pacs.from_settings(settings).find_studies(patient_id, accession, modality, date)


PICKER_COLUMNS = ("Date", "Patient ID", "Accession", "Modalities", "Description", "Series", "Study UID")


def picker_rows(rows: list[StudyRow]) -> list[list[str]]:
    """Table rows for a study picker (columns :data:`PICKER_COLUMNS`); the last column is the value to pass on."""
    def date(d: str) -> str:
        return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else d
    return [[date(r.date), r.patient_id, r.accession, "/".join(r.modalities), r.description,
             "" if r.n_series is None else str(r.n_series), r.study_uid] for r in rows]


@dataclass(frozen=True)
class FetchedStudy:
    """A series retrieved from the PACS for analysis (original files, identifiers included)."""

    folder: Path
    study_uid: str
    series_uid: str
    accession: str
    modality: str
    description: str
    n_instances: int
    size_mb: float

    def describe(self) -> str:
        return (f"Retrieved {self.modality} series '{self.description}' ({self.n_instances} instances, "
                f"{self.size_mb:.0f} MB) of study {self.study_uid}" + (f", accession {self.accession}" if self.accession
                                                                       else "") + ".")


def fetch_study(settings, study_uid: str | None = None, accession: str | None = None) -> FetchedStudy:
    """Retrieve the image series of one study for analysis; the size is checked before download.

    Raises:
        ConfigError: no PACS configured, or credentials refused.
        BackendUnavailable: the PACS cannot be reached.
        InvalidInput: no such study, no series, no image series, or neither/both of ``study_uid`` and ``accession``.
        UnsupportedFile: the series is larger than ``max_attachment_mb`` (nothing downloaded).
    """
    if bool(study_uid) == bool(accession):
        raise InvalidInput("Name one study: a Study Instance UID (--study) or an accession number (--accession).")
    pacs = Pacs.from_settings(settings)
    row = pacs.study_by_accession(accession) if accession else None
    study_uid = row.study_uid if row else study_uid
    series = pacs.choose_series(study_uid)
    size = pacs.check_size(study_uid, series.series_uid, settings.max_attachment_mb)
    key = hashlib.sha256(f"{study_uid}/{series.series_uid}".encode()).hexdigest()[:16]
    root = settings.resolved_data_dir() / "pacs" / key
    folder = root / "source"
    if not (folder.is_dir() and len(list(folder.glob("*.dcm"))) == size.instances):
        tmp = root / ".partial"
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp)
        pacs.retrieve_series(study_uid, series.series_uid, tmp)
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        tmp.rename(folder)
    fetched = FetchedStudy(folder, study_uid, series.series_uid, row.accession if row else "", series.modality,
                           series.description, size.instances, size.bytes / 1e6)
    (root / "pacs.json").write_text(json.dumps({k: str(v) for k, v in asdict(fetched).items()}, indent=2))
    return fetched


# --- results --------------------------------------------------------------------------------------


def _ok_result(tool_calls: list[dict], name: str) -> dict | None:
    for call in reversed(tool_calls or []):
        if call.get("name") == name and call.get("ok") and call.get("result"):
            return call["result"]
    return None


@dataclass
class PreparedResults:
    """Files written for download and what they hold; pass to :func:`push_results` after confirmation."""

    seg_path: Path
    sr_path: Path
    study_uid: str
    lesions: list[dict[str, Any]]
    summary: str
    fhir_bundle_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    def downloads(self) -> list[tuple[str, Path]]:
        out = [("DICOM SEG (segmentation)", self.seg_path), ("DICOM SR TID 1500 (measurements)", self.sr_path)]
        if self.fhir_bundle_path:
            out.append(("FHIR R4 Bundle (RiskAssessment, Observation, DiagnosticReport)", self.fhir_bundle_path))
        return out


def prepare_results(settings, source_folder: Path, tool_calls: list[dict], out_dir: Path | None = None,
                    patient_facts: list[dict] | None = None) -> PreparedResults:
    """DICOM SEG + SR (and a FHIR Bundle) from a turn's segment_image / classify_image / Brock results.

    Raises:
        InvalidInput: the turn has no successful segment_image result with a mask.
    """
    from interop.dicom_results import Algorithm, LesionResult, write_results

    seg = _ok_result(tool_calls, "segment_image")
    if seg is None:
        raise InvalidInput("This turn has no segmentation result to send back: ask Galen to segment the study first.")
    mask = next((a["path"] for a in seg.get("artifacts", []) if a.get("kind") == "nifti"), None)
    if not mask or not Path(mask).is_file():
        raise InvalidInput("The segmentation result has no lesion mask file to export.")
    cls, risk = _ok_result(tool_calls, "classify_image"), _ok_result(tool_calls, "nodule_malignancy_risk")
    lesions = LesionResult.from_findings(seg["data"], (cls or {}).get("data"), (risk or {}).get("data"))
    if not lesions:
        raise InvalidInput("No lesion was found, so there is no segmentation to send back.")
    versions = seg.get("versions", {})
    demo = bool(seg.get("demo_model"))
    seg_alg = Algorithm("Galen lung-nodule segmentation" + (" (demo model)" if demo else ""),
                        str(versions.get("seg_bundle", versions.get("segment_image", "?"))), demo)
    risk_alg = Algorithm("Brock (PanCan) full model with spiculation, McWilliams et al. NEJM 2013",
                         str((risk or {}).get("versions", {}).get("brock", "?"))) if risk else None
    out_dir = Path(out_dir) if out_dir else export_dir(settings) / hashlib.sha256(
        str(source_folder).encode()).hexdigest()[:12]
    files = write_results(Path(source_folder), Path(mask), lesions, out_dir, seg_alg, risk_alg)
    from interop.dicom_results import read_source_series

    study_uid = str(read_source_series(Path(source_folder))[0].StudyInstanceUID)
    notes = []
    if files.left_out:
        notes.append("Lesions not on any source slice (left out of the SEG): " + ", ".join(map(str, files.left_out)) + ".")
    bundle_path = None
    try:
        from interop.fhir_export import results_bundle

        bundle = results_bundle(tool_calls, patient_facts=patient_facts, imaging_study_uid=study_uid)
        bundle_path = out_dir / "results.fhir.json"
        bundle_path.write_text(bundle.model_dump_json(indent=2, exclude_none=True))
    except InvalidInput as e:
        notes.append(f"No FHIR Bundle: {e.user_message()}")
    rows = [asdict(les) for les in lesions if les.id in files.exported]
    summary = (f"DICOM SEG with {len(files.exported)} segment(s) and a TID 1500 measurement report for study {study_uid}"
               + (" (demo model: not for clinical use)" if demo else "") + ".")
    return PreparedResults(files.seg_path, files.sr_path, study_uid, rows, summary, bundle_path, notes)


def export_dir(settings) -> Path:
    path = Path(settings.fhir_export_dir).expanduser() if settings.fhir_export_dir else \
        settings.resolved_data_dir() / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class PushConfirmation:
    stored: tuple[str, ...]
    found_again: tuple[str, ...]
    study_uid: str

    def message(self) -> str:
        ok = set(self.stored) == set(self.found_again)
        return (f"Stored {len(self.stored)} result object(s) on the PACS in study {self.study_uid} (STOW-RS confirmed"
                + ("; found again by QIDO-RS)." if ok else f"; only {len(self.found_again)} found again by QIDO-RS)."))


def push_results(settings, prepared: PreparedResults) -> PushConfirmation:
    """Store the SEG and SR on the PACS (call only after the clinician confirmed), then find them again.

    Raises:
        ConfigError, BackendUnavailable: as the PACS answers.
    """
    import pydicom

    pacs = Pacs.from_settings(settings)
    datasets = [pydicom.dcmread(prepared.seg_path), pydicom.dcmread(prepared.sr_path)]
    stored = pacs.store(datasets)
    wanted = {str(d.SOPInstanceUID) for d in datasets}
    found = [str(i.get("00080018", {}).get("Value", [""])[0]) for i in pacs.find_instances(prepared.study_uid)]
    return PushConfirmation(tuple(stored), tuple(u for u in found if u in wanted), prepared.study_uid)
