"""Molecule tools: ``predict_properties`` (and ``design_molecules``, from the molecules issue)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from galen.errors import InvalidInput, MissingFacts
from tools.base import GalenTool, ToolContext, ToolResult
from tools.extract import find_smiles


class PredictPropertiesArgs(BaseModel):
    smiles: list[str] = Field(
        min_length=1, max_length=50, description="Molecules as SMILES strings (or drug names resolved to SMILES)."
    )


def _resolve_names(question: str) -> list[tuple[str, str]]:
    """(name, SMILES) for drug names in the question, if the offline name table is available."""
    try:
        from specialists.molecules.names import find_drug_names
    except ImportError:
        return []
    return find_drug_names(question)


def extract_molecules(question: str) -> list[str]:
    """SMILES strings named in the question, directly or by drug name.

    Raises:
        InvalidInput: a SMILES-looking token does not parse and nothing else was given.
        MissingFacts: no molecule at all.
    """
    tokens = find_smiles(question)
    valid = [t.text for t in tokens if t.valid]
    named = [smi for _, smi in _resolve_names(question)]
    found = list(dict.fromkeys(valid + named))
    if found:
        return found
    bad = [t.text for t in tokens if not t.valid]
    if bad:
        from specialists.molecules.chem import parse_smiles

        parse_smiles(bad[0])  # raises InvalidInput with the specific problem
    raise MissingFacts(
        "Which molecule? No SMILES string or known drug name was found in the question.",
        missing=["molecule (SMILES or drug name)"],
    )


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
        return True, "ready (RDKit descriptors)"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return {"smiles": extract_molecules(question)}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.molecules.properties import VERSION, compute_properties

        assert isinstance(args, PredictPropertiesArgs)
        rows = []
        facts: list[str] = []
        for smi in args.smiles:
            try:
                p = compute_properties(smi)
            except InvalidInput:
                raise
            rows.append(p.to_dict())
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
        summary = " ".join(facts)
        return ToolResult(
            tool=self.name,
            summary=summary,
            facts=facts,
            data={"molecules": rows},
            versions={"properties": VERSION},
            grounding_query="Lipinski rule of five Veber rules PAINS Brenk alerts QED SA score interpretation",
        )
