"""``galen eval --record NAME``: the run's figures land in a result file with provenance and n."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from evals.cli import _record, run_eval_command
from evals.results import read_result
from galen.errors import InvalidInput
from galen.settings import Settings


def _args(tmp_path: Path, suite: str, record: str, **kw) -> argparse.Namespace:
    base = dict(suite=suite, record=record, results_dir=tmp_path / "results", seed=0, limit=None, workers=1,
                dry_run=False, argv=["--suite", suite, "--record", record])
    return argparse.Namespace(**{**base, **kw})


def test_a_suite_run_is_recorded_with_its_split_suite_hash_and_case_count(tmp_path: Path) -> None:
    suite = tmp_path / "mini.dev.jsonl"
    suite.write_text(json.dumps({"id": "a", "question": "hi"}) + "\n" + json.dumps({"id": "b", "question": "yo"}) + "\n")
    summary = {"metrics": {"n_cases": 2, "pass_rate": 0.5, "latency_p50_s": 0.1, "latency_p95_s": None},
               "groups": {}, "failures": [{"id": "b", "reasons": {}}], "provenance": {"model_versions": {}}}
    [path] = _record(_args(tmp_path, str(suite), "mini.dev"), summary, [], Settings(data_dir=tmp_path / "d"))
    rec = read_result("mini.dev", tmp_path / "results")
    assert path.name == "mini.dev.json" and rec["n"] == 2 and rec["split"] == "dev" and rec["kind"] == "suite"
    assert rec["metrics"]["pass_rate"] == 0.5 and rec["metrics"]["latency_p95_s"] is None
    assert rec["metrics"]["failures"] == ["b"]
    assert len(rec["provenance"]["suite_sha256"]) == 64 and rec["provenance"]["libraries"]
    assert rec["provenance"]["run"]["routing_policy"] and "galen eval --suite" in rec["notes"]


def test_a_benchmark_run_is_recorded_one_file_per_component_with_its_own_n(tmp_path: Path) -> None:
    import numpy as np

    outcomes = [{"id": "molecules/logs", "passed": True, "n": 128, "split": "test", "note": "scaffold test part",
                 "metrics": {"rmse": np.float64(0.8), "n": np.int64(128)}, "seconds": 1.0},
                {"id": "molecules/prior", "passed": None, "unavailable": "no weights"}]
    paths = _record(_args(tmp_path, "molecules", "molecules"), {"metrics": {}}, outcomes,
                    Settings(data_dir=tmp_path / "d"))
    assert [p.name for p in paths] == ["molecules.logs.json"]  # the unavailable component is not recorded
    rec = read_result("molecules.logs", tmp_path / "results")
    assert rec["n"] == 128 and rec["split"] == "test" and rec["metrics"] == {"rmse": 0.8, "n": 128}


def test_a_benchmark_component_without_a_sample_count_is_refused(tmp_path: Path) -> None:
    outcomes = [{"id": "clinical/risk", "passed": True, "metrics": {"c_index": 0.6}}]
    with pytest.raises(InvalidInput, match="no sample count"):
        _record(_args(tmp_path, "clinical", "clinical"), {"metrics": {}}, outcomes, Settings(data_dir=tmp_path / "d"))


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden"])
def test_an_unusable_record_name_is_refused_before_anything_runs(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="not a usable result name"):
        run_eval_command(argparse.Namespace(eval_args=["--suite", "routing.dev", "--record", name,
                                                       "--data-dir", str(tmp_path)]))
