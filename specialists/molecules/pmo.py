"""The PMO benchmark protocol (Gao, Fu, Sun & Coley, "Sample efficiency matters: a benchmark for
practical molecular optimization", NeurIPS 2022 Datasets and Benchmarks) run on Galen's design
searches: the graph GA (:func:`specialists.molecules.ga.run_ga`) and REINVENT-style RL of the
SELFIES prior (:func:`specialists.molecules.reinvent.run_reinvent`).

The protocol, as the paper defines it:

- an *oracle* scores a molecule (0-1); the tasks' oracles are the TDC ones the paper used
  (``pytdc``; they follow GuacaMol's definitions). Three of the 23 tasks (DRD2, GSK3B, JNK3)
  need classifiers that TDC downloads at run time: they cannot run offline and are left out
  (:data:`LEFT_OUT`);
- a run may make at most 10,000 oracle calls; a call is a *new* valid molecule (canonical
  SMILES): a repeat or an unparsable string costs nothing;
- the figure is the area under the curve of the mean score of the best 10 molecules found so
  far against the number of calls, sampled every 100 calls and divided by the budget, so that
  finding good molecules early scores more (:func:`top_auc`); a run that stops early keeps its
  last value to the end of the budget.

Differences from the paper, said plainly wherever results are shown: the paper's starting
molecules (GA population, REINVENT prior training set) come from ZINC 250k; here they come from
MOSES (the prior was trained on MOSES train; the GA starts from MOSES train molecules). Galen's
GA and REINVENT are its own implementations with their own operators and settings
(:data:`GA_SETTINGS`, :data:`REINVENT_SETTINGS`), not the paper's code.

Nothing is loaded at import; TDC is imported on first use of :func:`load_oracle`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import random
import sys
import time
import types
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

from galen.errors import InvalidInput, ModelUnavailable
from specialists.molecules.chem import quiet_rdkit
from specialists.molecules.scoring import Scored

Method = Literal["ga", "reinvent"]
METHODS: tuple[Method, ...] = ("ga", "reinvent")
BUDGET = 10_000  # oracle calls per run (the paper's budget)
TOP_N = 10
LOG_EVERY = 100  # the paper samples the top-n curve every 100 calls

#: The PMO tasks whose TDC oracles run offline (checked here: each loads and scores without network).
TASKS: tuple[str, ...] = (
    "albuterol_similarity", "amlodipine_mpo", "celecoxib_rediscovery", "deco_hop", "fexofenadine_mpo",
    "isomers_c7h8n2o2", "isomers_c9h10n2o2pf2cl", "median1", "median2", "mestranol_similarity",
    "osimertinib_mpo", "perindopril_mpo", "qed", "ranolazine_mpo", "scaffold_hop", "sitagliptin_mpo",
    "thiothixene_rediscovery", "troglitazone_rediscovery", "valsartan_smarts", "zaleplon_mpo",
)
#: Tasks of the paper not run, and why.
LEFT_OUT: dict[str, str] = {
    name: "its TDC oracle is a trained classifier that TDC downloads at run time (no network here)"
    for name in ("drd2", "gsk3b", "jnk3")
}

#: Published top-10 AUC (mean of 5 runs) for REINVENT and Graph GA, per task: PMO leaderboard
#: (pmo-benchmark.github.io, one page per task) = Gao et al. 2022, Table 2; sums over all 23
#: tasks 14.196 (REINVENT) and 13.751 (Graph GA).
PUBLISHED_SOURCE = ("Gao W, Fu T, Sun J, Coley CW. Sample efficiency matters: a benchmark for practical molecular "
                    "optimization. NeurIPS 2022 Datasets and Benchmarks (arXiv:2206.12411), Table 2 / PMO leaderboard, "
                    "AUC top-10, mean of 5 runs")
PUBLISHED: dict[str, dict[str, float]] = {
    "albuterol_similarity": {"reinvent": 0.882, "graph_ga": 0.838},
    "amlodipine_mpo": {"reinvent": 0.635, "graph_ga": 0.661},
    "celecoxib_rediscovery": {"reinvent": 0.713, "graph_ga": 0.630},
    "deco_hop": {"reinvent": 0.666, "graph_ga": 0.619},
    "drd2": {"reinvent": 0.945, "graph_ga": 0.964},
    "fexofenadine_mpo": {"reinvent": 0.784, "graph_ga": 0.760},
    "gsk3b": {"reinvent": 0.865, "graph_ga": 0.788},
    "isomers_c7h8n2o2": {"reinvent": 0.852, "graph_ga": 0.862},
    "isomers_c9h10n2o2pf2cl": {"reinvent": 0.642, "graph_ga": 0.719},
    "jnk3": {"reinvent": 0.783, "graph_ga": 0.553},
    "median1": {"reinvent": 0.356, "graph_ga": 0.294},
    "median2": {"reinvent": 0.276, "graph_ga": 0.273},
    "mestranol_similarity": {"reinvent": 0.618, "graph_ga": 0.579},
    "osimertinib_mpo": {"reinvent": 0.837, "graph_ga": 0.831},
    "perindopril_mpo": {"reinvent": 0.537, "graph_ga": 0.538},
    "qed": {"reinvent": 0.941, "graph_ga": 0.940},
    "ranolazine_mpo": {"reinvent": 0.760, "graph_ga": 0.728},
    "scaffold_hop": {"reinvent": 0.560, "graph_ga": 0.517},
    "sitagliptin_mpo": {"reinvent": 0.021, "graph_ga": 0.433},
    "thiothixene_rediscovery": {"reinvent": 0.534, "graph_ga": 0.479},
    "troglitazone_rediscovery": {"reinvent": 0.441, "graph_ga": 0.390},
    "valsartan_smarts": {"reinvent": 0.178, "graph_ga": 0.000},
    "zaleplon_mpo": {"reinvent": 0.358, "graph_ga": 0.346},
}

#: Search settings. The GA's population/offspring sizes are those of the paper's Graph GA
#: (120 / 70); REINVENT keeps Galen's batch size and learning rate with the paper's σ (500).
GA_SETTINGS: dict[str, int] = {"population": 120, "offspring": 70}
REINVENT_SETTINGS: dict[str, float] = {"batch": 64, "sigma": 500.0, "lr": 5e-4}
RUN_TIME_LIMIT_S = 4 * 3600.0  # a safety net only: a run is meant to end by its oracle budget


def _install_tdc_compat() -> None:
    """Let ``pytdc`` 1.1 import on this stack: it needs ``pkg_resources`` (gone from setuptools >= 81)
    for two calls, and ``rdkit.six.iteritems`` (gone from RDKit). Each stand-in is added only when the
    real module is missing, and does exactly what those call sites need."""
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        shim = types.ModuleType("pkg_resources")

        class _Distribution:
            def __init__(self, name: str) -> None:
                self.version = importlib.metadata.version(name)

        def _resource_filename(package: str, path: str) -> str:
            import importlib.resources

            return str(importlib.resources.files(package).joinpath(path))

        shim.get_distribution = _Distribution  # type: ignore[attr-defined]
        shim.resource_filename = _resource_filename  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    import rdkit

    if "rdkit.six" not in sys.modules and importlib.util.find_spec("rdkit.six") is None:
        six = types.ModuleType("rdkit.six")
        six.iteritems = lambda d: iter(d.items())  # type: ignore[attr-defined]
        sys.modules["rdkit.six"] = six
        rdkit.six = six  # type: ignore[attr-defined]


@lru_cache(maxsize=32)
def load_oracle(task: str) -> Callable[[str], float]:
    """The TDC oracle of a PMO task: ``oracle(smiles) -> score`` in [0, 1].

    Raises:
        InvalidInput: ``task`` is not a PMO task, or one that cannot run offline.
        ModelUnavailable: ``pytdc`` is not installed.
    """
    if task in LEFT_OUT:
        raise InvalidInput(f"The PMO task {task!r} cannot run offline: {LEFT_OUT[task]}.")
    if task not in TASKS:
        raise InvalidInput(f"Unknown PMO task {task!r}.", hint=f"Known tasks: {', '.join(TASKS)}.")
    if importlib.util.find_spec("tdc") is None:
        raise ModelUnavailable("The PMO oracles need the pytdc package.",
                               hint="Install it with `pip install --no-deps pytdc==1.1.15 fuzzywuzzy==0.18.0`.")
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _install_tdc_compat()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tdc import Oracle

        return Oracle(name=task)


def top_auc(scores_in_call_order: list[float], top_n: int = TOP_N, budget: int = BUDGET, every: int = LOG_EVERY,
            finished: bool = True) -> float:
    """Area under the top-``top_n`` mean score against oracle calls, over ``budget`` (PMO's metric).

    The curve is sampled every ``every`` calls and integrated with the trapezoid rule; the last
    stretch (fewer than ``every`` calls) is added as one trapezoid. When the run ``finished``
    before the budget, its final top-n mean counts for the remaining calls. Calls beyond the
    budget are ignored. Fewer than ``top_n`` molecules give the mean of those there are.
    """
    import heapq

    values = scores_in_call_order[:budget]
    if not values:
        return 0.0
    area, prev, at = 0.0, 0.0, 0
    best: list[float] = []  # min-heap of the top_n scores so far

    def top_mean() -> float:
        return sum(best) / len(best)

    for i, v in enumerate(values, 1):
        if len(best) < top_n:
            heapq.heappush(best, v)
        elif v > best[0]:
            heapq.heapreplace(best, v)
        if i % every == 0 and i < len(values):
            now = top_mean()
            area += every * (now + prev) / 2
            prev, at = now, i
    now = top_mean()
    area += (len(values) - at) * (now + prev) / 2
    if finished and len(values) < budget:
        area += (budget - len(values)) * now
    return area / budget


class OracleScorer:
    """A stand-in for :class:`~specialists.molecules.scoring.Scorer` that scores with a PMO oracle.

    It offers what the searches use (``score_smiles``, ``score_mols``, ``calls``, ``cache``,
    ``kept_queries``, ``req``), counts one call per new canonical molecule, and stops scoring
    at the budget: a molecule past it gets None and costs nothing, as in the paper.
    """

    def __init__(self, oracle: Callable[[str], float], budget: int = BUDGET) -> None:
        from specialists.molecules.request import DesignRequest

        self.oracle = oracle
        self.budget = budget
        self.calls = 0
        self.cache: dict[str, Scored] = {}
        self.history: list[float] = []  # oracle scores in call order
        self.kept_queries: list = []
        # an empty request: no references to focus REINVENT on, no motifs for the GA to protect
        self.req = DesignRequest(chem_filter=False, novel=False)

    def score_smiles(self, smiles_list: list[str]) -> list[Scored | None]:
        from rdkit import Chem

        mols = []
        for s in smiles_list:
            with quiet_rdkit():
                mol = Chem.MolFromSmiles(s) if s else None
            mols.append(mol if mol is not None and mol.GetNumAtoms() > 0 else None)
        return self.score_mols(mols)

    def score_mols(self, mols: list) -> list[Scored | None]:
        from rdkit import Chem

        out: list[Scored | None] = []
        for m in mols:
            c = Chem.MolToSmiles(m) if m is not None else None
            if c is None:
                out.append(None)
                continue
            if c not in self.cache:
                if self.calls >= self.budget:
                    out.append(None)
                    continue
                with quiet_rdkit():
                    value = float(self.oracle(c))
                self.calls += 1
                self.history.append(value)
                self.cache[c] = Scored(smiles=c, score=value, passed=False, properties={}, constraints={},
                                       similarity=None)
            out.append(self.cache[c])
        return out


@dataclass
class RunResult:
    """One (task, method, seed) run."""

    task: str
    method: str
    seed: int
    auc_top10: float
    top10_mean: float
    top1: float
    calls: int
    stopped: str
    seconds: float
    best: list[tuple[str, float]] = field(default_factory=list)  # the 10 best molecules
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _moses_train() -> list[str]:
    from specialists.molecules.generation_metrics import read_moses

    return read_moses("train.csv.gz")


def starting_population(seed: int, n: int) -> list:
    """``n`` molecules drawn at random (by ``seed``) from MOSES train: the GA's first population."""
    from rdkit import Chem

    rng = random.Random(seed)
    pool = _moses_train()
    out = []
    with quiet_rdkit():
        for s in rng.sample(pool, 3 * n):
            m = Chem.MolFromSmiles(s)
            if m is not None:
                out.append(m)
            if len(out) == n:
                break
    return out


RECHECK_N = 24  # molecules re-scored after a run: the 10 best and a random sample of the rest


def recheck_oracle(oracle: Callable[[str], float], scored: list[Scored], seed: int, task: str) -> None:
    """Re-score the best molecules of a run and a sample of the rest; refuse the run if they differ.

    A TDC oracle that breaks during a run (a dependency swapped underneath it, a failed lazy load)
    returns 0.0 for every molecule instead of raising, and the run would be recorded as a true
    AUC of 0. The oracles are deterministic, so a second call must give the first call's score.

    Raises:
        ModelUnavailable: a re-scored molecule's score differs from the one the run recorded.
    """
    if not scored:
        return
    rest = scored[TOP_N:]
    sample = scored[:TOP_N] + random.Random(seed).sample(rest, min(len(rest), RECHECK_N - TOP_N))
    for s in sample:
        with quiet_rdkit():
            again = float(oracle(s.smiles))
        if abs(again - s.score) > 1e-6:
            raise ModelUnavailable(
                f"The {task} oracle scored {s.smiles} {s.score:.4f} during the run and {again:.4f} after it: "
                "the oracle changed while the run was going, so this run is not recorded.",
                hint="Check that pytdc and RDKit were not reinstalled during the run, then run it again.")


def run_task(task: str, method: Method, seed: int, budget: int = BUDGET,
             oracle: Callable[[str], float] | None = None, time_limit_s: float = RUN_TIME_LIMIT_S) -> RunResult:
    """Run one search on one task with the PMO budget and return its top-10 AUC.

    Args:
        task: a name from :data:`TASKS`.
        method: ``ga`` or ``reinvent``.
        seed: random seed (the same seed gives the same run).
        budget: oracle calls (10,000 in the paper; smaller in tests).
        oracle: the scoring function (default: the task's TDC oracle).
        time_limit_s: a safety limit on wall time.

    Raises:
        InvalidInput: unknown method or task.
        ModelUnavailable: pytdc, or the prior for REINVENT, is missing; or the oracle gave
            different scores for the same molecules during and after the run.
    """
    if method not in METHODS:
        raise InvalidInput(f"Unknown design method {method!r}.", hint="Use ga or reinvent.")
    oracle = oracle or load_oracle(task)
    scorer = OracleScorer(oracle, budget)
    start = time.monotonic()
    deadline = start + time_limit_s
    never = budget + 1  # no molecule "passes": every run ends by its budget (or stalls)
    versions: dict[str, str] = {"tdc": _version("pytdc"), "rdkit": _version("rdkit")}
    if method == "ga":
        from specialists.molecules.ga import run_ga

        rng = random.Random(seed)
        settings: dict[str, Any] = dict(GA_SETTINGS)
        stopped = run_ga(scorer, starting_population(seed, GA_SETTINGS["population"]), rng, deadline, budget, never,
                         population=GA_SETTINGS["population"], offspring=GA_SETTINGS["offspring"])
    else:
        from specialists.molecules.prior import load_prior
        from specialists.molecules.reinvent import run_reinvent

        prior = load_prior()
        versions["prior"] = prior.version
        settings = dict(REINVENT_SETTINGS)
        stopped = run_reinvent(scorer, prior, seed, deadline, budget, never, batch=int(REINVENT_SETTINGS["batch"]),
                               sigma=float(REINVENT_SETTINGS["sigma"]), lr=float(REINVENT_SETTINGS["lr"]))
    ranked = sorted(scorer.cache.values(), key=lambda s: (-s.score, s.smiles))
    recheck_oracle(oracle, ranked, seed, task)
    top = [s.score for s in ranked[:TOP_N]]
    return RunResult(
        task=task, method=method, seed=seed,
        auc_top10=round(top_auc(scorer.history, budget=budget, finished=True), 4),
        top10_mean=round(sum(top) / len(top), 4) if top else 0.0,
        top1=round(top[0], 4) if top else 0.0,
        calls=scorer.calls, stopped=stopped, seconds=round(time.monotonic() - start, 1),
        best=[(s.smiles, round(s.score, 4)) for s in ranked[:TOP_N]], settings=settings, versions=versions,
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"
