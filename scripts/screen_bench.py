"""Screening throughput (`make bench`, section `screen`): files of MOSES test molecules through
`galen screen`'s code, against plain RDKit calls and today's one-molecule-per-call path, same run.

- **limit** = cores x the rate of plain RDKit calls for the same properties (parse, canonical
  SMILES, MolWt, Crippen logP, TPSA, HBD/HBA, rotatable bonds, heavy atoms, QED, SA score,
  PAINS + Brenk matches) in one process; the descriptor screen's target is >= 80 % of it;
- **today** = ``compute_properties`` one molecule at a time in one process (what a
  ``predict_properties`` call does), and ``predict_learned`` one molecule at a time;
- **screen** = :func:`specialists.molecules.screen.screen_file` on a CSV, worker processes (one per
  core), wall time including reading the file and starting the workers.

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
    out["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(log=lambda m: print(m, file=sys.stderr, flush=True)), indent=2))
