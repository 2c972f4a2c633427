"""CLI bad inputs: one clear line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import free_port, galen_cmd
from ui.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_missing_attachment(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "ask", "Segment this", "--attach", str(tmp_path / "nope.nii.gz"), "--dry-run")
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unsupported_attachment(capsys, tmp_path) -> None:
    f = tmp_path / "notes.docx"
    f.write_bytes(b"PK\x03\x04 not really")
    code, _, err = run_cli(capsys, "ask", "What is this?", "--attach", str(f), "--dry-run")
    assert code == 2 and "type Galen does not read" in err and "Supported" in err


def test_empty_attachment(capsys, tmp_path) -> None:
    f = tmp_path / "empty.csv"
    f.write_bytes(b"")
    code, _, err = run_cli(capsys, "ask", "Risk?", "--attach", str(f), "--dry-run")
    assert code == 2 and "empty" in err


def test_empty_question(capsys) -> None:
    code, _, err = run_cli(capsys, "ask", "   ")
    assert code == 2 and "question is empty" in err


def test_unreachable_openai_server(capsys, monkeypatch) -> None:
    monkeypatch.setenv("GALEN_LLM_BACKEND", "openai")
    monkeypatch.setenv("GALEN_OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    code, _, err = run_cli(capsys, "ask", "What is the logP of CCO?")
    assert code == 2 and "cannot be reached" in err


def test_invalid_setting(capsys, monkeypatch) -> None:
    monkeypatch.setenv("GALEN_ROUTING_POLICY", "telepathy")
    code, _, err = run_cli(capsys, "ask", "hi", "--dry-run")
    assert code == 2 and "routing_policy" in err


def test_dry_run_json(capsys) -> None:
    import json

    code, out, _ = run_cli(capsys, "ask", "What is the TPSA of CCO?", "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    (call,) = plan["tool_calls"]
    assert call["name"] == "predict_properties" and call["arguments"]["smiles"] == ["CCO"]
    assert call["ok"] is None and call["result"] is None  # planned, not run


def test_subprocess_exit_status_and_no_traceback(tmp_path) -> None:
    proc = subprocess.run([*galen_cmd(), "ask", "x", "--attach", str(tmp_path / "missing.dcm")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "does not exist" in proc.stderr


@pytest.mark.parametrize("argv", [["doctor", "--json"]])
def test_doctor_lists_every_tool(capsys, argv) -> None:
    import json

    from tools.registry import TOOL_NAMES

    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    report = json.loads(out)
    assert [t["name"] for t in report["tools"]] == list(TOOL_NAMES)
    assert all(t["on"] or t["reason"] for t in report["tools"])
    assert report["versions"]["torch"].startswith("2.13.0")
