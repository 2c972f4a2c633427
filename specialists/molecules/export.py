"""Files for a design result: a grid image of the top molecules, an SDF and a CSV table."""

from __future__ import annotations

import csv
from pathlib import Path

from specialists.molecules.scoring import Scored

CSV_PROPERTIES = ["mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "heavy_atoms", "aromatic_rings", "fsp3", "qed",
                  "sa_score", "logs", "bbb"]


def _legend(rank: int, m: Scored) -> str:
    p = m.properties
    line = f"#{rank} score {m.score:.2f}  MW {p['mw']:.0f}  logP {p['logp']:.1f}"
    extra = f"TPSA {p['tpsa']:.0f}  QED {p['qed']:.2f}"
    if m.similarity is not None:
        extra += f"  sim {m.similarity:.2f}"
    if "logs" in p:
        extra += f"  logS {p['logs']:.1f}"
    if "bbb" in p:
        extra += f"  BBB {p['bbb']:.2f}"
    return f"{line}\n{extra}"


def write_grid(mols: list[Scored], path: Path, top: int = 12) -> Path:
    """PNG grid of the first ``top`` molecules, each labelled with its rank and key numbers."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    shown = mols[:top]
    img = Draw.MolsToGridImage(
        [Chem.MolFromSmiles(m.smiles) for m in shown], molsPerRow=min(4, max(1, len(shown))),
        subImgSize=(320, 280), legends=[_legend(i + 1, m) for i, m in enumerate(shown)],
    )
    img.save(str(path))
    return path


def write_sdf(mols: list[Scored], path: Path) -> Path:
    """SDF (2-D coordinates) with rank, score, similarity, properties and constraints as fields."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    with Chem.SDWriter(str(path)) as w:
        for i, m in enumerate(mols, start=1):
            mol = Chem.MolFromSmiles(m.smiles)
            AllChem.Compute2DCoords(mol)
            mol.SetProp("_Name", f"design_{i}")
            mol.SetProp("rank", str(i))
            mol.SetProp("smiles", m.smiles)
            mol.SetProp("score", f"{m.score:.4f}")
            if m.similarity is not None:
                mol.SetProp("similarity", f"{m.similarity:.3f}")
            for k, v in m.properties.items():
                mol.SetProp(k, str(v))
            mol.SetProp("constraints_met", ";".join(k for k, ok in m.constraints.items() if ok))
            mol.SetProp("alerts", "; ".join(m.alerts))
            w.write(mol)
    return path


def write_csv(mols: list[Scored], path: Path) -> Path:
    """The ranked table: SMILES, score, similarity, properties, constraints met, alerts, uncertainty."""
    cons = sorted({k for m in mols for k in m.constraints})
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rank", "smiles", "score", "similarity", *CSV_PROPERTIES, *[f"ok_{c}" for c in cons],
                    "novel", "alerts", "warnings", "logs_std", "bbb_std", "in_domain"])
        for i, m in enumerate(mols, start=1):
            u = m.uncertainty
            w.writerow([i, m.smiles, m.score, "" if m.similarity is None else m.similarity,
                        *[m.properties.get(k, "") for k in CSV_PROPERTIES], *[m.constraints.get(c, "") for c in cons],
                        "" if m.novel is None else m.novel, "; ".join(m.alerts), "; ".join(m.warnings),
                        u.get("logs_std", ""), u.get("bbb_std", ""), u.get("in_domain", "")])
    return path
