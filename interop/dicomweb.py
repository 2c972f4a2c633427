"""The PACS over DICOMweb: find studies (QIDO-RS), retrieve a series (WADO-RS), store results (STOW-RS).

Built on dicomweb-client. Every failure a person can meet becomes one clear error: a PACS that
cannot be reached (``BackendUnavailable``), credentials it refuses (``ConfigError``), a study
that does not exist or has no image series (``InvalidInput``), a series too large to analyse
(``UnsupportedFile``, code ``too-large``, decided from the series' metadata before any pixel data
is downloaded), a store the PACS did not accept (``BackendUnavailable`` with its reasons).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from galen.errors import BackendUnavailable, ConfigError, InvalidInput, UnsupportedFile

T = TypeVar("T")

#: Modalities whose series hold images the models can read, in order of preference.
IMAGE_MODALITIES = ("CT", "MR", "PT", "CR", "DX", "MG", "US", "NM", "XA", "RF", "OT", "SC")


def _first(item: dict, tag: str, default: Any = None) -> Any:
    """The first value of a DICOM JSON attribute (PS3.18 F.2), person names as their alphabetic form."""
    values = (item.get(tag) or {}).get("Value") or []
    if not values:
        return default
    v = values[0]
    return v.get("Alphabetic", "") if isinstance(v, dict) else v


def _all(item: dict, tag: str) -> list:
    return list((item.get(tag) or {}).get("Value") or [])


@dataclass(frozen=True)
class StudyRow:
    """One study as QIDO-RS returns it (the fields a study picker shows)."""

    study_uid: str
    patient_id: str
    patient_name: str
    accession: str
    date: str
    description: str
    modalities: tuple[str, ...]
    n_series: int | None
    n_instances: int | None

    @classmethod
    def from_json(cls, item: dict) -> StudyRow:
        n_ser, n_inst = _first(item, "00201206"), _first(item, "00201208")
        return cls(study_uid=str(_first(item, "0020000D", "")), patient_id=str(_first(item, "00100020", "")),
                   patient_name=str(_first(item, "00100010", "")), accession=str(_first(item, "00080050", "")),
                   date=str(_first(item, "00080020", "")), description=str(_first(item, "00081030", "")),
                   modalities=tuple(str(m) for m in _all(item, "00080061")),
                   n_series=None if n_ser is None else int(n_ser), n_instances=None if n_inst is None else int(n_inst))


@dataclass(frozen=True)
class SeriesRow:
    series_uid: str
    modality: str
    description: str
    number: int | None
    n_instances: int | None

    @classmethod
    def from_json(cls, item: dict) -> SeriesRow:
        num, n = _first(item, "00200011"), _first(item, "00201209")
        return cls(series_uid=str(_first(item, "0020000E", "")), modality=str(_first(item, "00080060", "")),
                   description=str(_first(item, "0008103E", "")), number=None if num is None else int(num),
                   n_instances=None if n is None else int(n))


@dataclass
class SeriesSize:
    """Pixel bytes of a series, estimated from its metadata (Rows × Columns × frames × samples × bits)."""

    bytes: int
    instances: int
    notes: list[str] = field(default_factory=list)


def normalise_date(text: str | None) -> str | None:
    """'2026-01-05', '20260105', '2026-01-01..2026-01-31' or '20260101-20260131' → a QIDO date (range)."""
    if not text:
        return None
    parts = re.split(r"\.\.|(?<=\d)-(?=\d{8}$)|/|\s+to\s+", text.strip())
    out = []
    for p in parts:
        digits = re.sub(r"[^0-9]", "", p)
        if len(digits) != 8:
            raise InvalidInput(f"'{text}' is not a study date: use YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD.")
        out.append(digits)
    return "-".join(out)


class Pacs:
    """A DICOMweb PACS (QIDO-RS, WADO-RS, STOW-RS at one root URL)."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout_s: float = 30.0) -> None:
        try:
            import requests
            from dicomweb_client.api import DICOMwebClient
        except ImportError as e:  # the optional `pacs` extra
            raise ConfigError("Talking to a PACS needs the DICOMweb client, which is not installed.",
                              hint="pip install 'galen[pacs]' (dicomweb-client; requirements-pacs.txt).") from e

        if not re.match(r"^https?://", url or ""):
            raise ConfigError(f"The PACS URL {url!r} is not an http(s) URL.",
                              hint="Set GALEN_PACS_URL to the DICOMweb root, e.g. http://pacs-host:8042/dicom-web.")
        self.url = url.rstrip("/")
        session = requests.Session()
        if username:
            session.auth = (username, password or "")
        self._client = DICOMwebClient(url=self.url, session=session, timeout=timeout_s)
        # dicomweb-client retries failed requests with back-off by default; a PACS that is down should
        # be reported at once, not after minutes.
        self._client.set_http_retry_params(retry=False)

    @classmethod
    def from_settings(cls, settings) -> Pacs:
        if not settings.pacs_url:
            raise ConfigError("No PACS is configured.",
                              hint="Set GALEN_PACS_URL (and GALEN_PACS_USERNAME / GALEN_PACS_PASSWORD) to use a PACS.")
        pw = settings.pacs_password.get_secret_value() if settings.pacs_password else None
        return cls(settings.pacs_url, settings.pacs_username, pw, settings.pacs_timeout_s)

    # -- error handling ------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T], not_found: str | None = None) -> T:
        import requests

        try:
            return fn()
        except requests.HTTPError as e:
            status = getattr(e.response, "status_code", None)
            if status in (401, 403):
                raise ConfigError(f"The PACS at {self.url} refused the credentials (HTTP {status}) while trying to "
                                  f"{what}.", hint="Check GALEN_PACS_USERNAME and GALEN_PACS_PASSWORD.") from e
            if status == 404 and not_found:
                raise InvalidInput(not_found) from e
            raise BackendUnavailable(f"The PACS at {self.url} answered HTTP {status} while trying to {what}.") from e
        except (requests.ConnectionError, requests.Timeout) as e:
            raise BackendUnavailable(f"The PACS at {self.url} cannot be reached ({type(e).__name__}) while trying to "
                                     f"{what}.", hint="Check GALEN_PACS_URL and that the PACS is running.") from e
        except requests.RequestException as e:
            raise BackendUnavailable(f"The request to the PACS at {self.url} failed while trying to {what} ({e}).") from e

    # -- QIDO-RS ------------------------------------------------------------------------------

    def find_studies(self, patient_id: str | None = None, accession: str | None = None, modality: str | None = None,
                     date: str | None = None, limit: int = 100) -> list[StudyRow]:
        """Studies matching every given criterion (none given: the most recent ``limit``)."""
        filters: dict[str, str] = {}
        if patient_id:
            filters["PatientID"] = patient_id
        if accession:
            filters["AccessionNumber"] = accession
        if modality:
            filters["ModalitiesInStudy"] = modality.upper()
        d = normalise_date(date)
        if d:
            filters["StudyDate"] = d
        fields = ["StudyDescription", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
                  "ModalitiesInStudy"]
        items = self._call("search for studies", lambda: self._client.search_for_studies(
            search_filters=filters, fields=fields, limit=limit))
        return [StudyRow.from_json(i) for i in items]

    def find_series(self, study_uid: str) -> list[SeriesRow]:
        items = self._call(f"list the series of study {study_uid}", lambda: self._client.search_for_series(
            study_uid, fields=["SeriesDescription", "NumberOfSeriesRelatedInstances"]),
            not_found=f"The PACS has no study {study_uid}.")
        return [SeriesRow.from_json(i) for i in items]

    def study_by_accession(self, accession: str) -> StudyRow:
        rows = self.find_studies(accession=accession)
        if not rows:
            raise InvalidInput(f"The PACS has no study with accession number {accession}.")
        if len(rows) > 1:
            raise InvalidInput(f"{len(rows)} studies have accession number {accession}: "
                               + "; ".join(f"{r.study_uid} ({r.date} {r.description})" for r in rows[:5]) + ".",
                               hint="Name one with --study UID.")
        return rows[0]

    def choose_series(self, study_uid: str) -> SeriesRow:
        """The image series to analyse: the largest of the most preferred modality."""
        series = self.find_series(study_uid)
        if not series:
            raise InvalidInput(f"The study {study_uid} has no series on the PACS: there is no image to analyse.")
        images = [s for s in series if s.modality in IMAGE_MODALITIES]
        if not images:
            kinds = ", ".join(sorted({s.modality or "?" for s in series}))
            raise InvalidInput(f"The study {study_uid} holds no image series (only {kinds}).")
        best = min(IMAGE_MODALITIES.index(s.modality) for s in images)
        return max((s for s in images if IMAGE_MODALITIES.index(s.modality) == best),
                   key=lambda s: s.n_instances or 0)

    # -- WADO-RS ------------------------------------------------------------------------------

    def series_size(self, study_uid: str, series_uid: str) -> SeriesSize:
        """Pixel bytes of a series from its WADO-RS metadata (no pixel data is transferred)."""
        items = self._call(f"read the metadata of series {series_uid}",
                           lambda: self._client.retrieve_series_metadata(study_uid, series_uid),
                           not_found=f"The PACS has no series {series_uid} in study {study_uid}.")
        total, notes = 0, []
        for it in items:
            try:
                rows, cols = int(_first(it, "00280010", 0)), int(_first(it, "00280011", 0))
                frames = int(_first(it, "00280008", 1) or 1)
                samples = int(_first(it, "00280002", 1) or 1)
                bits = int(_first(it, "00280100", 16) or 16)
            except (TypeError, ValueError):
                notes.append("an instance's image size could not be read from its metadata")
                continue
            total += rows * cols * frames * samples * ((bits + 7) // 8)
        return SeriesSize(total, len(items), notes)

    def check_size(self, study_uid: str, series_uid: str, max_mb: float) -> SeriesSize:
        """Refuse (before download) a series whose pixel data exceeds ``max_mb``."""
        size = self.series_size(study_uid, series_uid)
        if size.bytes > max_mb * 1e6:
            err = UnsupportedFile(
                f"Series {series_uid} of study {study_uid} is about {size.bytes / 1e9:.1f} GB of pixel data "
                f"({size.instances} instances, from its metadata), more than the {max_mb:.0f} MB limit; nothing was "
                "downloaded.", hint="Choose a smaller reconstruction (thicker slices) or raise GALEN_MAX_ATTACHMENT_MB.")
            err.code = "too-large"  # type: ignore[attr-defined]
            raise err
        return size

    def retrieve_series(self, study_uid: str, series_uid: str, dest: Path) -> Path:
        """Download a series' instances into ``dest`` (one ``.dcm`` file each); returns ``dest``."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)

        def fetch() -> int:
            n = 0
            for ds in self._client.iter_series(study_uid, series_uid):
                ds.save_as(dest / f"{n:05d}.dcm", enforce_file_format=True)
                n += 1
            return n

        n = self._call(f"retrieve series {series_uid}", fetch,
                       not_found=f"The PACS has no series {series_uid} in study {study_uid}.")
        if n == 0:
            raise InvalidInput(f"The series {series_uid} of study {study_uid} has no instances on the PACS.")
        return dest

    # -- STOW-RS ------------------------------------------------------------------------------

    def store(self, datasets: list) -> list[str]:
        """Store instances; returns the SOP Instance UIDs the PACS confirmed. Raises if any was refused."""
        response = self._call("store the results", lambda: self._client.store_instances(datasets))
        failed = list(response.get("FailedSOPSequence", []) or [])
        if failed:
            reasons = ", ".join(f"{f.get('ReferencedSOPInstanceUID', '?')} (reason {f.get('FailureReason', '?')})"
                                for f in failed)
            raise BackendUnavailable(f"The PACS refused {len(failed)} of {len(datasets)} result objects: {reasons}.")
        stored = [str(r.ReferencedSOPInstanceUID) for r in response.get("ReferencedSOPSequence", []) or []]
        missing = {str(d.SOPInstanceUID) for d in datasets} - set(stored)
        if missing:
            raise BackendUnavailable(f"The PACS did not confirm {len(missing)} of {len(datasets)} result objects.")
        return stored

    def find_instances(self, study_uid: str, modality: str | None = None) -> list[dict]:
        """Instances of a study (optionally of one modality), as DICOM JSON."""
        filters = {"Modality": modality} if modality else {}
        return self._call(f"list the instances of study {study_uid}", lambda: self._client.search_for_instances(
            study_uid, search_filters=filters), not_found=f"The PACS has no study {study_uid}.")

    def retrieve_instance(self, study_uid: str, series_uid: str, sop_uid: str):
        return self._call(f"retrieve instance {sop_uid}", lambda: self._client.retrieve_instance(
            study_uid, series_uid, sop_uid), not_found=f"The PACS has no instance {sop_uid}.")
