"""The Brock result for every nodule of a case: probabilities, provenance lines and the what-if comparison.

The data shape is documented in :mod:`tools.nodule_risk`.
"""

from __future__ import annotations

from typing import Any

from tools.base import ToolResult
from tools.facts.text import describe

_TYPE_WORD = {"solid": "solid", "part-solid": "part-solid", "non-solid": "ground-glass"}


def _label(row: dict[str, Any]) -> str:
    size = f"{row['nodule_size_mm']:.1f} mm" if row.get("nodule_size_mm") is not None else "size not stated"
    kind = _TYPE_WORD.get(str(row.get("nodule_type")), "type not stated")
    return f"{size} {kind}" + (f", {row['lobe']}" if row.get("lobe") else "")


def _shown(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" + (" mm" if name.endswith("_mm") else "")
    return str(value)


def _rows(args: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from specialists.clinical.brock import BrockInput, brock_probability, normalise_type, risk_band

    patient = {k: getattr(args, k) for k in ("age", "sex", "family_history", "emphysema", "nodule_count")}
    top = {k: getattr(args, k) for k in ("nodule_size_mm", "nodule_type", "upper_lobe", "spiculation", "lobe",
                                         "solid_component_mm", "mean_diameter_mm")}
    specs = [s.model_dump() for s in args.nodules] or [{"id": 1}]
    specs[0].update(top)  # the top-level arguments are the index nodule (corrections and the llm policy set them)
    rows = []
    for spec in specs:
        row = dict(spec)
        missing = [k for k in ("nodule_size_mm", "nodule_type") if row.get(k) is None]
        if missing:
            rows.append({**row, "computed": False, "missing": missing, "probability": None, "label": _label(row)})
            continue
        res = brock_probability(BrockInput(
            age=patient["age"], sex=patient["sex"], nodule_size_mm=row["nodule_size_mm"],
            nodule_type=normalise_type(row["nodule_type"]), family_history=patient["family_history"],
            emphysema=patient["emphysema"], upper_lobe=bool(row["upper_lobe"]), nodule_count=patient["nodule_count"],
            spiculation=bool(row["spiculation"])))
        row.update(nodule_type=res.inputs.nodule_type, computed=True, missing=[], probability=res.probability,
                   probability_percent=round(100 * res.probability, 2), risk_band=risk_band(res.probability),
                   label=_label({**row, "nodule_type": res.inputs.nodule_type}), _result=res)
        rows.append(row)
    rows.sort(key=lambda r: (r["probability"] is None, -(r["probability"] or 0.0)))
    return patient, rows


def _what_if_facts(what: dict[str, Any], before: float | None, after: float) -> list[str]:
    from specialists.clinical.brock import INPUTS, NOT_INPUTS

    out = []
    if what.get("changed"):
        parts = [f"{k.replace('_mm', '').replace('_', ' ')} {_shown(k, what['before'][k])} → {_shown(k, what['after'][k])}"
                 for k in what["changed"]]
        out.append(f"What if {'; '.join(parts)}: the Brock probability goes from "
                   f"{100 * (before or 0):.1f}% to {100 * after:.1f}%.")
    for name in what.get("not_inputs") or []:
        label, why = NOT_INPUTS.get(name, (name.replace("_", " "), "It is not one of the model's nine inputs."))
        stays = f"{100 * (before if before is not None else after):.1f}%"
        out.append(f"{label[0].upper() + label[1:]} is not an input of the Brock model, so the model was not re-run as "
                   f"if it had changed: {why} The probability stays {stays}." if not what.get("changed") else
                   f"{label[0].upper() + label[1:]} is not an input of the Brock model and changes nothing: {why}")
    if not out:
        names = ", ".join(n.replace("_mm", "").replace("_", " ") for n in INPUTS)
        out.append(f"This question changes none of the Brock model's nine inputs ({names}), so the probability "
                   f"stays {100 * after:.1f}%.")
    return out


def _baseline_probability(args: Any) -> float | None:
    if not args.baseline:
        return None
    from tools.nodule_risk import NoduleRiskArgs

    base = NoduleRiskArgs.model_validate(args.baseline)
    _, rows = _rows(base)
    return rows[0]["probability"] if rows and rows[0]["computed"] else None


def brock_result(args: Any) -> ToolResult:
    """Run the Brock model on every nodule of ``args`` (``NoduleRiskArgs``) and word the result."""
    from specialists.clinical.brock import ASSUMED, VERSION

    patient, rows = _rows(args)
    top = rows[0]
    res = top.pop("_result")
    for r in rows[1:]:
        r.pop("_result", None)
    pct = 100 * res.probability
    many = len(rows) > 1
    inputs = [dict(e) for e in args.inputs] or [
        {"name": k, "value": v, "source": "arguments", "evidence": ""} for k, v in
        {**patient, **{k: top[k] for k in ("nodule_size_mm", "nodule_type", "upper_lobe", "spiculation")}}.items()]
    index_inputs = [e for e in inputs if e.get("nodule") in (None, top["id"])]
    assumed = [e["name"] for e in index_inputs if e["source"] == "default"]
    which = f" for nodule {top['id']} ({top['label']}), the most suspicious of {len(rows)}" if many else ""
    facts = [f"Brock (PanCan full model with spiculation) probability of malignancy{which}: {pct:.1f}%."]
    if many:
        facts.append("Each nodule (same patient, nodule count " + str(patient["nodule_count"]) + "): " + "; ".join(
            f"nodule {r['id']} ({r['label']}): {r['probability_percent']:.1f}%" if r["computed"] else
            f"nodule {r['id']} ({r['label']}): not computed, {' and '.join(m.replace('_mm', '').replace('_', ' ') for m in r['missing'])} not stated"
            for r in rows) + ".")
    facts.append("Inputs: " + "; ".join(describe(e) for e in index_inputs) + ".")
    parts = ", ".join(f"{k.replace('_', ' ')} {v:+.3f}" for k, v in res.contributions.items() if k != "intercept")
    facts.append(f"Contributions to the log-odds (intercept {res.contributions['intercept']:+.4f}): {parts}; "
                 f"total log-odds {res.log_odds:.3f}.")
    facts.append(f"The probability is {top['risk_band']}.")
    before = None
    if args.what_if is not None:
        before = _baseline_probability(args)
        facts[1:1] = _what_if_facts(args.what_if, before, res.probability)
    warnings = list(res.warnings) + list(args.notes) + [f"Not stated, assumed {ASSUMED[k][1]}; confirm." for k in assumed if k in ASSUMED]
    warnings += [f"{e['name'].replace('_', ' ')}: {e['note']}." for e in index_inputs
                 if e.get("note") and e["source"] != "default"]
    measured = sorted({f"{e['name'].replace('_', ' ')} ({e['source']})" for e in index_inputs
                       if e["source"] in ("segment_image", "classify_image")})
    if measured:
        warnings.append("Taken from the image analysis in this thread: " + ", ".join(measured) + ".")
    warnings += [f"Brock was not computed for nodule {r['id']} ({r['label']}): its "
                 f"{' and '.join(m.replace('_mm', '').replace('_', ' ') for m in r['missing'])} is not stated."
                 for r in rows if not r["computed"]]
    if args.what_if is not None and before is not None:
        warnings.append(f"Hypothetical: the patient's actual Brock probability is {100 * before:.1f}%.")
    what = None
    if args.what_if is not None:
        what = {**args.what_if, "probability_before": before, "probability_after": res.probability}
    data = {**{k: v for k, v in res.to_dict().items() if k != "inputs"}, "model_inputs": res.to_dict()["inputs"],
            "risk_band": top["risk_band"], "inputs": inputs, "context": [dict(e) for e in args.context],
            "sources": {e["name"]: e["source"] for e in index_inputs}, "assumed": assumed,
            "nodule_count": patient["nodule_count"], "nodules": rows, "index_nodule": top["id"],
            "case": args.case, "what_if": what, "warnings": warnings}
    summary = " ".join([facts[0]] + (_what_if_facts(args.what_if, before, res.probability) if args.what_if is not None
                                     else []) + [f"The probability is {top['risk_band']}."])
    return ToolResult(
        tool="nodule_malignancy_risk", summary=summary, facts=facts, data=data, versions={"brock": VERSION},
        warnings=warnings,
        grounding_query=f"{res.inputs.nodule_type} pulmonary nodule {res.inputs.nodule_size_mm:.0f} mm Brock probability "
                        f"{pct:.0f}% BTS guideline PET-CT 10% threshold follow-up"
                        + (" multiple nodules most suspicious" if many else ""),
    )
