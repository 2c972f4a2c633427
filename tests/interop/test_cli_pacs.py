"""The CLI against the real Orthanc: `galen pacs find`, `galen ask --accession ... --push`, and its bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _galen(env: dict, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


@pytest.fixture
def env(orthanc, stored_patients, tmp_path):
    return dict(os.environ, GALEN_DATA_DIR=str(tmp_path / "data"), GALEN_PACS_URL=orthanc.url,
                GALEN_PACS_USERNAME=orthanc.username, GALEN_PACS_PASSWORD=orthanc.password,
                GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def test_pacs_find_table_and_json(env):
    r = _galen(env, "pacs", "find", "--patient-id", "galen-synth-002")
    assert r.returncode == 0, r.stderr
    assert "SYN0002" in r.stdout and "Study UID" in r.stdout.splitlines()[0]
    rows = json.loads(_galen(env, "pacs", "find", "--modality", "CT", "--date", "2026-03-03", "--json").stdout)
    assert [row["accession"] for row in rows] == ["SYN0002"]


def test_bad_inputs_are_one_line(env, tmp_path):
    down = dict(env, GALEN_PACS_URL="http://127.0.0.1:9/dicom-web")
    r = _galen(down, "pacs", "find")
    assert r.returncode == 2 and r.stderr.startswith("galen: The PACS at http://127.0.0.1:9/dicom-web cannot be reached")
    r = _galen(dict(env, GALEN_PACS_PASSWORD="nope"), "pacs", "find")
    assert r.returncode == 2 and "refused the credentials (HTTP 401)" in r.stderr
    r = _galen(env, "ask", "Outline the nodule", "--push")
    assert r.returncode == 2 and "--push stores results on the PACS, so it needs the study" in r.stderr
    r = _galen(env, "ask", "Outline the nodule", "--accession", "NOPE", "--dry-run")
    assert r.returncode == 2 and "no study with accession number NOPE" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_ask_with_accession_and_push(env):
    r = _galen(env, "ask", "Outline the nodules on this CT and give their diameters", "--accession", "SYN0002",
               "--push", "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert [c["name"] for c in out["tool_calls"]][:1] == ["segment_image"]
    pacs = out["pacs"]
    assert pacs["pushed"].startswith("Stored 2 result object(s) on the PACS") and "found again by QIDO-RS" in pacs["pushed"]
    assert all(Path(p).is_file() for p in pacs["downloads"].values())
