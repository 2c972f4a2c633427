"""The typed design request and the checks that make it well posed before any search runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from galen.errors import InvalidInput

MAX_COUNT = 100
MAX_REFERENCE_HEAVY_ATOMS = 70  # beyond this a "reference" is not a small molecule the prior can imitate

#: Constrainable properties: key → (label, unit, lowest possible, highest possible).
PROPERTIES: dict[str, tuple[str, str, float, float]] = {
    "mw": ("molecular weight", "Da", 0.0, 2000.0),
    "logp": ("logP", "", -15.0, 20.0),
    "tpsa": ("TPSA", "Å²", 0.0, 1000.0),
    "hbd": ("H-bond donors", "", 0.0, 50.0),
    "hba": ("H-bond acceptors", "", 0.0, 50.0),
    "rotatable_bonds": ("rotatable bonds", "", 0.0, 60.0),
    "heavy_atoms": ("heavy atoms", "", 1.0, 150.0),
    "aromatic_rings": ("aromatic rings", "", 0.0, 20.0),
    "rings": ("rings", "", 0.0, 30.0),
    "fsp3": ("Fsp3", "", 0.0, 1.0),
    "qed": ("QED", "", 0.0, 1.0),
    "sa_score": ("SA score", "", 1.0, 10.0),
    "logs": ("predicted logS", "log mol/L", -15.0, 3.0),
    "bbb": ("predicted BBB probability", "", 0.0, 1.0),
}
LEARNED = {"logs", "bbb"}
#: Alert catalogues a request can ask to avoid entirely (labels of specialists.molecules.chemsense.CATALOGUES).
Catalogue = Literal["PAINS", "Brenk", "NIH", "Glaxo", "Dundee", "BMS", "MLSMR", "Inpharmatica", "LINT", "SureChEMBL"]


def _num(v: float) -> str:
    return f"{v:g}"


class Range(BaseModel):
    """An interval with open sides as None; each bound inclusive unless marked strict.

    "logP under 3" is ``Range(high=3, high_strict=True)`` (3.0 fails), "logP ≤ 3" is
    ``Range(high=3)`` (3.0 passes): the comparison the chemist wrote, on unrounded values.
    """

    model_config = ConfigDict(frozen=True)
    low: float | None = Field(None, description="Smallest allowed value; None for no lower bound.")
    high: float | None = Field(None, description="Largest allowed value; None for no upper bound.")
    low_strict: bool = Field(False, description="The value must be above ``low`` (not equal to it).")
    high_strict: bool = Field(False, description="The value must be below ``high`` (not equal to it).")

    def contains(self, v: float) -> bool:
        if self.low is not None and (v < self.low or (self.low_strict and v == self.low)):
            return False
        return not (self.high is not None and (v > self.high or (self.high_strict and v == self.high)))

    def distance(self, v: float) -> float:
        if self.low is not None and v < self.low:
            return self.low - v
        if self.high is not None and v > self.high:
            return v - self.high
        return 0.0

    def empty(self) -> bool:
        """No value can satisfy it (low above high, or equal bounds with a strict side)."""
        if self.low is None or self.high is None:
            return False
        return self.low > self.high or (self.low == self.high and (self.low_strict or self.high_strict))

    def text(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        lo = None if self.low is None else f"{'>' if self.low_strict else '≥'} {_num(self.low)}"
        hi = None if self.high is None else f"{'<' if self.high_strict else '≤'} {_num(self.high)}"
        if lo and hi:
            if not (self.low_strict or self.high_strict):
                if self.low == self.high:
                    return f"= {_num(self.low)}{u}"
                return f"between {_num(self.low)} and {_num(self.high)}{u}"
            return f"{lo} and {hi}{u}"
        return f"{lo or hi}{u}"


class Motif(BaseModel):
    """A substructure every molecule must contain (``keep``) or must not contain."""

    model_config = ConfigDict(frozen=True)
    name: str = Field(description="What the chemist called it ('quinazoline', 'carboxylic acid', or the SMILES).")
    query: str = Field(description="SMARTS (or SMILES) matched against each molecule.")
    smiles: str | None = Field(None, description="A small molecule containing it (seeds the search); None for exclusions.")
    keep: bool = Field(True, description="True: must contain it; False: must not.")
    is_smarts: bool = Field(True, description="``query`` is SMARTS (named motifs) rather than a SMILES.")

    def mol(self):
        from rdkit import Chem

        return Chem.MolFromSmarts(self.query) if self.is_smarts else Chem.MolFromSmiles(self.query)


class DesignRequest(BaseModel):
    """What a chemist asked for, as checkable constraints."""

    model_config = ConfigDict(extra="forbid")

    references: list[str] = Field(default_factory=list, description="Reference molecules (canonical SMILES).")
    reference_names: list[str] = Field(default_factory=list, description="Drug names the references came from.")
    count: int = Field(10, ge=1, le=MAX_COUNT, description=f"Molecules to return (1–{MAX_COUNT}).")
    min_similarity: float | None = Field(
        None, ge=0, le=1, description="Smallest Tanimoto similarity (Morgan r2) to the nearest reference."
    )
    similarity_strict: bool = Field(False, description="Similarity must exceed ``min_similarity`` (not equal it).")
    scaffold: str | None = Field(None, description="A SMILES every molecule must contain (kept as a motif).")
    motifs: list[Motif] = Field(default_factory=list, description="Substructures to keep or to exclude.")
    ranges: dict[str, Range] = Field(default_factory=dict, description=f"Property windows; keys: {', '.join(PROPERTIES)}.")
    avoid_alerts: list[Catalogue] = Field(default_factory=list, description="Alert catalogues to avoid entirely.")
    chem_filter: bool = Field(True, description="Chemical-sense filter (unstable/reactive groups, cages, rare alerts).")
    novel: bool = Field(True, description="Only molecules absent from MOSES (the prior's training data and test "
                        "sets) and ChEMBL approved drugs, and not a reference.")
    seed: int = Field(0, description="Random seed: the same request and seed give the same molecules.")
    method: Literal["ga", "reinvent"] = Field("ga", description="Search: graph GA or REINVENT-style RL on the prior.")
    oracle_budget: int = Field(4000, ge=10, le=100_000, description="Most candidate molecules scored.")
    time_budget_s: float = Field(45.0, gt=0, le=3600, description="Wall-clock limit of the search (seconds).")

    @field_validator("ranges")
    @classmethod
    def _known_properties(cls, v: dict[str, Range]) -> dict[str, Range]:
        unknown = sorted(set(v) - set(PROPERTIES))
        if unknown:
            raise ValueError(f"unknown properties {unknown}; known: {sorted(PROPERTIES)}")
        return v

    def model_post_init(self, __context) -> None:
        if self.scaffold and not any(m.query == self.scaffold for m in self.motifs):
            self.motifs.insert(0, Motif(name=self.scaffold, query=self.scaffold, smiles=self.scaffold, is_smarts=False))

    @property
    def kept(self) -> list[Motif]:
        return [m for m in self.motifs if m.keep]

    def constraint_names(self) -> list[str]:
        """Names of the checks every returned molecule must pass (keys of its ``constraints``)."""
        names = list(self.ranges)
        if self.references and self.min_similarity is not None:
            names.append("similarity")
        names += [f"{'contains' if m.keep else 'lacks'} {m.name}" for m in self.motifs]
        names += [f"no_{a.lower()}" for a in self.avoid_alerts]
        if self.chem_filter:
            names.append("chemical_sense")
        if self.novel:
            names.append("novel")
        return names

    def describe(self) -> str:
        """The request in one sentence (for facts and logs)."""
        parts = [f"{self.count} molecules"]
        if self.references:
            names = ", ".join(self.reference_names) or ", ".join(self.references)
            cmp = ">" if self.similarity_strict else "≥"
            sim = f" (Tanimoto {cmp} {self.min_similarity:g})" if self.min_similarity is not None else ""
            parts.append(f"similar to {names}{sim}")
        for m in self.motifs:
            parts.append(f"{'containing' if m.keep else 'without'} {m.name}")
        for k, r in self.ranges.items():
            label, unit, _, _ = PROPERTIES[k]
            parts.append(f"{label} {r.text(unit)}")
        if self.avoid_alerts:
            parts.append("no " + " or ".join(self.avoid_alerts) + " alerts")
        if not self.chem_filter:
            parts.append("chemical-sense filter off")
        return ", ".join(parts)


# Each polar N/O (with its hydrogens) adds at most ~26 Å² of TPSA (Ertl 2000 contributions: NH2
# 26.02 Å² for 16 Da), so TPSA cannot exceed ~1.65 Å² per Dalton; a donor needs ≥ 15 Da (NH),
# an acceptor ≥ 14 Da (N), a heavy atom ≥ 12 Da (C) and at most ~127 Da (I).
_TPSA_PER_DA = 1.65


def check_feasible(req: DesignRequest) -> None:
    """Refuse a request whose constraints cannot all hold, with the reason.

    Raises:
        InvalidInput: an empty window, a value outside what the property can take, or a pair of
            windows that contradict each other (e.g. MW < 100 with TPSA > 200).
    """
    problems: list[str] = []
    r = req.ranges
    for key, rng in r.items():
        label, unit, lo, hi = PROPERTIES[key]
        if rng.empty():
            problems.append(f"{label} must be {rng.text()} at once, which is impossible")
        if rng.low is not None and rng.low > hi:
            problems.append(f"{label} cannot exceed {hi:g}{' ' + unit if unit else ''}, but ≥ {rng.low:g} was asked")
        if rng.high is not None and rng.high < lo:
            problems.append(f"{label} cannot be below {lo:g}, but ≤ {rng.high:g} was asked")

    def hi_of(k: str) -> float | None:
        return r[k].high if k in r else None

    def lo_of(k: str) -> float | None:
        return r[k].low if k in r else None

    mw_hi = hi_of("mw")
    if mw_hi is not None:
        for key, per_da, why in (
            ("tpsa", _TPSA_PER_DA, "every polar atom adds at most ~26 Å² of TPSA per 16 Da"),
            ("hbd", 1 / 15, "each H-bond donor (NH or OH) weighs at least 15 Da"),
            ("hba", 1 / 14, "each H-bond acceptor (N or O) weighs at least 14 Da"),
            ("heavy_atoms", 1 / 12, "each heavy atom weighs at least 12 Da"),
        ):
            need = lo_of(key)
            if need is not None and need > mw_hi * per_da:
                label = PROPERTIES[key][0]
                problems.append(
                    f"a molecule of at most {mw_hi:g} Da can have at most about {mw_hi * per_da:.0f} {label} "
                    f"({why}), but {label} ≥ {need:g} was asked"
                )
    if mw_hi is not None:
        for motif in req.kept:
            core_mw = _motif_mass(motif)
            if core_mw is not None and core_mw > mw_hi:
                problems.append(f"the {motif.name} to keep already weighs {core_mw:.1f} Da without hydrogens, "
                                f"above the MW limit of {mw_hi:g} Da")
    if problems:
        raise InvalidInput(
            "These constraints contradict each other: " + "; ".join(problems) + ".",
            hint="Relax one of them and ask again.",
        )
    from specialists.molecules.feasibility import refuse_if_unreachable

    refuse_if_unreachable(req)  # what real molecules say about the windows together


def _motif_mass(motif: Motif) -> float | None:
    """The mass of a motif's heavy atoms: a lower bound on the MW of any molecule containing it.
    (Atoms of a SMARTS query that name no single element count as carbon, the lightest.)"""
    from specialists.molecules.chem import quiet_rdkit

    with quiet_rdkit():
        mol = motif.mol()
    if mol is None:
        return None
    return sum(_ATOM_MASS.get(a.GetAtomicNum(), 12.011) for a in mol.GetAtoms())


_ATOM_MASS = {5: 10.81, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998, 15: 30.974, 16: 32.06, 17: 35.45, 35: 79.904, 53: 126.904}


def check_reference(smiles: str, label: str):
    """Parse a reference molecule, refusing ones too large to be a small-molecule starting point.

    Raises:
        InvalidInput: the SMILES is invalid or has more than :data:`MAX_REFERENCE_HEAVY_ATOMS` heavy atoms.
    """
    from specialists.molecules.chem import parse_smiles

    mol = parse_smiles(smiles)
    n = mol.GetNumHeavyAtoms()
    if n > MAX_REFERENCE_HEAVY_ATOMS:
        raise InvalidInput(
            f"The reference {label} has {n} heavy atoms; design works from small molecules of up to "
            f"{MAX_REFERENCE_HEAVY_ATOMS} heavy atoms (drug-like molecules have fewer than 50).",
            hint="Give a smaller reference molecule, or a fragment of this one to keep as a scaffold.",
        )
    return mol
