"""The audit log: append-only, hash-chained, robust to torn writes, free of identifiers."""

from __future__ import annotations

import json

from agent.audit import AuditLog, verify_chain


def test_chain_detects_change_removal_and_reorder(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(4):
        log.append({"turn": i, "question": f"q{i}"})
    assert verify_chain(path).ok
    lines = path.read_text().splitlines()

    changed = [json.loads(x) for x in lines]
    changed[1]["question"] = "edited"
    path.write_text("\n".join(json.dumps(r) for r in changed) + "\n")
    assert not verify_chain(path).ok

    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # removed
    assert "removed or reordered" in " ".join(verify_chain(path).problems)

    path.write_text("\n".join([lines[0], lines[2], lines[1], lines[3]]) + "\n")  # reordered
    assert not verify_chain(path).ok


def test_torn_last_line_is_skipped_and_repaired(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append({"turn": 1})
    with path.open("ab") as fh:
        fh.write(b'{"turn": 2, "quest')  # crash mid-write
    assert [r["turn"] for r in log.read()] == [1]
    log.append({"turn": 3})
    assert [r["turn"] for r in log.read()] == [1, 3]
    assert verify_chain(path).ok
    assert (tmp_path / "audit.jsonl.torn").exists()


def test_identifiers_are_scrubbed(tmp_path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.append({"question": "Patient Mary Jones, MRN 12345678, born 03/04/1961, call 555-123-4567"})
    text = (tmp_path / "a.jsonl").read_text()
    for planted in ("Mary", "Jones", "12345678", "03/04/1961", "555-123-4567"):
        assert planted not in text
