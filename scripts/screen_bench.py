"""Screening throughput (`make bench`, section `screen`): files of MOSES test molecules through
`galen screen`'s code, against plain RDKit calls and today's one-molecule-per-call path, same run.

- **limit** = cores x the rate of plain RDKit calls for the same properties (parse, canonical
  SMILES, MolWt, Crippen logP, TPSA, HBD/HBA, rotatable bonds, heavy atoms, QED, SA score,
  PAINS + Brenk matches) in one process; the descriptor screen's target is >= 80 % of it;
- **today** = ``compute_properties`` one molecule at a time in one process (what a
  ``predict_properties`` call does), and ``predict_learned`` one molecule at a time;
- **screen** = :func:`specialists.molecules.screen.screen_file` on a CSV, worker processes (one per
  core), wall time including reading the file and starting the workers;
- **stages** = where one process spends its time per molecule on the learned path (parse and
  descriptors, featurising, GNN members, forest members, applicability domain), and what a fresh
  worker spends before its first molecule (imports, models, training fingerprints).

Run: ``python scripts/bench.py --only screen``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_DESCRIPTORS = 10_000
N_LEARNED = 5_000
N_BASELINE = 1_500  # molecules for the one-process baselines (their rate is steady well before this)
N_TODAY_LEARNED = 300
N_STAGES = 512


def stage_times(smiles: list[str]) -> dict[str, float]:
    """Milliseconds per molecule of each stage of the learned screen, one process (after warm-up).

    ``featurise`` starts from the SMILES; inside the screen the parsed molecule (and RDKit's cached
    descriptors) are handed on, which ``learned_in_screen`` (a chunk with minus without the learned
    columns) includes.
    """
    import numpy as np

    from specialists.molecules import learned as L
    from specialists.molecules.screen import compute_chunk

    chunk = [(i, "smiles", s) for i, s in enumerate(smiles)]
    compute_chunk(chunk[:4], True)  # imports, models, training fingerprints: outside the timing
    ms: dict[str, float] = {}

    def timed(key: str, fn):
        t = time.perf_counter()
        out = fn()
        ms[key] = round(1000 * (time.perf_counter() - t) / len(smiles), 3)
        return out

    rows = timed("parse_and_descriptors", lambda: compute_chunk(chunk, False))
    timed("screen_chunk_with_learned", lambda: compute_chunk(chunk, True))  # as a worker runs it
    canon = [v["smiles"] for _, v, _ in rows if v is not None]
    feats = timed("featurise", lambda: [L.featurise(s) for s in canon])
    forest_x = np.stack([f.forest for f in feats])
    batches = timed("collate", lambda: [L.GraphBatch.of(feats[k:k + L.BATCH]) for k in range(0, len(feats), L.BATCH)])
    for name in ("logs", "bbb"):
        ens = L.load_ensemble(name)
        gnn_only = L.Ensemble(ens.task, ens.members, ens.train_smiles, ens.version, ens.y_mean, ens.y_std)
        timed(f"gnn_{name}", lambda e=gnn_only: e.predict_batches(batches, None))
        timed(f"forest_{name}", lambda e=ens: [f.predict(forest_x) for f in e.forests])
        timed(f"domain_{name}", lambda n=name: L.nearest_similarity_bits([f.bits for f in feats], n))
    ms["learned_in_screen"] = round(ms["screen_chunk_with_learned"] - ms["parse_and_descriptors"], 3)
    ms["learned_stages_total"] = round(sum(ms[k] for k in ms if k.split("_")[0] in
                                           ("featurise", "collate", "gnn", "forest", "domain")), 3)
    return ms


def worker_start_seconds() -> float:
    """Seconds a fresh process takes from start to its first learned row (what each screen worker pays once)."""
    import subprocess

    code = ("import time; t = time.perf_counter(); from specialists.molecules.screen import compute_chunk; "
            "compute_chunk([(0, 'smiles', 'CCO')], True); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    return float(done.stdout.strip().splitlines()[-1])


def plain_rdkit_rate(smiles: list[str]) -> float:
    """Molecules/s of bare RDKit calls for the screen's descriptor, rule and alert set, one process."""
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

    from specialists.molecules.properties import _catalogues, _sascorer

    cats = _catalogues()
    sa = _sascorer()
    Chem.MolFromSmiles("CCO")
    t = time.perf_counter()
    for s in smiles:
        m = Chem.MolFromSmiles(s)
        Chem.MolToSmiles(m)
        Descriptors.MolWt(m), Crippen.MolLogP(m), rdMolDescriptors.CalcTPSA(m)
        Lipinski.NumHDonors(m), Lipinski.NumHAcceptors(m), rdMolDescriptors.CalcNumRotatableBonds(m)
        m.GetNumHeavyAtoms(), QED.qed(m), sa.calculateScore(m)
        cats["PAINS"].GetMatches(m), cats["Brenk"].GetMatches(m)
    return len(smiles) / (time.perf_counter() - t)


