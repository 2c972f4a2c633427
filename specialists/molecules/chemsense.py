"""The chemical-sense filter: would a medicinal chemist keep this structure?

Three kinds of finding, reported per molecule (``Finding``), each either *hard* (the molecule is
not returned) or a *warning* (returned, with the finding shown):

1. **Unstable or reactive groups and impossible geometry** (``data/chemsense.yaml``, each with
   its reason): hemiacetals, hemiaminals, aminals, acyclic N,O-acetals, acyclic N–O and all O–O
   bonds, acyl and sulfonyl halides, anti-Bredt double bonds, fused 3/4-membered rings, double
   bonds in small rings, cumulated double bonds, heteroatom chains, charged or radical species,
   rings above 8 atoms, SA score above 6. Always hard.
2. **Ring systems never seen in a drug or a MOSES molecule**: hard. Every ring system (fused,
   bridged or spiro rings together, with their elements, aromaticity and exocyclic double bonds)
   must occur among the ChEMBL approved drugs or the MOSES molecules in
   ``data/known_ring_systems.txt.gz`` — the dihydro-azafulvenes and cross-conjugated rings a
   briefly trained prior or a graph GA invents do not. Bridged systems are also checked by their
   generic skeleton (all atoms carbon, all bonds single; ``data/known_bridged_ring_systems.txt``):
   adamantane, quinuclidine, tropane and morphinan are seen, the cages a GA invents are not.
3. **RDKit's alert catalogues** (PAINS, Brenk, NIH and the ChEMBL sets: Glaxo, Dundee, BMS,
   MLSMR, Inpharmatica, LINT, SureChEMBL). Each *entry* is hard when no ChEMBL approved drug
   carries it and at most 0.5 % of MOSES molecules do (``data/alert_rates.csv``, computed by
   :mod:`specialists.molecules.build_chemsense`; the reasons for the thresholds are in
   ``data/chemsense.yaml``): an alert that no kept, approved chemistry carries is, on a generated
   molecule, almost always an artefact. Entries approved drugs do carry (Brenk's "aniline",
   coumarins, hydantoins) are warnings — whole sets as hard filters would reject much of the
   pharmacopoeia (Brenk matches 47 % of approved drugs, MLSMR 60 %).

A group that a reference molecule of the request itself carries is a warning, not hard, for
that request (analogs of vorinostat keep their hydroxamic acid). A request can turn the filter
off; ``GALEN_DESIGN_CHEM_FILTER`` sets the default.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
#: RDKit FilterCatalog enum name -> the label reported.
CATALOGUES = {"PAINS": "PAINS", "BRENK": "Brenk", "NIH": "NIH", "CHEMBL_Glaxo": "Glaxo", "CHEMBL_Dundee": "Dundee",
              "CHEMBL_BMS": "BMS", "CHEMBL_MLSMR": "MLSMR", "CHEMBL_Inpharmatica": "Inpharmatica",
              "CHEMBL_LINT": "LINT", "CHEMBL_SureChEMBL": "SureChEMBL"}
MAX_SA_SCORE = 6.0


@dataclass(frozen=True)
class Finding:
    id: str  # stable identifier, e.g. "hemiaminal" or "Brenk:aldehyde"
    label: str  # words for the chemist
    source: str  # "chemical sense", "ring systems" or a catalogue label
    hard: bool

    def text(self) -> str:
        return f"{self.label} ({self.source})" if self.source not in ("chemical sense", "ring systems") else self.label


@lru_cache(maxsize=1)
def _config() -> dict:
    return yaml.safe_load((DATA / "chemsense.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _patterns():
    from rdkit import Chem

    out = []
    for p in _config()["patterns"]:
        q = Chem.MolFromSmarts(p["smarts"])
        if q is None:  # a broken pattern is a bug in the data file
            raise ValueError(f"chemsense.yaml: invalid SMARTS for {p['id']}")
        out.append((p["id"], p["label"], q))
    return out


@lru_cache(maxsize=1)
def _hard_entries() -> frozenset[tuple[str, str]]:
    """(catalogue label, entry description) pairs that are hard filters, from the measured rates."""
    rule = _config()["catalogue_rule"]
    hard = set()
    with open(DATA / "alert_rates.csv", newline="") as f:
        for r in csv.DictReader(f):
            drug = int(r["drug_hits"]) / int(r["drug_n"])
            ref = int(r["moses_hits"]) / int(r["moses_n"])
            if drug <= rule["max_drug_rate"] and ref <= rule["max_moses_rate"]:
                hard.add((r["catalogue"], r["entry"]))
    return frozenset(hard)


@lru_cache(maxsize=1)
def _catalogue():
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    out = []
    for enum, label in CATALOGUES.items():
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, enum))
        out.append((label, FilterCatalog(params)))
    return out


@lru_cache(maxsize=1)
def known_bridged_systems() -> frozenset[str]:
    path = DATA / "known_bridged_ring_systems.txt"
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def ring_systems(mol) -> list[tuple[set[int], bool]]:
    """The molecule's ring systems (rings sharing atoms, merged) and whether each is bridged
    (two of its rings share three or more atoms)."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    systems: list[tuple[set[int], list[set[int]]]] = []
    for r in rings:
        merged = [s for s in systems if s[0] & r]
        atoms, members = set(r), [r]
        for s in merged:
            atoms |= s[0]
            members += s[1]
            systems.remove(s)
        systems.append((atoms, members))
    return [(atoms, any(len(a & b) >= 3 for i, a in enumerate(ms) for b in ms[i + 1:])) for atoms, ms in systems]


