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
    "qed": ("QED", "", 0.0, 1.0),
    "sa_score": ("SA score", "", 1.0, 10.0),
    "logs": ("predicted logS", "log mol/L", -15.0, 3.0),
    "bbb": ("predicted BBB probability", "", 0.0, 1.0),
}
LEARNED = {"logs", "bbb"}


class Range(BaseModel):
    """A closed interval with open sides as None."""

    model_config = ConfigDict(frozen=True)
    low: float | None = Field(None, description="Smallest allowed value (inclusive); None for no lower bound.")
    high: float | None = Field(None, description="Largest allowed value (inclusive); None for no upper bound.")

    def contains(self, v: float) -> bool:
        return (self.low is None or v >= self.low) and (self.high is None or v <= self.high)

    def distance(self, v: float) -> float:
        if self.low is not None and v < self.low:
            return self.low - v
        if self.high is not None and v > self.high:
            return v - self.high
        return 0.0

    def text(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}{u}"
        if self.high is not None:
            return f"≤ {self.high:g}{u}"
        return f"≥ {self.low:g}{u}"


class DesignRequest(BaseModel):
    """What a chemist asked for, as checkable constraints."""

    model_config = ConfigDict(extra="forbid")

    references: list[str] = Field(default_factory=list, description="Reference molecules (canonical SMILES).")
    reference_names: list[str] = Field(default_factory=list, description="Drug names the references came from.")
    count: int = Field(10, ge=1, le=MAX_COUNT, description=f"Molecules to return (1–{MAX_COUNT}).")
    min_similarity: float | None = Field(
        None, ge=0, le=1, description="Smallest Tanimoto similarity (Morgan r2) to the nearest reference."
    )
    scaffold: str | None = Field(None, description="Substructure (SMILES) every molecule must contain.")
    ranges: dict[str, Range] = Field(default_factory=dict, description=f"Property windows; keys: {', '.join(PROPERTIES)}.")
    avoid_alerts: list[Literal["PAINS", "Brenk"]] = Field(default_factory=list, description="Alert catalogues to avoid.")
    novel: bool = Field(True, description="Exclude the references themselves (and, when true, known drugs).")
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

    def constraint_names(self) -> list[str]:
        """Names of the checks every returned molecule must pass (keys of its ``constraints``)."""
        names = list(self.ranges)
        if self.references and self.min_similarity is not None:
            names.append("similarity")
        if self.scaffold:
            names.append("scaffold")
        names += [f"no_{a.lower()}" for a in self.avoid_alerts]
        names.append("reasonable")
        if self.novel:
            names.append("novel")
        return names

    def describe(self) -> str:
        """The request in one sentence (for facts and logs)."""
        parts = [f"{self.count} molecules"]
        if self.references:
            names = ", ".join(self.reference_names) or ", ".join(self.references)
            sim = f" (Tanimoto ≥ {self.min_similarity:g})" if self.min_similarity is not None else ""
            parts.append(f"similar to {names}{sim}")
        if self.scaffold:
            parts.append(f"containing {self.scaffold}")
        for k, r in self.ranges.items():
            label, unit, _, _ = PROPERTIES[k]
            parts.append(f"{label} {r.text(unit)}")
        if self.avoid_alerts:
            parts.append("no " + " or ".join(self.avoid_alerts) + " alerts")
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
        if rng.low is not None and rng.high is not None and rng.low > rng.high:
            problems.append(f"{label} must be ≥ {rng.low:g} and ≤ {rng.high:g} at once, which is impossible")
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
    if req.scaffold and mw_hi is not None:
        from rdkit.Chem import Descriptors

        from specialists.molecules.chem import parse_smiles

        core_mw = Descriptors.MolWt(parse_smiles(req.scaffold))
        if core_mw > mw_hi:
            problems.append(f"the scaffold to keep already weighs {core_mw:.0f} Da, above the MW limit of {mw_hi:g} Da")
    if problems:
        raise InvalidInput(
            "These constraints contradict each other: " + "; ".join(problems) + ".",
            hint="Relax one of them and ask again.",
        )


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
