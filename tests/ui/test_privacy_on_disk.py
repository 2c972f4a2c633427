"""Planted identifiers — in the question, in the file's name, in its DICOM header — appear nowhere on disk
after turns through the UI (real HTTP upload and event), the JSON API and the CLI: not in the data
folder, not in the UI's cache, not in the temporary folders the server was given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.ui.conftest import AppServer

pytestmark = [pytest.mark.slow]

SURNAME, GIVEN = "Quixotewright", "Zelderine"
MRN = "MRN" + "7733" + "991"
PHONE = "555-201-7788"
BIRTH = "03/04/1961"
PLANTED = [SURNAME, GIVEN, SURNAME.upper(), GIVEN.upper(), MRN, "7733991", PHONE, BIRTH, "19610403"]
QUESTION = (f"Patient {GIVEN} {SURNAME}, {MRN}, born {BIRTH}, phone {PHONE}. "
            "Outline the nodule on this CT and give its diameter.")


def _planted_dicom(folder: Path) -> Path:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.PatientName = f"{SURNAME}^{GIVEN}"
    ds.PatientID = MRN
    ds.PatientBirthDate = "19610403"
    path = folder / f"{SURNAME}_{GIVEN}_chest.dcm"  # a file named after the patient, as people do
    ds.save_as(path)
    return path


def _hits(root: Path) -> list[str]:
    out = []
    for p in root.rglob("*"):
        try:
            if p.is_file():
                data = p.read_bytes()
                out += [f"{p}: {n}" for n in PLANTED if n.encode() in data]
            out += [f"{p} (name): {n}" for n in PLANTED if n in p.name]
        except OSError:
            continue
    return out


def _event(base: str, fn_index: int, data: list) -> list[dict]:
    sh = uuid.uuid4().hex[:10]
    with httpx.Client(timeout=300) as c:
        r = c.post(f"{base}/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": sh})
        r.raise_for_status()
        events = []
        with c.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": sh}) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("msg") == "process_completed":
                        break
    return events


def test_identifiers_reach_no_file_after_ui_api_and_cli_turns(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    server_tmp = tmp_path / "server-tmp"  # every temporary folder the server process is given
    server_tmp.mkdir()
    source = tmp_path / "incoming"
    source.mkdir()
    dicom = _planted_dicom(source)
    server = AppServer(data, {"TMPDIR": str(server_tmp), "GALEN_CONFIRM_FACTS": "false"})
    try:
        server.wait()
        base = server.url.rstrip("/")
        config = httpx.get(f"{base}/config", timeout=30).json()
        submit = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "on_submit")
        # UI: the real upload route, then the real submit event.
        with dicom.open("rb") as fh:
            up = httpx.post(f"{base}/gradio_api/upload", files={"files": (dicom.name, fh, "application/dicom")}, timeout=60)
        up.raise_for_status()
        uploaded = up.json()[0]
        events = _event(base, submit, [{"text": QUESTION, "files": [
            {"path": uploaded, "orig_name": dicom.name, "meta": {"_type": "gradio.FileData"}}]}, {"thread_id": ""}, "en", None])
        assert events[-1].get("success") is True, events[-1]
        shown = json.dumps(events)
        assert not [n for n in PLANTED if n in shown], "an identifier was sent back to the browser"
        # JSON API
        r = httpx.post(f"{base}/api/ask", json={"question": QUESTION.replace("Outline the nodule on this CT and give its "
                                                                              "diameter.", "What is the logP of CCO?")},
                       timeout=300)
        assert r.status_code == 200 and not [n for n in PLANTED if n in r.text]
    finally:
        server.stop()
    # CLI, same data folder, same temporary folder
    env = {**os.environ, "GALEN_DATA_DIR": str(data), "GALEN_ANSWER_WRITER": "template", "TMPDIR": str(server_tmp),
           "PYTHONPATH": str(ROOT), "GALEN_CONFIRM_FACTS": "false"}
    cli = subprocess.run([sys.executable, "-m", "ui.cli", "ask", QUESTION, "--attach", str(dicom), "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    assert not [n for n in PLANTED if n in cli.stdout]
    assert (data / "ui-cache").is_dir()
    assert _hits(data) == [] and _hits(server_tmp) == []
    gradio_default = Path(tempfile.gettempdir()) / "gradio"  # where Gradio would cache without our setting
    if gradio_default.exists():
        assert not [h for h in _hits(gradio_default) if SURNAME in h]
    assert dicom.read_bytes().count(SURNAME.encode()) == 1  # the person's own file is left untouched