def ring_system_key(mol, atoms: set[int]) -> str:
    """Canonical SMILES of a ring system as it is: ring atoms and bonds with their elements and
    aromaticity, plus atoms double-bonded to the rings (the O of a pyridone, the S of a thione)."""
    from rdkit import Chem

    keep = set(atoms)
    for i in atoms:
        for b in mol.GetAtomWithIdx(i).GetBonds():
            other = b.GetOtherAtomIdx(i)
            if other not in atoms and b.GetBondType() == Chem.BondType.DOUBLE:
                keep.add(other)
    bonds = [b.GetIdx() for b in mol.GetBonds() if b.GetBeginAtomIdx() in keep and b.GetEndAtomIdx() in keep
             and (b.IsInRing() or b.GetBondType() == Chem.BondType.DOUBLE)]
    return Chem.MolFragmentToSmiles(mol, atomsToUse=sorted(keep), bondsToUse=bonds or None, isomericSmiles=False,
                                    canonical=True)


@lru_cache(maxsize=1)
def known_ring_systems() -> frozenset[str]:
    import gzip

    with gzip.open(DATA / "known_ring_systems.txt.gz", "rt") as f:
        return frozenset(line.rstrip("\n") for line in f if line.strip() and not line.startswith("#"))


def generic_skeleton(mol, atoms: set[int]) -> str:
    """Canonical SMILES of the ring-system atoms with every atom a carbon and every bond single."""
    from rdkit import Chem

    rw = Chem.RWMol(mol)
    for a in rw.GetAtoms():
        a.SetAtomicNum(6)
        a.SetIsAromatic(False)
        a.SetFormalCharge(0)
        a.SetNoImplicit(False)
        a.SetNumExplicitHs(0)
    for b in rw.GetBonds():
        b.SetBondType(Chem.BondType.SINGLE)
        b.SetIsAromatic(False)
    ring_bonds = [b.GetIdx() for b in rw.GetBonds() if b.GetBeginAtomIdx() in atoms and b.GetEndAtomIdx() in atoms
                  and b.IsInRing()]
    frag = Chem.MolFragmentToSmiles(rw, atomsToUse=sorted(atoms), bondsToUse=ring_bonds or None, canonical=True)
    m = Chem.MolFromSmiles(frag)
    return Chem.MolToSmiles(m) if m is not None else frag


