"""Semantic routing on the public routing suite (real MiniLM embeddings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.router import SemanticRouter, load_exemplars

SUITE = Path(__file__).resolve().parents[2] / "evals" / "suites" / "routing.jsonl"


def load_cases() -> list[dict]:
    cases = [json.loads(line) for line in SUITE.read_text().splitlines() if line.strip()]
    return [c for c in cases if not c.get("pending")]


def test_suite_is_big_enough_and_covers_the_catalogue() -> None:
    from tools.registry import TOOL_NAMES

    cases = load_cases()
    assert len(cases) >= 40
    covered = {t for c in cases for t in c["expect"]["tools"]}
    assert covered == set(TOOL_NAMES)


def test_suite_does_not_repeat_exemplars() -> None:
    exemplars = {t.lower() for t in load_exemplars().texts}
    assert not [c["id"] for c in load_cases() if c["question"].lower() in exemplars]


@pytest.mark.slow
def test_semantic_routing_accuracy() -> None:
    router = SemanticRouter()
    cases = load_cases()
    misses = []
    for c in cases:
        got = set(router.route(c["question"]).tools)
        if got != set(c["expect"]["tools"]):
            misses.append((c["id"], sorted(got), c["expect"]["tools"]))
    accuracy = 1 - len(misses) / len(cases)
    assert accuracy >= 0.9, f"accuracy {accuracy:.2f}; misses: {misses}"


def test_smiles_arguments_are_extracted_exactly() -> None:
    from tools.molecules import extract_molecules

    for c in load_cases():
        args = c["expect"].get("arguments", {}).get("predict_properties")
        if args:
            assert extract_molecules(c["question"]) == args["smiles"], c["id"]
