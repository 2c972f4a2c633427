"""Intake of every real DICOM file that ships with pydicom (and pydicom-data): decoded or refused, never a crash.

``survey()`` runs :func:`specialists.imaging.intake.describe_attachment` on each file that
carries pixel data and sorts the outcomes: a 3-D volume, a 2-D image (spacing measured or not),
or a refusal with its class (``code``, see :data:`specialists.imaging.dicom_pixels.REFUSAL_CODES`).
Anything else raised is a crash, a bug. ``scripts/measure_dicom_intake.py`` writes the counts to
``evals/results/dicom_intake.json``; ``tests/imaging/test_dicom_corpus.py`` runs it too.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from galen.errors import GalenError

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


@dataclass(frozen=True)
class Outcome:
    path: Path
    source: str  # "pydicom" or "pydicom-data"
    outcome: str  # "volume", "2-D image", "2-D image (spacing unknown)", "refused: <code>", "crash"
    detail: str


def corpus_folders() -> list[tuple[str, Path]]:
    """pydicom's own test files, and pydicom-data's when that wheel is installed (no network)."""
    import pydicom

    out = [("pydicom", Path(pydicom.__file__).parent / "data" / "test_files")]
    try:
        import data_store  # the pydicom-data wheel's package

        out.append(("pydicom-data", Path(data_store.__file__).parent / "data"))
    except ImportError:
        pass
    return out


def carries_pixel_data(path: Path) -> bool:
    """True when pydicom can read the file's top-level data set far enough to see pixel data."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, force=True, defer_size=256)
    except Exception:  # noqa: BLE001 - anything pydicom cannot even open is not part of the corpus
        return False
    return any(k in ds for k in PIXEL_KEYWORDS)


def classify(path: Path) -> tuple[str, str]:
    """The outcome of intake for one file and its one-line detail."""
    from specialists.imaging.intake import describe_attachment

    try:
        info = describe_attachment(path)
    except GalenError as e:
        return f"refused: {getattr(e, 'code', type(e).__name__)}", e.user_message()
    except Exception as e:  # noqa: BLE001 - the point of the survey is to count these
        return "crash", f"{type(e).__name__}: {e}"
    if info.shape[0] > 1:
        return "volume", info.summary
    return ("2-D image (spacing unknown)" if "spacing unknown" in info.summary else "2-D image"), info.summary


def survey() -> list[Outcome]:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source, folder in corpus_folders():
            for p in sorted(folder.rglob("*")):
                if p.is_file() and carries_pixel_data(p):
                    outcome, detail = classify(p)
                    out.append(Outcome(p, source, outcome, detail))
    return out


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(sorted(Counter(o.outcome for o in outcomes).items()))
