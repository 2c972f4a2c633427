"""Per-case checks and suite loading on hand-made outcomes (no agent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.checks import check_citations, check_error, values_match
from evals.compare import lower_is_better
from evals.molecule_checks import check_molecules
from evals.suite import SUITES_DIR, load_suite


def test_values_match_compares_sensibly() -> None:
    assert values_match(12, 12.0) and values_match("Part-solid", "part solid") and values_match(["CCO"], ["CCO", "CC"])
    assert values_match(["CCO"], "CCO") and values_match({"a": 1}, {"a": 1.0, "b": 2})
    assert not values_match(True, 1) and not values_match(12, 13) and not values_match(["CCN"], ["CCO"])
    assert not values_match(False, None) and values_match(None, None)


def test_citation_precision_and_recall() -> None:
    outcome = {"citations": [{"source_id": "a", "section": "S > T"}, {"source_id": "b", "section": ""},
                             {"source_id": "a", "section": "X"}]}
    c = check_citations(outcome, ["a", "c"], section="S")
    assert c["precision"] == 0.5 and c["recall"] == 0.5 and c["section_hit"] is True and c["passed"] is False
    assert check_citations({"citations": []}, ["a"])["precision"] is None


def test_error_expectations() -> None:
    base = {"tool_calls": [], "refusal": None, "error": None}
    assert check_error(base | {"error": {"kind": "invalid_input", "type": "InvalidInput", "message": "m"}}, True)["passed"]
    assert not check_error(base | {"error": {"kind": "unexpected", "type": "KeyError", "message": "m"}}, True)["passed"]
    assert check_error(base | {"tool_calls": [{"name": "t", "ok": False, "error": {"message": "bad"}}]}, True)["passed"]
    assert check_error(base | {"refusal": {"rule": "r"}}, True)["passed"]
    assert not check_error(base, True)["passed"] and check_error(base, False)["passed"]


def test_molecule_checks_recompute_properties_with_rdkit() -> None:
    outcome = {"tool_calls": [{"name": "design_molecules", "ok": True, "result": {"data": {
        # the tool's own claims are ignored; only the SMILES are used
        "molecules": [{"smiles": "CCO", "properties": {"logp": 9}}, {"smiles": "Oc1ccccc1"}, {"smiles": "C1CC"}],
        "request": {"references": ["CCO"]}}}}]}
    c = check_molecules(outcome, {"count": 3, "constraints": {"logp": [None, 1.0], "mw": [40, 200]}})
    # ethanol logP -0.00 (ok), phenol logP 1.39 (> 1.0), C1CC invalid
    assert (c["returned"], c["valid"], c["satisfied"]) == (3, 2, 1)
    assert c["validity"] == pytest.approx(2 / 3) and c["constraint_rate"] == 0.5
    assert c["count_ok"] is False and c["passed"] is False and "logp=1.39" in c["detail"]
    ok = check_molecules(outcome | {"tool_calls": [{**outcome["tool_calls"][0], "result": {"data": {
        "molecules": [{"smiles": "CCO"}], "request": {"references": ["CCO"]}}}}]},
        {"count": 1, "constraints": {"similarity": [0.99, None]}, "no_alerts": ["PAINS"], "substructure": "CO"})
    assert ok["passed"] and ok["alert_free_rate"] == 1.0


def test_suite_loading_expands_repeats_and_resolves_attachments(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"id": "x", "question_repeat": {"text": "ab", "times": 3}, "attachments": ["f/a.dcm"],
                             "history": ["earlier"], "expect": {}}) + "\n\n")
    (case,) = load_suite(p)
    assert case["question"] == "ababab" and case["attachments"] == [str(tmp_path / "f" / "a.dcm")]
    assert case["history"] == ["earlier"]


def test_robustness_suite_has_25_hostile_cases_with_fixtures() -> None:
    cases = load_suite(SUITES_DIR / "robustness.jsonl")
    assert len(cases) >= 25
    assert any(len(c["question"]) == 100_000 for c in cases)
    for c in cases:
        exp = c["expect"]
        assert exp.get("error") is True or exp.get("answer_not_contains"), c["id"]
        for a in c["attachments"]:
            assert Path(a).exists() or "does_not_exist" in a, a


def test_metric_directions() -> None:
    assert lower_is_better("latency_p95_s") and lower_is_better("unexpected_errors")
    assert not lower_is_better("error_expectation_accuracy") and not lower_is_better("group/x/pass_rate")


def test_missing_facts_is_not_an_error_when_none_is_expected() -> None:
    ask = {"tool_calls": [{"name": "t", "ok": False, "error": {"kind": "missing_facts", "message": "needs age"}}],
           "refusal": None, "error": None}
    assert check_error(ask, False)["passed"] and check_error(ask, True)["passed"]


def test_refusal_expectations_including_null() -> None:
    from evals.checks import check_refusal

    refused = {"refusal": {"rule": "chemical-weapons"}}
    assert check_refusal(refused, True)["passed"] and check_refusal(refused, "chemical-weapons")["passed"]
    assert not check_refusal(refused, "controlled-substances")["passed"]
    for allowed in (False, None):  # the policy suite writes "refusal": null for must-not-refuse cases
        assert check_refusal({"refusal": None}, allowed)["passed"]
        assert not check_refusal(refused, allowed)["passed"]
