"""The PACS in the CLI and the UI: a study picker, a study fetched for a turn, results confirmed and pushed.

Pure functions over :mod:`interop.workflow`; the Gradio app and ``galen`` call them.

CLI: ``galen pacs find [--patient-id ID] [--accession A] [--modality CT] [--date D] [--json]``,
``galen ask QUESTION --study UID | --accession A [--push]``.

UI (wiring for ``ui/app.py``):

* ``picker_table(settings, patient_id=..., accession=..., modality=..., date=...)`` →
  ``(columns, rows)`` for a ``gr.Dataframe``; the last column is the Study Instance UID;
* ``fetch_for_turn(settings, study_uid)`` → ``FetchedStudy``: keep it in ``gr.State`` and attach
  ``str(fetched.folder)`` to the turn;
* ``results_for_turn(settings, fetched, turn_result)`` → ``PreparedResults`` (SEG, SR, FHIR Bundle
  written as downloads; ``.downloads()`` gives ``(label, path)`` pairs; ``.summary``) — show them
  with a "Send to PACS" button;
* ``confirm_push(settings, prepared)`` → the confirmation sentence, only when that button is pressed.

Every failure is a :class:`galen.errors.GalenError` with a sentence for the person.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from galen.errors import InvalidInput


def picker_table(settings, patient_id: str | None = None, accession: str | None = None, modality: str | None = None,
                 date: str | None = None) -> tuple[list[str], list[list[str]]]:
    from interop.workflow import PICKER_COLUMNS, find_studies, picker_rows

    return list(PICKER_COLUMNS), picker_rows(find_studies(settings, patient_id, accession, modality, date))


def fetch_for_turn(settings, study_uid: str | None = None, accession: str | None = None):
    from interop.workflow import fetch_study

    return fetch_study(settings, study_uid=study_uid, accession=accession)


def _calls(turn_result: Any) -> list[dict]:
    calls = getattr(turn_result, "tool_calls", None)
    if calls is None and isinstance(turn_result, dict):
        calls = turn_result.get("tool_calls")
    return [c if isinstance(c, dict) else c.model_dump(mode="json") for c in calls or []]


def results_for_turn(settings, fetched, turn_result: Any):
    from interop.workflow import prepare_results

    return prepare_results(settings, fetched.folder, _calls(turn_result))


def confirm_push(settings, prepared) -> str:
    from interop.workflow import push_results

    return push_results(settings, prepared).message()


# --- CLI ----------------------------------------------------------------------------------------


def add_ask_arguments(a: argparse.ArgumentParser) -> None:
    g = a.add_mutually_exclusive_group()
    g.add_argument("--study", metavar="UID", help="analyse this study from the PACS (Study Instance UID)")
    g.add_argument("--accession", metavar="NUMBER", help="analyse the study with this accession number from the PACS")
    a.add_argument("--push", action="store_true",
                   help="after the answer, store the DICOM SEG and SR on the PACS (your confirmation)")


def add_pacs_parser(sub) -> None:
    p = sub.add_parser("pacs", help="query the PACS (DICOMweb)")
    psub = p.add_subparsers(dest="pacs_cmd", required=True)
    f = psub.add_parser("find", help="find studies (QIDO-RS)")
    f.add_argument("--patient-id")
    f.add_argument("--accession")
    f.add_argument("--modality")
    f.add_argument("--date", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
    f.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pacs)


def cmd_pacs(args: argparse.Namespace) -> int:
    from interop.workflow import PICKER_COLUMNS, find_studies, picker_rows
    from ui.cli import _settings

    rows = find_studies(_settings(args), args.patient_id, args.accession, args.modality, args.date)
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], default=list))
        return 0
    if not rows:
        print("No study matches.")
        return 0
    table = [list(PICKER_COLUMNS)] + picker_rows(rows)
    widths = [max(len(str(r[i])) for r in table) for i in range(len(PICKER_COLUMNS))]
    for r in table:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def fetch_for_ask(args: argparse.Namespace, settings) -> tuple[list[str], Any]:
    """The attachments of ``galen ask`` with the PACS study (if named) added, and the fetched study."""
    study, accession = getattr(args, "study", None), getattr(args, "accession", None)
    if getattr(args, "push", False) and not (study or accession):
        raise InvalidInput("--push stores results on the PACS, so it needs the study from there: add --study UID "
                           "or --accession NUMBER.")
    if not (study or accession):
        return list(args.attach), None
    fetched = fetch_for_turn(settings, study, accession)
    return list(args.attach) + [str(fetched.folder)], fetched


def after_ask(args: argparse.Namespace, settings, result: Any, fetched) -> dict[str, Any] | None:
    """Write SEG/SR/FHIR downloads for a PACS study and push them when ``--push`` was given."""
    if fetched is None:
        return None
    out: dict[str, Any] = {"study": fetched.study_uid, "series": fetched.series_uid, "retrieved": fetched.describe()}
    try:
        prepared = results_for_turn(settings, fetched, result)
    except InvalidInput as e:
        out["results"] = e.user_message()
        if getattr(args, "push", False):
            raise InvalidInput(f"Nothing was sent to the PACS: {e.user_message()}") from e
        return out
    out |= {"summary": prepared.summary, "downloads": {label: str(p) for label, p in prepared.downloads()},
            "notes": prepared.notes}
    if getattr(args, "push", False):
        out["pushed"] = confirm_push(settings, prepared)
    else:
        out["pushed"] = "not sent (add --push to store the SEG and SR on the PACS)"
    return out


def render_pacs(info: dict[str, Any] | None) -> str:
    if not info:
        return ""
    lines = [f"PACS: {info.get('retrieved', '')}"]
    if "summary" in info:
        lines.append(info["summary"])
        lines += [f"  {label}: {path}" for label, path in info.get("downloads", {}).items()]
        lines += [f"  {n}" for n in info.get("notes", [])]
    elif "results" in info:
        lines.append(f"No results to send back: {info['results']}")
    lines.append(f"  {info.get('pushed', '')}")
    return "\n".join(lines)
