"""The dev and test splits are locked by hash, and every committed suite result was measured on them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evals.results import all_results

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "evals" / "suites"
LOCK = json.loads((SUITES / "SPLITS.json").read_text())["splits"]


def test_every_split_is_locked_and_unchanged() -> None:
    files = sorted(p.name for p in SUITES.glob("*.jsonl") if p.name.endswith((".dev.jsonl", ".test.jsonl")))
    assert files == sorted(LOCK), "a split was added or removed without `python scripts/lock_splits.py`"
    for name in files:
        digest = hashlib.sha256((SUITES / name).read_bytes()).hexdigest()
        assert digest == LOCK[name], f"{name} changed after it was locked"


def test_every_split_has_its_partner() -> None:
    stems = {n.rsplit(".", 2)[0] for n in LOCK}
    for stem in stems:
        assert f"{stem}.dev.jsonl" in LOCK and f"{stem}.test.jsonl" in LOCK, stem


def test_committed_results_were_measured_on_the_locked_splits() -> None:
    checked = 0
    for name, rec in all_results().items():
        suite = rec.get("suite") or ""
        digest = (rec.get("provenance") or {}).get("suite_sha256")
        file = Path(suite).name
        if file in LOCK and digest:
            assert digest == LOCK[file], f"{name}.json was measured on another version of {file}"
            checked += 1
    assert checked >= 20
