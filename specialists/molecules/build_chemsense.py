"""Measure what the chemical-sense filter's decisions rest on, and write them as data.

* ``data/alert_rates.csv`` — for every entry of every RDKit alert catalogue the filter uses,
  how many ChEMBL approved drugs (parents, from the offline name table) and how many molecules
  of a seeded MOSES test sample it matches. :mod:`specialists.molecules.chemsense` makes an
  entry hard when both rates are at most the threshold in ``data/chemsense.yaml``.
* ``data/known_bridged_ring_systems.txt`` — the generic skeletons (all carbon, single bonds)
  of every bridged ring system among the approved drugs and the MOSES molecules below.
* ``data/known_ring_systems.txt.gz`` — every ring system (elements, aromaticity, exocyclic double
  bonds) of the approved drugs, the MOSES test and scaffold-test sets and a seeded sample of
  MOSES train.

Run: ``python -m specialists.molecules.build_chemsense`` (a few minutes), or ``--patterns`` to
print how many approved drugs each hand-written pattern of ``chemsense.yaml`` matches.
"""

from __future__ import annotations

import argparse
import collections
import csv
import random

from specialists.molecules.chemsense import CATALOGUES, DATA, generic_skeleton, ring_systems


def _drugs() -> list:
    from rdkit import Chem

    from specialists.molecules.names import _table

    return [m for m in (Chem.MolFromSmiles(s) for s in sorted(set(_table().values()))) if m is not None]


def _moses(n: int | None, seed: int) -> list:
    from rdkit import Chem

    from specialists.molecules.generation_metrics import read_moses

    smiles = read_moses("test.csv.gz")
    if n is not None:
        smiles = random.Random(seed).sample(smiles, n)
    return [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]


def _moses_file(name: str, n: int | None = None, seed: int = 0) -> list:
    from rdkit import Chem

    from specialists.molecules.generation_metrics import read_moses

    smiles = read_moses(name)
    if n is not None and n < len(smiles):
        smiles = random.Random(seed).sample(smiles, n)
    return [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]


def alert_rates(drugs: list, moses: list) -> list[dict]:
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    rows = []
    for enum, label in CATALOGUES.items():
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, enum))
        cat = FilterCatalog(params)
        hits = {"drug": collections.Counter(), "moses": collections.Counter()}
        for key, mols in (("drug", drugs), ("moses", moses)):
            for m in mols:
                for d in {e.GetDescription() for e in cat.GetMatches(m)}:
                    hits[key][d] += 1
        for d in sorted({cat.GetEntryWithIdx(i).GetDescription() for i in range(cat.GetNumEntries())}):
            rows.append({"catalogue": label, "entry": d, "drug_hits": hits["drug"][d], "drug_n": len(drugs),
                         "moses_hits": hits["moses"][d], "moses_n": len(moses)})
    return rows


def bridged_skeletons(mols: list) -> set[str]:
    out = set()
    for m in mols:
        for atoms, bridged in ring_systems(m):
            if bridged:
                out.add(generic_skeleton(m, atoms))
    return out


def ring_system_keys(mols: list) -> set[str]:
    from specialists.molecules.chemsense import ring_system_key

    return {ring_system_key(m, atoms) for m in mols for atoms, _ in ring_systems(m)}


def pattern_rates() -> None:
    from rdkit import Chem

    from specialists.molecules.chemsense import _patterns
    from specialists.molecules.names import _table

    drugs = sorted(set(_table().values()))
    for pid, _, q in _patterns():
        hits = [s for s in drugs if (m := Chem.MolFromSmiles(s)) is not None and m.HasSubstructMatch(q)]
        print(f"{pid:24s} {len(hits):4d} of {len(drugs)} approved drugs  e.g. {hits[:3]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moses-sample", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-sample", type=int, default=300000, help="MOSES train molecules whose ring systems count as seen")
    ap.add_argument("--rings-only", action="store_true", help="only the ring-system files (the alert rates stay)")
    ap.add_argument("--patterns", action="store_true", help="only print the hand-written patterns' drug hit counts")
    a = ap.parse_args()
    if a.patterns:
        pattern_rates()
        return
    from specialists.molecules.chem import quiet_rdkit

    with quiet_rdkit():
        drugs = _drugs()
        if not a.rings_only:
            moses = _moses(a.moses_sample, a.seed)
            rows = alert_rates(drugs, moses)
        moses_all = _moses(None, a.seed) + _moses_file("test_scaffolds.csv.gz") + _moses_file("train.csv.gz", a.train_sample, a.seed)
        skeletons = bridged_skeletons(drugs) | bridged_skeletons(moses_all)
        rings = ring_system_keys(drugs) | ring_system_keys(moses_all)
    if not a.rings_only:
        with open(DATA / "alert_rates.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    (DATA / "known_bridged_ring_systems.txt").write_text(
        "# Generic skeletons of bridged ring systems in ChEMBL approved drugs and the MOSES test set\n"
        "# (written by python -m specialists.molecules.build_chemsense)\n" + "\n".join(sorted(skeletons)) + "\n")
    import gzip

    with gzip.open(DATA / "known_ring_systems.txt.gz", "wt") as f:
        f.write(f"# Ring systems of ChEMBL approved drugs and {len(moses_all)} MOSES molecules (test, scaffold test, "
                f"{a.train_sample} train; python -m specialists.molecules.build_chemsense)\n")
        f.write("\n".join(sorted(rings)) + "\n")
    print(f"{len(skeletons)} bridged skeletons; {len(rings)} ring systems"
          + ("" if a.rings_only else f"; {len(rows)} catalogue entries over {len(drugs)} drugs and {len(moses)} MOSES"))


if __name__ == "__main__":
    main()
