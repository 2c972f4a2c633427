"""Molecule tools: ``predict_properties`` (descriptors, rules, alerts, learned logS/BBB) and ``design_molecules``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from galen.errors import InvalidInput, MissingFacts
from tools.base import GalenTool, ToolContext, ToolResult


class PredictPropertiesArgs(BaseModel):
    smiles: list[str] = Field(
        min_length=1, max_length=50, description="Molecules as SMILES strings (or drug names resolved to SMILES)."
    )
    labels: list[str] = Field(default_factory=list, description="The drug name (or '') each molecule was named by.")
    asked: list[str] = Field(default_factory=list, description="Property keys the question asked for (answered first).")


def extract_molecules(question: str) -> list[str]:
    """SMILES strings named in the question, directly or by drug name (brand, salt, Chinese names too).

    Raises:
        InvalidInput: a SMILES-looking token does not parse and nothing else was given.
        MissingFacts: no molecule at all.
    """
    return [smi for smi, _ in _molecules_with_labels(question)]


def _molecules_with_labels(question: str) -> list[tuple[str, str]]:
    from specialists.molecules.mentions import find_molecules

    found = find_molecules(question)
    out: dict[str, str] = {t.text: "" for t in found.valid}
    for n in found.names:
        out.setdefault(n.smiles, n.name)
    if out:
        return list(out.items())
    if found.invalid:
        from specialists.molecules.chem import parse_smiles

        parse_smiles(found.invalid[0].text)  # raises InvalidInput with the specific problem
    raise MissingFacts(
        "Which molecule? No SMILES string or known drug name was found in the question.",
        missing=["molecule (SMILES or drug name)"],
    )


def asked_properties(question: str) -> list[str]:
    """Property keys a question names ("TPSA", "molecular weight", "rotatable bond count")."""
    import re

    from specialists.molecules.lexicon import NAMES
    from specialists.molecules.zh import has_cjk, normalise_chinese

    # a Chinese question names properties in Chinese ("分子量"): read it through the Chinese rewrite
    t = (normalise_chinese(question) if has_cjk(question) else question).replace("-", " ")
    extra = {"rotatable_bonds": r"rotatable\s+bond", "heavy_atoms": r"heavy\s+atom", "aromatic_rings": r"aromatic\s+ring",
             "hbd": r"h\s?bond\s+donor|donors?", "hba": r"h\s?bond\s+acceptor|acceptors?"}
    found = []
    for key, alts in NAMES.items():
        pats = alts + ([extra[key]] if key in extra else [])
        if any(re.search(p, t, re.I) for p in pats):
            found.append(key)
    if re.search(r"\bbbb\b|blood[\s-]brain|brain[\s-]penetra|cns\s+penetra", t, re.I):
        found.append("bbb")
    return found


class PredictPropertiesTool(GalenTool):
    name = "predict_properties"
    description = (
        "Compute a molecule's properties from its SMILES: molecular weight, Crippen logP, TPSA, H-bond "
        "donors/acceptors, rotatable bonds, QED, SA score, Lipinski and Veber rule checks, PAINS and Brenk "
        "structural alerts, and learned predictions (solubility, blood-brain barrier) where available."
    )
    args_model = PredictPropertiesArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        try:
            import rdkit  # noqa: F401
        except ImportError:
            return False, "RDKit is not installed"
        from specialists.molecules.assets import MODEL_PATHS

        if all(p.is_file() for p in MODEL_PATHS.values()):
            return True, "ready (RDKit descriptors, learned logS and BBB ensembles)"
        return True, "ready (RDKit descriptors; learned logS/BBB weights missing: run `galen train properties`)"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        found = _molecules_with_labels(question)
        return {"smiles": [s for s, _ in found], "labels": [n for _, n in found], "asked": asked_properties(question)}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.molecules.properties import VERSION, compute_properties

        assert isinstance(args, PredictPropertiesArgs)
        rows = []
        facts: list[str] = []
        labels = args.labels if len(args.labels) == len(args.smiles) else [""] * len(args.smiles)
        for smi, label in zip(args.smiles, labels, strict=True):
            p = compute_properties(smi)  # InvalidInput names the problem with this SMILES
            rows.append(p.to_dict() | ({"name": label} if label else {}))
            asked = _asked_fact(p, label, args.asked)
            if asked:
                facts.append(asked)
            alerts = ", ".join(f"{a.catalogue}: {a.name}" for a in p.alerts) or "none"
            facts.append(
                f"{p.smiles}: MW {p.mw:.2f} g/mol, logP {p.logp:.2f}, TPSA {p.tpsa:.1f} Å², "
                f"HBD {p.hbd}, HBA {p.hba}, rotatable bonds {p.rotatable_bonds}, QED {p.qed:.3f}, "
                f"SA score {p.sa_score:.2f}."
            )
            facts.append(
                f"{p.smiles}: Lipinski {'passed' if p.lipinski.passed else 'failed'}"
                f"{' (' + '; '.join(p.lipinski.violations) + ')' if p.lipinski.violations else ''}; "
                f"Veber {'passed' if p.veber.passed else 'failed'}"
                f"{' (' + '; '.join(p.veber.violations) + ')' if p.veber.violations else ''}; "
                f"structural alerts: {alerts}."
            )
        versions = {"properties": VERSION}
        warnings: list[str] = []
        learned_facts, learned_warnings = _add_learned_predictions(rows, versions)
        facts += learned_facts
        warnings += learned_warnings
        summary = " ".join(facts)
        return ToolResult(
            tool=self.name,
            summary=summary,
            facts=facts,
            data={"molecules": rows},
            versions=versions,
            warnings=warnings,
            grounding_query="Lipinski rule of five Veber rules PAINS Brenk alerts QED SA score interpretation",
        )


_ASKED = {"mw": ("molecular weight", "{:.2f} g/mol"), "logp": ("logP (Crippen)", "{:.2f}"), "tpsa": ("TPSA", "{:.1f} Å²"),
          "hbd": ("H-bond donors", "{}"), "hba": ("H-bond acceptors", "{}"), "rotatable_bonds": ("rotatable bonds", "{}"),
          "heavy_atoms": ("heavy atoms", "{}"), "qed": ("QED", "{:.3f}"), "sa_score": ("SA score", "{:.2f}")}


def _asked_fact(p, label: str, asked: list[str]) -> str | None:
    """The properties the question asked for, first and by name: "imatinib: TPSA 86.3 Å²"."""
    parts = [f"{_ASKED[k][0]} {_ASKED[k][1].format(getattr(p, k))}" for k in asked if k in _ASKED]
    if not parts:
        return None
    who = f"{label} ({p.smiles})" if label else p.smiles
    return f"{who}: " + ", ".join(parts) + "."


def _add_learned_predictions(rows: list[dict[str, Any]], versions: dict[str, str]) -> tuple[list[str], list[str]]:
    """Add predicted logS and BBB probability (with ensemble spread and domain flag) to ``rows``.

    Returns:
        (facts, warnings); a warning instead of predictions when the weights are not installed.
    """
    from galen.errors import ModelUnavailable

    try:
        from specialists.molecules.learned import load_ensemble, predict_learned

        preds = predict_learned([r["smiles"] for r in rows])
        versions.update({"logs": load_ensemble("logs").version, "bbb": load_ensemble("bbb").version})
    except ModelUnavailable as e:
        return [], [f"Learned solubility/BBB predictions are unavailable: {e.user_message()}"]
    facts, warnings = [], []
    for row, p in zip(rows, preds, strict=True):
        row["learned"] = p.to_dict()
        facts.append(
            f"{p.smiles}: predicted logS {p.logs:.2f} ± {p.logs_std:.2f} log mol/L; predicted probability of "
            f"crossing the blood-brain barrier {p.bbb_probability:.3f} ± {p.bbb_std:.3f} (ensemble spread); "
            f"nearest training-set similarity {min(p.logs_nearest_similarity, p.bbb_nearest_similarity):.2f}."
        )
        if not p.in_domain:
            warnings.append(
                f"{p.smiles} is outside the learned models' applicability domain (nearest training molecule "
                f"similarity below 0.3): treat its predicted logS and BBB probability as unreliable."
            )
    return facts, warnings


class DesignMoleculesArgs(BaseModel):
    """A design request (see ``specialists.molecules.request.DesignRequest``) plus the parser's notes."""

    request: dict[str, Any] = Field(description="DesignRequest fields: references, count, min_similarity, scaffold, "
                                    "ranges {property: {low, high}}, avoid_alerts, novel, seed, method, budgets.")
    notes: list[str] = Field(default_factory=list, description="How the plain-language request was read.")


