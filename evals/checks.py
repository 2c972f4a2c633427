"""Per-case checks: each key under a case's ``expect`` becomes one check with a pass/fail and detail.

A check is ``{"passed": bool | None, "detail": str, ...numbers}``; ``passed=None`` means the check
could not be judged (for example citation precision when nothing was cited) and does not fail
the case. Unknown ``expect`` keys are ignored.
"""

from __future__ import annotations

import math
from typing import Any

from evals.molecule_checks import check_molecules


def values_match(expected: Any, actual: Any) -> bool:
    """Whether an actual argument value satisfies the expected one.

    Booleans must be equal; numbers agree to 1e-6 relative (so ``12`` matches ``12.0``); strings
    compare case- and space-insensitively, ``-``/``_``/space alike; an expected list must be
    contained in the actual one (order ignored; a scalar actual counts as a one-element list);
    an expected object must be a subset of the actual one.
    """
    if expected is None:
        return actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and expected == actual
    if isinstance(expected, (int, float)):
        try:
            return math.isclose(float(expected), float(actual), rel_tol=1e-6, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, str):
        return isinstance(actual, str) and _norm(expected) == _norm(actual)
    if isinstance(expected, list):
        pool = actual if isinstance(actual, list) else [actual]
        return all(any(values_match(e, a) for a in pool) for e in expected)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and values_match(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def check_tools(outcome: dict[str, Any], expected: list[str]) -> dict[str, Any]:
    """Exact tool set: the distinct tools called (successfully or not) equal the expected ones."""
    called = sorted({c["name"] for c in outcome["tool_calls"]})
    want = sorted(set(expected))
    return {"passed": called == want, "expected": want, "actual": called,
            "detail": "" if called == want else f"called {called or 'no tool'}, expected {want or 'no tool'}"}


def check_arguments(outcome: dict[str, Any], expected: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Expected arguments ⊆ actual, per tool; any call of that tool may supply them."""
    total = matched = 0
    wrong: list[str] = []
    for tool, want in expected.items():
        calls = [c.get("arguments") or {} for c in outcome["tool_calls"] if c["name"] == tool]
        for key, value in want.items():
            total += 1
            if any(key in args and values_match(value, args[key]) for args in calls):
                matched += 1
            else:
                got = [args.get(key, "<missing>") for args in calls] or ["<tool not called>"]
                wrong.append(f"{tool}.{key}: expected {value!r}, got {got[0]!r}")
    return {"passed": matched == total, "matched": matched, "total": total, "detail": "; ".join(wrong)}


def check_answer_contains(outcome: dict[str, Any], facts: list[str]) -> dict[str, Any]:
    """Fact recall: the share of expected strings found in the answer (case-insensitive)."""
    answer = (outcome.get("answer") or "").lower()
    missing = [f for f in facts if f.lower() not in answer]
    found = len(facts) - len(missing)
    return {"passed": not missing, "found": found, "total": len(facts),
            "recall": found / len(facts) if facts else None,
            "detail": f"missing {missing}" if missing else ""}


def first_sentence(answer: str) -> str:
    """The answer's first sentence: its first non-empty line without Markdown emphasis or a bullet,
    cut at the first sentence end (a full stop followed by a space; "12.1 mm" is not an end)."""
    import re

    line = next((x for x in (answer or "").splitlines() if x.strip()), "")
    line = re.sub(r"^\s*(?:[-*•]\s+)?", "", line).replace("**", "").replace("__", "").strip()
    return re.split(r"(?<=[.!?])\s+", line, maxsplit=1)[0]


def check_first_sentence_contains(outcome: dict[str, Any], facts: list[str]) -> dict[str, Any]:
    """Every expected string is in the answer's first sentence (case-insensitive): the decision comes first."""
    head = first_sentence(outcome.get("answer") or "").lower()
    missing = [f for f in facts if f.lower() not in head]
    return {"passed": not missing, "found": len(facts) - len(missing), "total": len(facts),
            "detail": f"first sentence lacks {missing}: {head[:200]!r}" if missing else ""}


def check_answer_not_contains(outcome: dict[str, Any], banned: list[str]) -> dict[str, Any]:
    """For hostile prompts: none of these strings may appear in the answer."""
    answer = (outcome.get("answer") or "").lower()
    present = [b for b in banned if b.lower() in answer]
    return {"passed": not present, "detail": f"answer contains {present}" if present else ""}


def check_citations(outcome: dict[str, Any], expected: list[str], section: str | None = None) -> dict[str, Any]:
    """Citation precision and recall over distinct source ids; the section check is optional."""
    cited = {c["source_id"] for c in outcome.get("citations") or []}
    want = set(expected)
    hit = cited & want
    precision = len(hit) / len(cited) if cited else None
    recall = len(hit) / len(want) if want else None
    out: dict[str, Any] = {"passed": recall is None or recall == 1.0, "precision": precision, "recall": recall,
                           "cited": sorted(cited)}
    if section:
        sections = [c.get("section") or "" for c in outcome.get("citations") or [] if c["source_id"] in want]
        out["section_hit"] = any(s == section or s.startswith(section + " > ") for s in sections)
    out["detail"] = "" if out["passed"] else f"cited {sorted(cited) or 'nothing'}, expected {sorted(want)}"
    return out


def failed_cleanly(outcome: dict[str, Any]) -> bool:
    """A clean failure: a Galen error, a policy refusal, or a tool call that reported an error."""
    err = outcome.get("error")
    if err is not None:
        return err.get("kind") != "unexpected"
    return bool(outcome.get("refusal")) or any(c.get("ok") is False for c in outcome["tool_calls"])


def check_error(outcome: dict[str, Any], expect_error: bool) -> dict[str, Any]:
    """``error: true`` must fail cleanly; ``error: false`` must run without error or refusal.

    A tool that reported missing facts does not count as an error for ``error: false``.
    """
    err = outcome.get("error")
    if expect_error:
        ok = failed_cleanly(outcome)
        detail = "" if ok else ("crashed: " + f"{err['type']}: {err['message']}" if err else "no error or refusal")
        return {"passed": ok, "detail": detail}
    problems = []
    if err is not None:
        problems.append(f"{err['type']}: {err['message'][:200]}")
    if outcome.get("refusal"):
        problems.append(f"refused ({outcome['refusal'].get('rule')})")
    # Asking for missing facts is the designed behaviour, not an error (DESIGN.md: the agent asks
    # instead of guessing); suites check the question it asks with answer_contains.
    problems += [f"{c['name']} failed: {(c.get('error') or {}).get('message', '')[:200]}" for c in outcome["tool_calls"]
                 if c.get("ok") is False and (c.get("error") or {}).get("kind") != "missing_facts"]
    return {"passed": not problems, "detail": "; ".join(problems)}


def check_refusal(outcome: dict[str, Any], expect_refusal: bool | str | None) -> dict[str, Any]:
    """``refusal: true`` (or a rule id) must be declined by the policy; ``false`` or ``null`` must not be."""
    refusal = outcome.get("refusal")
    if not expect_refusal:
        return {"passed": not refusal, "detail": f"refused ({refusal.get('rule')})" if refusal else ""}
    ok = bool(refusal) and (expect_refusal is True or refusal.get("rule") == expect_refusal)
    return {"passed": ok, "detail": "" if ok else f"expected a refusal, got {refusal.get('rule') if refusal else 'none'}"}


def score_case(outcome: dict[str, Any], case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every check the case's ``expect`` names, plus ``crash`` when an unexpected error happened."""
    exp = case.get("expect") or {}
    checks: dict[str, dict[str, Any]] = {}
    err = outcome.get("error")
    if err is not None and err.get("kind") == "unexpected" and not exp.get("error"):
        checks["crash"] = {"passed": False, "detail": f"unexpected {err['type']}: {err['message'][:300]}"}
    if "tools" in exp:
        checks["tools"] = check_tools(outcome, exp["tools"])
    if exp.get("arguments"):
        checks["arguments"] = check_arguments(outcome, exp["arguments"])
    if exp.get("answer_contains"):
        checks["answer_contains"] = check_answer_contains(outcome, exp["answer_contains"])
    if exp.get("first_sentence_contains"):
        checks["first_sentence_contains"] = check_first_sentence_contains(outcome, exp["first_sentence_contains"])
    if exp.get("answer_not_contains"):
        checks["answer_not_contains"] = check_answer_not_contains(outcome, exp["answer_not_contains"])
    if exp.get("cited_sources"):
        checks["citations"] = check_citations(outcome, exp["cited_sources"], exp.get("section"))
    if "error" in exp:
        checks["error"] = check_error(outcome, bool(exp["error"]))
    if "refusal" in exp:
        checks["refusal"] = check_refusal(outcome, exp["refusal"])
    if exp.get("molecules"):
        checks["molecules"] = check_molecules(outcome, exp["molecules"])
    if exp.get("verified") is not None:
        ok = outcome.get("verified") is bool(exp["verified"])
        checks["verified"] = {"passed": ok, "detail": "" if ok else f"verified={outcome.get('verified')}"}
    turns = outcome.get("turns") or []
    if turns:
        failed = [f"turn {t['turn']}: " + "; ".join(f"{k} {c.get('detail', '')}".strip() for k, c in t["checks"].items()
                                                   if c.get("passed") is False) for t in turns if not t["passed"]]
        checks["turns"] = {"passed": not failed, "total": len(turns), "found": len(turns) - len(failed),
                           "detail": " | ".join(failed)}
    return checks
