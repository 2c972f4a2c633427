"""The verifier's number and citation checks."""

from __future__ import annotations

from agent.verify import citations_in, number_grounded, numbers_in, verify_answer


def test_numbers_ignore_citations_and_list_markers() -> None:
    text = "1. CT at 6-12 months [1], then 18–24 months [2, 3].\n2. logP −0.31"
    assert numbers_in(text) == ["6", "12", "18", "24", "-0.31"]
    assert citations_in(text) == [1, 2, 3]
    assert citations_in("see [1-3]") == [1, 2, 3]


def test_rounding_percent_and_units() -> None:
    ev = [0.1234, 7.0, 46.0684, -0.31]
    assert number_grounded("12.3", ev)  # 0.1234 as a percentage
    assert number_grounded("0.12", ev)
    assert number_grounded("46.07", ev)
    assert number_grounded("0.7", ev)  # 7 mm as 0.7 cm
    assert number_grounded("-0.31", ev)
    assert number_grounded("0.31", ev)  # magnitude of a negative value
    assert not number_grounded("46.1234", ev)
    assert not number_grounded("-7", ev)
    assert not number_grounded("3.7", ev)


def test_verify_answer_grounds_in_question_tools_and_cited_passages() -> None:
    passages = [{"text": "Solid nodule 6 to 8 mm, high risk: CT at 6-12 months, then 18-24 months.", "title": "Fleischner 2017"}]
    ok = verify_answer("A 7 mm nodule: CT at 6-12 months, then 18-24 months [1].", question="7 mm nodule?", tool_evidence=[], passages=passages)
    assert ok.ok, ok.reason
    uncited = verify_answer("CT at 6-12 months.", question="?", tool_evidence=[], passages=passages)
    assert not uncited.ok and "6" in uncited.ungrounded_numbers  # numbers from passages need the citation
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
