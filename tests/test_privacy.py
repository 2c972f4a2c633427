"""Planted identifiers never reach stored files, logs, audit lines, exports or error messages."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.errors import GalenError
from galen.privacy import scrub
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel

PLANTED = ["Jane Doe", "Doe^Jane", "MRN998877", "19600405", "04/05/1960", "555-867-5309", "jane.doe@example.org", "12 Elm Street"]


def planted_dicom(tmp_path: Path) -> Path:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN998877"
    ds.PatientBirthDate = "19600405"
    ds.InstitutionAddress = "12 Elm Street"
    out = tmp_path / "study.dcm"
    ds.save_as(out)
    return out


def files_containing(root: Path, needles: list[str]) -> list[str]:
    hits = []
    for f in root.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            hits += [f"{f.relative_to(root)}: {n}" for n in needles if n.encode() in data]
    return hits


def test_scrubber_removes_safe_harbor_identifiers() -> None:
    text = "Jane Doe (MRN998877), born 04/05/1960, phone 555-867-5309, jane.doe@example.org, lives at 12 Elm Street"
    out = scrub("Patient " + text)
    assert not [p for p in PLANTED if p in out], out
    assert scrub("a 7 mm nodule in a 64-year-old woman, logP between 1.5-2.5") == "a 7 mm nodule in a 64-year-old woman, logP between 1.5-2.5"


@pytest.mark.slow
def test_planted_identifiers_reach_nothing(tmp_path) -> None:
    data = tmp_path / "data"
    agent = Agent(Settings(data_dir=data, answer_writer="template"), chat_model=ScriptedChatModel(script=[AIMessage(content="x")]))
    question = ("Patient Jane Doe, MRN998877, born 04/05/1960, phone 555-867-5309, email jane.doe@example.org, "
                "address 12 Elm Street. Outline the nodule on this CT and give its diameter.")
    try:
        dicom = planted_dicom(tmp_path)
        r = agent.ask(question, [dicom], thread_id="phi")
        attachments_ok = True
    except GalenError as e:  # imaging not available in this build: still check the question path
        assert not [p for p in PLANTED if p in e.user_message()]
        r = agent.ask(question, thread_id="phi")
        attachments_ok = False
    assert not [p for p in PLANTED if p in (r.answer or "")]
    for call in r.tool_calls:
        assert not [p for p in PLANTED if p in str(call.error or "")]
    agent.ask("What is the logP of CCO? Call me at 555-867-5309.", thread_id="phi")
    from agent.audit_export import export

    export(data / "audit.jsonl")
    agent.close()
    assert files_containing(data, PLANTED) == []
    if attachments_ok:
        assert dicom.read_bytes().count(b"Doe^Jane") == 1  # the original is untouched


@pytest.mark.slow  # a whole CLI run in a subprocess (about 20 s of CPU): the full lane only
def test_data_files_are_owner_only(tmp_path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    data = tmp_path / "data"
    env = {"GALEN_DATA_DIR": str(data), "GALEN_ANSWER_WRITER": "template", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "What is the TPSA of CCO?"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    loose = [str(p) for p in data.rglob("*") if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    assert loose == []
