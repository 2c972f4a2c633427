"""Goal-directed design: both searches end within their budgets and return checked molecules."""

from __future__ import annotations

import time

import pytest

from galen.errors import InvalidInput
from specialists.molecules.assets import PRIOR_PATH
from specialists.molecules.benchmark import check_molecules
from specialists.molecules.design import design
from specialists.molecules.parse import parse_design_request
from specialists.molecules.request import DesignRequest, Range


def _assert_all_pass(result, req: DesignRequest, expect: dict) -> None:
    smiles = [m.smiles for m in result.molecules]
    assert len(set(smiles)) == len(smiles)
    assert all(m.passed and all(m.constraints.values()) for m in result.molecules)
    assert [m.score for m in result.molecules] == sorted((m.score for m in result.molecules), reverse=True)
    assert check_molecules([{"smiles": s} for s in smiles], expect, req.references) == []
    assert result.passed >= len(result.molecules) and result.scored >= result.passed


def test_ga_analogs_meet_every_constraint() -> None:
    req = parse_design_request(
        "5 analogs of ibuprofen with logP under 3, no PAINS", oracle_budget=600, time_budget_s=25, seed=1
    ).request
    result = design(req)
    assert len(result.molecules) == 5, result.notes
    _assert_all_pass(result, req, {"count": 5, "constraints": {"logp": [None, 3], "similarity": [0.4, None]},
                                   "no_alerts": ["PAINS"]})
    assert "CC(C)Cc1ccc(C(C)C(=O)O)cc1" not in [m.smiles for m in result.molecules]  # novel: not the reference


def test_ga_scaffold_is_kept() -> None:
    req = DesignRequest(scaffold="c1ccncc1", count=3, ranges={"mw": Range(low=150, high=300)},
                        oracle_budget=400, time_budget_s=20)
    result = design(req)
    assert len(result.molecules) == 3
    _assert_all_pass(result, req, {"count": 3, "constraints": {"mw": [150, 300]}, "substructure": "c1ccncc1"})


def test_same_seed_same_molecules() -> None:
    req = DesignRequest(references=["CC(=O)Nc1ccc(O)cc1"], min_similarity=0.3, count=3, oracle_budget=150,
                        time_budget_s=20, seed=3)
    assert [m.smiles for m in design(req).molecules] == [m.smiles for m in design(req).molecules]


def test_budgets_end_the_search() -> None:
    # An unreachable window within reach of nothing: the search must stop on its budget, not hang.
    req = DesignRequest(references=["CC(=O)Nc1ccc(O)cc1"], min_similarity=0.3, ranges={"qed": Range(low=0.99)},
                        count=5, oracle_budget=100000, time_budget_s=3)
    t0 = time.monotonic()
    result = design(req)
    assert time.monotonic() - t0 < 10
    assert result.stopped in {"time budget", "stalled"}
    assert result.notes  # says that fewer than requested passed


def test_contradiction_refused_before_search() -> None:
    req = DesignRequest(ranges={"mw": Range(high=100), "tpsa": Range(low=200)})
    with pytest.raises(InvalidInput, match="contradict"):
        design(req)


@pytest.mark.slow
@pytest.mark.skipif(not PRIOR_PATH.is_file(), reason="prior weights not trained")
def test_reinvent_tiny_budget_returns_checked_molecules() -> None:
    req = DesignRequest(ranges={"mw": Range(low=200, high=350), "logp": Range(low=1, high=3)}, count=3,
                        oracle_budget=400, time_budget_s=25, method="reinvent", seed=0)
    result = design(req)
    assert result.method == "reinvent" and result.scored > 0
    assert len(result.molecules) >= 1
    _assert_all_pass(result, req, {"constraints": {"mw": [200, 350], "logp": [1, 3]}})