def today_rate(smiles: list[str]) -> float:
    from specialists.molecules.properties import compute_properties

    t = time.perf_counter()
    for s in smiles:
        compute_properties(s)
    return len(smiles) / (time.perf_counter() - t)


def today_learned_rate(smiles: list[str]) -> float:
    from specialists.molecules.learned import predict_learned

    predict_learned(smiles[:2])
    t = time.perf_counter()
    for s in smiles:
        predict_learned([s])
    return len(smiles) / (time.perf_counter() - t)


def screen_rate(path: Path, learned: bool, workers: int) -> tuple[float, float, int]:
    from specialists.molecules.screen import screen_file

    t = time.perf_counter()
    r = screen_file(path, learned=learned, workers=workers)
    wall = time.perf_counter() - t
    return len(r.rows) / wall, wall, len(r.rows)


def run(log=print) -> dict[str, Any]:
    from specialists.molecules.generation_metrics import read_moses

    cores = os.cpu_count() or 1
    smiles = read_moses("test.csv.gz")[: max(N_DESCRIPTORS, N_LEARNED)]
    out: dict[str, Any] = {"cores": cores, "load_average_1m_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as d:
        desc_csv = Path(d) / "descriptors.csv"
        desc_csv.write_text("smiles\n" + "\n".join(smiles[:N_DESCRIPTORS]) + "\n")
        learned_csv = Path(d) / "learned.csv"
        learned_csv.write_text("smiles\n" + "\n".join(smiles[:N_LEARNED]) + "\n")
        plain = plain_rdkit_rate(smiles[:N_BASELINE])
        today = today_rate(smiles[:N_BASELINE])
        log(f"plain RDKit {plain:.0f}/s, compute_properties {today:.0f}/s (one process)")
        rate, wall, n = screen_rate(desc_csv, learned=False, workers=cores)
        plain_after = plain_rdkit_rate(smiles[:N_BASELINE])  # the box's load drifts: measure the limit on both sides
        limit = cores * (plain + plain_after) / 2
        log(f"screen (descriptors) {rate:.0f}/s over {n} molecules; limit {limit:.0f}/s")
        out["descriptors"] = {
            "n": n, "seconds": round(wall, 2), "molecules_per_s": round(rate, 1),
            "plain_rdkit_one_process_per_s": [round(plain, 1), round(plain_after, 1)], "n_baseline": N_BASELINE,
            "limit_per_s": round(limit, 1), "fraction_of_limit": round(rate / limit, 3), "target_fraction": 0.8,
            "met": rate / limit >= 0.8,
            "today_compute_properties_per_s": round(today, 1), "ratio_to_today": round(rate / today, 3),
        }
        t_learned = today_learned_rate(smiles[:N_TODAY_LEARNED])
        rate, wall, n = screen_rate(learned_csv, learned=True, workers=cores)
        log(f"screen (with learned) {rate:.0f}/s over {n} molecules; today's predict_learned {t_learned:.0f}/s")
        out["with_learned"] = {
            "n": n, "seconds": round(wall, 2), "molecules_per_s": round(rate, 1), "target_per_s": 300,
            "met": rate >= 300, "today_predict_learned_one_molecule_per_call_per_s": round(t_learned, 1),
            "n_today": N_TODAY_LEARNED, "ratio_to_today": round(rate / t_learned, 3),
        }
    out["stages_ms_per_molecule"] = {"n": N_STAGES, **stage_times(smiles[:N_STAGES])}
    out["worker_start_s"] = round(worker_start_seconds(), 2)
    log(f"stages (ms/molecule, one process): {out['stages_ms_per_molecule']}; worker start {out['worker_start_s']} s")
    out["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(log=lambda m: print(m, file=sys.stderr, flush=True)), indent=2))