class DesignMoleculesTool(GalenTool):
    name = "design_molecules"
    description = (
        "Generate new molecules that satisfy a design request: analogs of reference molecules (SMILES or drug "
        "names) within a similarity, a scaffold to keep, property windows (MW, logP, TPSA, HBD, HBA, rotatable "
        "bonds, QED, SA score, predicted solubility and BBB permeation), alerts to avoid (PAINS, Brenk), and a "
        "count. Returns ranked, re-checked molecules with a grid image, SDF and CSV."
    )
    args_model = DesignMoleculesArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        try:
            import rdkit  # noqa: F401
        except ImportError:
            return False, "RDKit is not installed"
        from specialists.molecules.assets import PRIOR_PATH

        prior = "ready" if PRIOR_PATH.is_file() else "missing (GA only; `galen train prior`)"
        return True, f"ready (graph GA; REINVENT prior {prior})"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        from specialists.molecules.parse import parse_design_request

        s = ctx.settings
        parsed = parse_design_request(
            question, fill=ctx.fill if s.design_llm_fill else None,
            method=s.design_method, time_budget_s=s.design_time_budget_s, oracle_budget=s.design_oracle_budget,
            chem_filter=s.design_chem_filter,
        )
        return {"request": parsed.request.model_dump(), "notes": parsed.notes}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from pydantic import ValidationError

        from specialists.molecules.design import design
        from specialists.molecules.export import write_csv, write_grid, write_sdf
        from specialists.molecules.report import molecule_line
        from specialists.molecules.request import DesignRequest

        assert isinstance(args, DesignMoleculesArgs)
        try:
            req = DesignRequest.model_validate(args.request)
        except ValidationError as e:
            raise InvalidInput(f"The design request is not valid: {e.errors()[0]['msg']}.") from e
        result = design(req)
        mols = result.molecules
        if not mols:
            raise InvalidInput(
                f"No molecule met every constraint of the request ({req.describe()}) within the search budget "
                f"({result.scored} candidates scored, stopped by {result.stopped}). " + " ".join(result.notes),
                hint="Relax the constraint the closest molecules miss, or raise the search budget.",
            )
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        from tools.base import Artifact

        grid = write_grid(mols, ctx.workdir / "design_grid.png")
        sdf = write_sdf(mols, ctx.workdir / "design.sdf")
        table = write_csv(mols, ctx.workdir / "design.csv")
        artifacts = [
            Artifact(path=str(grid), kind="image", label=f"Top {min(12, len(mols))} designed molecules with scores"),
            Artifact(path=str(sdf), kind="sdf", label=f"{len(mols)} designed molecules (SDF)"),
            Artifact(path=str(table), kind="csv", label="Ranked table: properties, constraints, similarity, alerts"),
        ]
        facts = [
            f"design_molecules returned {len(mols)} of {req.count} requested molecules ({req.describe()}); "
            f"{result.scored} candidates were scored and {result.passed} passed every constraint "
            f"(method {'graph GA' if req.method == 'ga' else 'REINVENT RL'}, {result.seconds:.1f} s). Every constraint "
            f"was checked on unrounded values with the comparison asked; values are shown with enough digits to "
            f"say so.",
            *[molecule_line(i, m, req) for i, m in enumerate(mols, start=1)],
            f"Ranking: {result.score_formula}.",
        ]
        warnings = list(args.notes) + list(result.notes)
        if any(not m.uncertainty.get("in_domain", True) for m in mols):
            warnings.append("Some molecules are outside the learned models' applicability domain; their predicted "
                            "logS/BBB values are less reliable (see the in_domain column).")
        data = {
            "molecules": [
                {"smiles": m.smiles, "properties": m.properties, "constraints": m.constraints, "score": m.score,
                 "similarity": m.similarity, "alerts": m.alerts, "warnings": m.warnings, "findings": m.findings,
                 "novel": m.novel, "uncertainty": m.uncertainty}
                for m in mols
            ],
            "scored": result.scored, "passed": result.passed, "requested": req.count, "method": req.method,
            "stopped": result.stopped, "seconds": result.seconds, "score_formula": result.score_formula,
            "request": req.model_dump(),
        }
        return ToolResult(
            tool=self.name, summary=" ".join(facts[:3]), facts=facts, data=data, artifacts=artifacts,
            versions=result.versions, warnings=warnings,
            grounding_query="medicinal chemistry design drug-likeness Lipinski PAINS solubility blood-brain barrier",
        )
