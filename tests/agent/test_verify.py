"""The verifier's number and citation checks."""

from __future__ import annotations

from agent.verify import citations_in, number_grounded, numbers_in, verify_answer


def test_numbers_ignore_citations_and_list_markers() -> None:
    text = "1. CT at 6-12 months [1], then 18–24 months [2, 3].\n2. logP −0.31"
    assert numbers_in(text) == ["6", "12", "18", "24", "-0.31"]
    assert citations_in(text) == [1, 2, 3]
    assert citations_in("see [1-3]") == [1, 2, 3]


def test_rounding_without_scaling_slack() -> None:
    ev = [0.1234, 7.0, 46.0684, -0.31]
    assert number_grounded("0.12", ev)
    assert number_grounded("46.07", ev)
    assert number_grounded("-0.31", ev)
    assert not number_grounded("12.3", ev)  # a bare 12.3 is not 0.1234: no ×100 slack without a % sign
    assert not number_grounded("0.7", ev)  # nor 7 ÷ 10 without a unit that says so
    assert not number_grounded("0.31", ev)  # the sign matters: logP 0.31 is not logP -0.31
    assert not number_grounded("46.1234", ev)
    assert not number_grounded("-7", ev)


def _tool(facts: list[str], data: dict) -> list[dict]:
    return [{"facts": facts, "data": data}]


NODULE = _tool(["Lesion 1: mean diameter 7.0 mm, volume 180 mm³, mean HU 35, probability of malignancy: 12.3 %."],
               {"lesions": [{"mean_diameter_mm": 7.0, "volume_mm3": 180.0, "mean_hu": 35}], "probability": 0.123})
MOLECULE = _tool(["CCO: MW 46.07 g/mol, logP -0.00, TPSA 20.2 Å²."], {"molecules": [{"mw": 46.0684, "logp": -0.0014,
                                                                                   "tpsa": 20.23}]})


def _ok(draft: str, evidence: list, question: str = "?", passages: list | None = None) -> bool:
    return verify_answer(draft, question=question, tool_evidence=evidence, passages=passages or []).ok


def test_units_convert_exactly_and_only_within_a_dimension() -> None:
    assert _ok("The nodule measures 7.0 mm.", NODULE)
    assert _ok("The nodule measures 0.7 cm.", NODULE)  # mm ↔ cm is a unit, not slack
    assert _ok("Its volume is 0.18 mL.", NODULE)
    assert _ok("The probability of malignancy is 12.3 %.", NODULE)
    assert _ok("The probability of malignancy is 0.123.", NODULE)  # the fraction itself


def test_adversarial_drafts_are_rejected() -> None:
    # the right number with the wrong unit
    assert not _ok("The nodule measures 7.0 cm.", NODULE)
    assert not _ok("Its TPSA is 20.2 mm.", MOLECULE)
    # a number taken from an unrelated field
    assert not _ok("Its TPSA is 46.07 Å².", MOLECULE)
    assert not _ok("Its logP is 46.07.", MOLECULE)
    assert not _ok("The nodule's attenuation is 7 HU.", NODULE)
    # a percentage written as a fraction (or a fraction given a % sign)
    assert not _ok("The probability of malignancy is 0.12 %.", NODULE)
    assert not _ok("The probability of malignancy is 1.23 %.", NODULE)
    # an interval with swapped ends
    passages = [{"text": "Solid nodule 6 to 8 mm, high risk: CT at 6-12 months, then 18-24 months."}]
    assert _ok("CT at 6-12 months, then 18-24 months [1].", [], passages=passages)
    assert not _ok("CT at 12-6 months [1].", [], passages=passages)
    ci = _tool(["Hazard ratio 0.688 (95 % CI 0.534-0.885)."], {})
    assert _ok("HR 0.688 (95 % CI 0.534-0.885).", ci)
    assert not _ok("HR 0.688 (95 % CI 0.885-0.534).", ci)


def test_earlier_findings_do_not_ground_this_turns_draft() -> None:
    """Only this turn's evidence counts: the verify step no longer adds every finding in the thread."""
    from agent.nodes import AgentNodes
    from galen.settings import Settings

    nodes = AgentNodes.__new__(AgentNodes)
    state = {"question": "What is its TPSA?", "template": "TPSA 20.2 Å².", "draft": "TPSA 20.2 Å²; MW 151.16 g/mol.",
             "calls": [{"name": "predict_properties", "ok": True,
                        "result": {"facts": ["CCO: TPSA 20.2 Å²."], "data": {}}}],
             "findings": [{"tool": "predict_properties", "data": {"mw": 151.16}}], "passages": []}
    out = AgentNodes.verify(nodes, state)
    assert out["verification"]["method"] == "draft-rejected" and out["verified"] is False
    assert "151.16" in out["verification"]["reason"]
    state["draft"] = state["template"]
    out = AgentNodes.verify(nodes, state)
    assert out["verification"]["method"] == "template" and out["verified"] is None
    assert Settings  # imported for the type only


def test_verify_answer_grounds_in_question_tools_and_cited_passages() -> None:
    passages = [{"text": "Solid nodule 6 to 8 mm, high risk: CT at 6-12 months, then 18-24 months.", "title": "Fleischner 2017"}]
    ok = verify_answer("A 7 mm nodule: CT at 6-12 months, then 18-24 months [1].", question="7 mm nodule?", tool_evidence=[], passages=passages)
    assert ok.ok, ok.reason
    uncited = verify_answer("CT at 6-12 months.", question="?", tool_evidence=[], passages=passages)
    assert not uncited.ok and "6-12" in uncited.ungrounded_numbers  # numbers from passages need the citation
    bad = verify_answer("See [2].", question="?", tool_evidence=[], passages=passages)
    assert bad.bad_citations == [2] and not bad.ok
    tool = verify_answer("MW is 180.16 g/mol.", question="?", tool_evidence=[{"data": {"mw": 180.159}}], passages=[])
    assert tool.ok


def test_a_grounded_draft_must_still_state_what_was_asked() -> None:
    from agent.verify import incompleteness

    facts = ["CCO: MW 46.07 g/mol, logP -0.00, TPSA 20.2 Å², HBD 1, HBA 1, rotatable bonds 0, QED 0.407, SA score 1.98.",
             "CCO: predicted logS 0.50 ± 0.20 log mol/L; predicted probability of crossing the blood-brain barrier "
             "0.812 ± 0.050 (ensemble spread); nearest training-set similarity 1.00."]
    state = {"question": "What is the TPSA of CCO, and does it cross the blood-brain barrier?",
             "calls": [{"name": "predict_properties", "ok": True, "result": {"facts": facts}}]}
    # states a number of the tool (so the old check passed) but not the TPSA or BBB value asked for
    assert "TPSA, blood-brain barrier" in incompleteness("Ethanol weighs 46.07 g/mol.", state)
    assert "blood-brain barrier" in incompleteness("Its TPSA is 20.2 Å².", state)
    assert incompleteness("TPSA 20.2 Å²; predicted BBB probability 0.81.", state) is None  # rounding is fine
    state["question"] = "Tell me about CCO"
    assert incompleteness("Ethanol weighs 46.07 g/mol.", state) is None  # nothing in particular was asked
