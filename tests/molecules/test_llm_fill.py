"""What the rules cannot read in a design request: reported, or read by a checked LLM fill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from galen.settings import Settings
from specialists.molecules.parse import FILL_SCHEMA, parse_design_request
from specialists.molecules.request import Range
from tools.base import ToolContext
from tools.molecules import DesignMoleculesTool

_Q = "analogs of ibuprofen whose molecular weight should stay below 300 and logP not exceeding 3"


class FakeModel:
    """Answers with fixed constraints and records what it was asked."""

    def __init__(self, constraints: list[dict[str, Any]] | Exception) -> None:
        self.constraints = constraints
        self.prompts: list[str] = []

    def __call__(self, prompt: str, schema: dict[str, Any]) -> Any:
        assert schema == FILL_SCHEMA
        self.prompts.append(prompt)
        if isinstance(self.constraints, Exception):
            raise self.constraints
        return {"constraints": self.constraints}


def _c(clause: int, prop: str, comp: str, value: float, value2: float | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"clause": clause, "property": prop, "comparator": comp, "value": value}
    if value2 is not None:
        d["value2"] = value2
    return d


def test_unread_constraints_are_reported_not_dropped() -> None:
    parsed = parse_design_request(_Q + ", fewer than 3 aromatic rings")
    assert parsed.request.ranges == {}
    assert parsed.unread == ["analogs of ibuprofen whose molecular weight should stay below 300",
                             "logP not exceeding 3", "fewer than 3 aromatic rings"]
    assert sum(n.startswith("Not applied:") for n in parsed.notes) == 3


def test_fully_read_requests_have_nothing_unread_and_never_call_the_model() -> None:
    model = FakeModel([])
    for q in ("Ten analogs of celecoxib with MW under 400, no PAINS.",
              "20 analogs of 5-fluorouracil, tanimoto >= 0.5, TPSA between 40 and 90",
              "Eight molecules with rotatable bonds ≤ 4, HBD ≤ 1, logP between 2 and 4 and MW under 300 Da"):
        assert parse_design_request(q, fill=model).unread == []
    assert model.prompts == []


def test_labels_with_digits_are_not_numbers_and_count_reads_through_them() -> None:
    parsed = parse_design_request("5 COX-2 inhibitor analogs of celecoxib with MW under 450")
    assert parsed.request.count == 5 and parsed.unread == []


def test_model_fill_is_accepted_when_the_clause_supports_it() -> None:
    model = FakeModel([_c(1, "mw", "at_most", 300), _c(2, "logp", "at_most", 3)])
    parsed = parse_design_request(_Q, fill=model)
    assert parsed.request.ranges == {"mw": Range(high=300), "logp": Range(high=3)}
    assert parsed.unread == []
    echoed = [n for n in parsed.notes if n.startswith("Read by the language model")]
    assert len(echoed) == 2 and "molecular weight ≤ 300 Da" in echoed[0]
    assert "1. analogs of ibuprofen whose molecular weight should stay below 300" in model.prompts[0]


@pytest.mark.parametrize(
    "bad",
    [
        _c(2, "logp", "at_most", 2.5),  # a number the chemist did not write
        _c(2, "tpsa", "at_most", 3),  # a property the clause does not name
        _c(2, "logp", "at_least", 3),  # against the clause's own comparator ("not exceeding" is at most)
        _c(2, "logp", "between", 3),  # a window without its second number
        _c(7, "logp", "at_most", 3),  # no such clause
        _c(2, "logp", "exactly", 3),  # an exact value of a continuous property
        {"clause": "two", "property": "logp"},  # malformed
    ],
)
def test_model_fill_that_the_words_do_not_support_is_rejected(bad: dict[str, Any]) -> None:
    parsed = parse_design_request(_Q, fill=FakeModel([bad]))
    assert "logp" not in parsed.request.ranges
    assert "logP not exceeding 3" in parsed.unread


def test_rules_win_over_the_model_and_a_failing_model_is_reported() -> None:
    q = "analogs of aspirin with logP under 2 and MW that must not go past 250"
    parsed = parse_design_request(q, fill=FakeModel([_c(1, "logp", "at_most", 250), _c(1, "mw", "at_most", 250)]))
    assert parsed.request.ranges["logp"] == Range(high=2)
    assert parsed.request.ranges["mw"] == Range(high=250)
    parsed = parse_design_request(q, fill=FakeModel(TimeoutError("server")))
    assert "mw" not in parsed.request.ranges and parsed.unread == ["MW that must not go past 250"]
    assert any("could not read the rest" in n and "TimeoutError" in n for n in parsed.notes)


def test_filled_constraints_are_checked_for_contradictions() -> None:
    q = "molecules with MW below 100 and a polar surface area that must exceed 200"
    from galen.errors import InvalidInput

    with pytest.raises(InvalidInput, match="contradict"):
        parse_design_request(q, fill=FakeModel([_c(1, "tpsa", "at_least", 200)]))


def test_design_tool_passes_the_agents_model_only_when_enabled(tmp_path: Path) -> None:
    tool = DesignMoleculesTool()
    model = FakeModel([_c(2, "logp", "at_most", 3)])
    ctx = ToolContext(settings=Settings(), workdir=tmp_path, fill=model)
    args = tool.extract_arguments(_Q, ctx)
    assert args["request"]["ranges"]["logp"] == {"low": None, "high": 3.0}
    assert any("not applied" in n.lower() and "molecular weight" in n for n in args["notes"])
    off = ToolContext(settings=Settings(design_llm_fill=False), workdir=tmp_path, fill=model)
    args = tool.extract_arguments(_Q, off)
    assert args["request"]["ranges"] == {} and len(model.prompts) == 1
