"""Suite-level metrics from scored case outcomes (see :mod:`evals.checks`).

Every rate is computed over the cases that name the relevant expectation, and each metric
carries its denominator (``n_*``) so a report never hides how few cases stand behind a number.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

NONE = "(none)"


def _rate(values: list[bool]) -> float | None:
    return float(np.mean(values)) if values else None


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def confusion(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """A tool × tool confusion matrix and per-tool binary counts over cases with expected tools.

    Rows are expected tools, columns called tools. An expected tool that was called counts on the
    diagonal; an expected tool that was missed counts once against each wrongly called tool (or
    against ``(none)`` when nothing else was called); a called tool that was not expected and
    missed nothing counts in row ``(none)``.
    """
    cases = [o for o in outcomes if "tools" in o["checks"]]
    labels = sorted({t for o in cases for t in o["checks"]["tools"]["expected"] + o["checks"]["tools"]["actual"]})
    labels.append(NONE)
    idx = {t: i for i, t in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    per_tool = {t: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for t in labels[:-1]}
    for o in cases:
        exp, act = set(o["checks"]["tools"]["expected"]), set(o["checks"]["tools"]["actual"])
        extra, missed = act - exp, exp - act
        for t in exp & act:
            m[idx[t], idx[t]] += 1
        for t in missed:
            for p in extra or {NONE}:
                m[idx[t], idx[p]] += 1
        if not missed:
            for p in extra:
                m[idx[NONE], idx[p]] += 1
        if not exp and not act:
            m[idx[NONE], idx[NONE]] += 1
        for t in per_tool:
            key = ("tp" if t in act else "fn") if t in exp else ("fp" if t in act else "tn")
            per_tool[t][key] += 1
    for c in per_tool.values():
        c["precision"] = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
        c["recall"] = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
    return {"labels": labels, "matrix": m.tolist(), "per_tool": per_tool}


def _latency(outcomes: list[dict[str, Any]]) -> dict[str, float | int | None]:
    """p50 and mean of per-case latency; p95 only from at least 20 cases (``None`` below: see galen.stats)."""
    from galen.stats import percentiles

    lat = [o["latency_s"] for o in outcomes if o.get("latency_s") is not None]
    p = percentiles(lat, digits=None)
    return {"latency_p50_s": p["p50"], "latency_p95_s": p["p95"],
            "latency_mean_s": float(np.mean(lat)) if lat else None, "n_timed": len(lat)}


def core_metrics(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline numbers for a set of outcomes (a whole run or one subgroup)."""

    def having(name: str) -> list[dict[str, Any]]:
        return [o["checks"][name] for o in outcomes if name in o["checks"]]

    tools, args, facts, cites = having("tools"), having("arguments"), having("answer_contains"), having("citations")
    mols, errs = having("molecules"), having("error")
    answered = [o for o in outcomes if o.get("answer") and o.get("error") is None and o.get("verified") is not None]
    m: dict[str, Any] = {
        "n_cases": len(outcomes),
        "pass_rate": _rate([o["passed"] for o in outcomes]),
        "unexpected_errors": sum(1 for o in outcomes if (o.get("error") or {}).get("kind") == "unexpected"),
        "routing_accuracy": _rate([c["passed"] for c in tools]), "n_routing": len(tools),
        "argument_accuracy": _rate([c["passed"] for c in args]),
        "argument_key_accuracy": (sum(c["matched"] for c in args) / sum(c["total"] for c in args)) if args else None,
        "n_arguments": len(args),
        "answer_fact_recall": (sum(c["found"] for c in facts) / sum(c["total"] for c in facts)) if facts else None,
        "answer_all_facts_rate": _rate([c["passed"] for c in facts]), "n_answer_facts": len(facts),
        "citation_precision": _mean([c["precision"] for c in cites]),
        "citation_recall": _mean([c["recall"] for c in cites]), "n_citations": len(cites),
        "section_hit_rate": _rate([c["section_hit"] for c in cites if "section_hit" in c]),
        # Of the LLM drafts, the share that passed the evidence check (templates are not "verified").
        "verification_rate": _rate([bool(o["verified"]) for o in answered]), "n_verified_eligible": len(answered),
        "verification_methods": dict(sorted(Counter(o.get("verification_method") or "none" for o in outcomes
                                                    if o.get("answer")).items())),
        "error_expectation_accuracy": _rate([c["passed"] for c in errs]), "n_error_expectations": len(errs),
        "expected_errors_clean_rate": _rate([o["checks"]["error"]["passed"] for o in outcomes
                                             if "error" in o["checks"] and _expects_error(o)]),
        "molecule_case_pass_rate": _rate([c["passed"] for c in mols]), "n_molecule_cases": len(mols),
        "molecule_validity": _mean([c["validity"] for c in mols]),
        "molecule_count_ok_rate": _rate([c["count_ok"] for c in mols]),
        "molecule_constraint_rate": _mean([c["constraint_rate"] for c in mols]),
        "molecule_alert_free_rate": _mean([c["alert_free_rate"] for c in mols]),
    }
    m.update(_latency(outcomes))
    return m


def _expects_error(o: dict[str, Any]) -> bool:
    return bool((o.get("expect") or {}).get("error"))


def failures(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each failed case with the reason of every failed check."""
    out = []
    for o in outcomes:
        if o["passed"]:
            continue
        reasons = {name: c.get("detail") or "failed" for name, c in o["checks"].items() if c.get("passed") is False}
        out.append({"id": o["id"], "group": o.get("group"), "reasons": reasons})
    return out


def summarise(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics, confusion matrix, per-group metrics and failures for a run."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        if o.get("group"):
            groups.setdefault(str(o["group"]), []).append(o)
    return {
        "metrics": core_metrics(outcomes),
        "confusion": confusion(outcomes),
        "groups": {g: core_metrics(os) for g, os in sorted(groups.items())},
        "failures": failures(outcomes),
    }
