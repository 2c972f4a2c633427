"""The PMO protocol: top-10 AUC computed as the paper defines it, oracle calls counted once per new
molecule and stopped at the budget, both searches driven through it, checkpoints resumed."""

from __future__ import annotations

import json

import pytest

from specialists.molecules.pmo import LEFT_OUT, PUBLISHED, TASKS, OracleScorer, run_task, top_auc


def test_top_auc_by_hand() -> None:
    # the curve starts at 0 before the first 100 calls (as in the paper's code): constant 0.5 gives
    # (100 * 0.25 + 900 * 0.5) / 1000
    assert top_auc([0.5] * 1000, budget=1000) == pytest.approx(0.475)
    # top-1 curve 0.2 for the first 100 calls then 1.0: trapezoids 100*(0.2+0)/2 + 100*(1.0+0.2)/2 over 200 calls
    scores = [0.2] * 100 + [1.0] * 100
    assert top_auc(scores, top_n=1, budget=200, every=100) == pytest.approx((10 + 60) / 200)
    # a run that stopped early keeps its last top-n mean to the end of the budget
    assert top_auc([1.0] * 100, top_n=1, budget=1000, every=100) == pytest.approx((50 + 900) / 1000)
    assert top_auc([1.0] * 100, top_n=1, budget=1000, every=100, finished=False) == pytest.approx(50 / 1000)
    # calls beyond the budget are ignored
    assert top_auc([0.1] * 100 + [1.0] * 100, top_n=1, budget=100, every=100) == pytest.approx(0.05)


def test_scorer_counts_new_molecules_and_stops_at_the_budget() -> None:
    seen: list[str] = []
    scorer = OracleScorer(lambda s: seen.append(s) or 0.5, budget=3)
    out = scorer.score_smiles(["CCO", "OCC", "not a smiles", "c1ccccc1", "CCN", "CCCl"])
    assert [o is not None for o in out] == [True, True, False, True, True, False]
    assert scorer.calls == 3 and seen == ["CCO", "c1ccccc1", "CCN"]  # OCC is CCO again: no call
    assert scorer.history == [0.5, 0.5, 0.5]


def test_tasks_and_published_figures() -> None:
    assert len(TASKS) == 20 and set(LEFT_OUT) == {"drd2", "gsk3b", "jnk3"}
    assert set(TASKS) | set(LEFT_OUT) == set(PUBLISHED)
    assert PUBLISHED["qed"] == {"reinvent": 0.941, "graph_ga": 0.940}
    assert PUBLISHED["celecoxib_rediscovery"] == {"reinvent": 0.713, "graph_ga": 0.630}
    assert sum(v["reinvent"] for v in PUBLISHED.values()) == pytest.approx(14.196, abs=0.02)


def _qed(smiles: str) -> float:
    from rdkit import Chem
    from rdkit.Chem import QED

    return QED.qed(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize("method", ["ga", "reinvent"])
def test_both_searches_run_the_protocol(method: str) -> None:
    a = run_task("qed", method, seed=1, budget=150, oracle=_qed)
    assert a.calls == 150 and a.stopped == "oracle budget"
    assert 0 < a.auc_top10 <= a.top10_mean <= 1 and len(a.best) == 10
    b = run_task("qed", method, seed=1, budget=150, oracle=_qed)
    assert (b.auc_top10, b.best) == (a.auc_top10, a.best)  # same seed, same run


def test_tdc_oracle_runs_offline() -> None:
    import importlib.util

    if importlib.util.find_spec("tdc") is None:
        pytest.skip("pytdc is not installed (requirements-nodeps.txt)")
    from specialists.molecules.pmo import load_oracle

    assert load_oracle("qed")("CC(=O)Oc1ccccc1C(=O)O") == pytest.approx(_qed("CC(=O)Oc1ccccc1C(=O)O"))
    assert 0 <= load_oracle("celecoxib_rediscovery")("CC(=O)Oc1ccccc1C(=O)O") < 1


def test_runner_resumes_from_checkpoints(tmp_path, monkeypatch) -> None:
    from evals import pmo

    calls: list[tuple] = []

    def fake_run_task(task, method, seed, budget):
        calls.append((task, method, seed))
        return run_task(task, method, seed, budget=budget, oracle=_qed)

    monkeypatch.setattr("specialists.molecules.pmo.run_task", fake_run_task)
    monkeypatch.setattr(pmo, "record", lambda *a, **k: None)
    assert pmo.run(["qed"], ["ga"], [0, 1], 100, tmp_path, "test", log=lambda m: None) == 2
    assert pmo.run(["qed"], ["ga"], [0, 1, 2], 100, tmp_path, "test", log=lambda m: None) == 1  # only seed 2 is new
    assert calls == [("qed", "ga", 0), ("qed", "ga", 1), ("qed", "ga", 2)]
    runs = pmo.load_runs(tmp_path, 100)
    summary = pmo.summarise(runs, methods=("ga",))
    assert summary["per_task"]["qed"]["ga"]["n_seeds"] == 3 and summary["sums"]["n_tasks"] == 1
    assert json.loads((tmp_path / "qed.ga.0.json").read_text())["budget"] == 100


def test_a_run_whose_oracle_changes_midway_is_refused_not_recorded() -> None:
    from galen.errors import ModelUnavailable

    state = {"calls": 0}

    def breaks_after_100(smiles: str) -> float:  # as a TDC oracle does when a dependency fails: 0.0, no error
        state["calls"] += 1
        return _qed(smiles) if state["calls"] <= 100 else 0.0

    with pytest.raises(ModelUnavailable, match="oracle changed while the run was going"):
        run_task("qed", "ga", seed=1, budget=150, oracle=breaks_after_100)


def test_verify_names_the_checkpoints_the_oracle_disagrees_with(tmp_path, monkeypatch) -> None:
    from evals import pmo

    good = run_task("qed", "ga", seed=0, budget=100, oracle=_qed).to_dict()
    broken = {**good, "seed": 1, "best": [(smi, 0.0) for smi, _ in good["best"]]}  # recorded by a failing oracle
    (tmp_path / "qed.ga.0.json").write_text(json.dumps(good))
    (tmp_path / "qed.ga.1.json").write_text(json.dumps(broken))
    monkeypatch.setattr("specialists.molecules.pmo.load_oracle", lambda task: _qed)
    assert pmo.verify(tmp_path, log=lambda m: None) == ["qed.ga.1.json"]