def _anti_bredt(mol) -> bool:
    """A non-aromatic double bond at a bridgehead of a bridged bicycle too small to hold it (Bredt's
    rule: the bicycle needs at least 7 bridge atoms, i.e. 9 ring atoms, as in bicyclo[3.3.1]non-1-ene)."""
    from rdkit import Chem

    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    for i, a in enumerate(rings):
        for b in rings[i + 1:]:
            shared = a & b
            if len(shared) < 3 or len(a | b) >= 9:
                continue
            union = a | b
            for idx in shared:
                atom = mol.GetAtomWithIdx(idx)
                ring_nbrs = [n.GetIdx() for n in atom.GetNeighbors() if n.GetIdx() in union]
                if len(ring_nbrs) < 3:
                    continue  # not a bridgehead
                for n in ring_nbrs:
                    bond = mol.GetBondBetweenAtoms(idx, n)
                    if bond.GetBondType() == Chem.BondType.DOUBLE and not bond.GetIsAromatic():
                        return True
    return False


def _structural(mol, sa_score: float | None) -> list[Finding]:
    """Findings of kind 1 and 2 (cheap: SMARTS and ring perception)."""
    out = [Finding(pid, label, "chemical sense", True) for pid, label, q in _patterns() if mol.HasSubstructMatch(q)]
    if _anti_bredt(mol):
        out.append(Finding("anti_bredt", "double bond at a bridgehead of a small bicycle (anti-Bredt)", "chemical sense", True))
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    small = [r for r in rings if len(r) <= 4]
    if any(len(a & b) >= 2 for i, a in enumerate(small) for b in small[i + 1:]):
        out.append(Finding("fused_small_rings", "fused or bridged 3-/4-membered rings (highly strained)", "chemical sense", True))
    if any(len(r) > 8 for r in mol.GetRingInfo().AtomRings()):
        out.append(Finding("large_ring", "ring larger than 8 atoms", "chemical sense", True))
    if sum(a.GetFormalCharge() for a in mol.GetAtoms()) != 0 or any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        out.append(Finding("charged", "net charge or radical", "chemical sense", True))
    if sa_score is not None and sa_score > MAX_SA_SCORE:
        out.append(Finding("sa_score", f"SA score {sa_score:.2f} above {MAX_SA_SCORE:g} (hard to make)", "chemical sense", True))
    known, seen = known_bridged_systems(), known_ring_systems()
    for atoms, bridged in ring_systems(mol):
        if bridged and generic_skeleton(mol, atoms) not in known:
            out.append(Finding("unknown_cage", "bridged ring system (cage) found in no approved drug or MOSES molecule",
                               "ring systems", True))
        key = ring_system_key(mol, atoms)
        if key not in seen:
            out.append(Finding(f"ring_system:{key}", f"ring system {key} found in no approved drug or MOSES molecule",
                               "ring systems", True))
    return out


def catalogue_findings(mol) -> list[Finding]:
    """Findings of kind 3: every catalogue entry that matches, hard or warning by its measured rates."""
    hard = _hard_entries()
    out, seen = [], set()
    for label, cat in _catalogue():
        for entry in cat.GetMatches(mol):
            desc = entry.GetDescription()
            if (label, desc) in seen:
                continue
            seen.add((label, desc))
            out.append(Finding(f"{label}:{desc}", desc, label, (label, desc) in hard))
    return out


def findings(mol, sa_score: float | None = None, catalogues: bool = True) -> list[Finding]:
    """Every chemical-sense finding for ``mol`` (RDKit molecule); ``sa_score`` enables that check."""
    out = _structural(mol, sa_score)
    if catalogues:
        out += catalogue_findings(mol)
    return out


def exempt_ids(references: list[str]) -> set[str]:
    """Finding ids carried by the request's own reference molecules (downgraded to warnings)."""
    from rdkit import Chem

    ids: set[str] = set()
    for s in references:
        mol = Chem.MolFromSmiles(s)
        if mol is not None:
            ids |= {f.id for f in findings(mol) if f.hard}
    return ids


def hard_findings(mol, sa_score: float | None = None, exempt: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    """The findings that keep ``mol`` from being returned."""
    return [f for f in findings(mol, sa_score) if f.hard and f.id not in exempt]
