"""Applying a decision table to a nodule: conditions, first-match rows, and facts that do not matter.

A condition is true, false or *unknown* (an askable fact is missing, e.g. the patient's risk).
Rows are tried in order; the rows still possible up to the first one that surely holds are the
candidates. One candidate (or several with the same outcome) is a decision; otherwise the
unknown facts those candidates read are what must be asked. So a fact is asked for only when it
changes the answer: a solid nodule of 12 mm needs no risk level under Fleischner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.decisions.facts import CASE_KEYS, Case, Nodule, guideline_size
from knowledge.decisions.tables import Assumption, Row, Table

UNKNOWN = None  # a condition's third value

#: Facts whose absence is itself a fact ("no Herder probability yet"), never asked for.
_ABSENT_IS_NONE = frozenset({"brock", "herder", "vdt_days", "incomplete", "setting", "age", "prior_category_na",
                             "cyst_wall", "cyst_change", "airway_level"})


@dataclass
class Outcome:
    """What the rows say about one nodule (or group of nodules)."""

    row: Row | None  # the decided row, or None
    candidates: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # askable facts that would decide it

    @property
    def decided(self) -> bool:
        return self.row is not None


def _value(key: str, nodule: Nodule | None, case: Case) -> Any:
    if key in CASE_KEYS or nodule is None:
        return case.value(key)
    return nodule.value(key)


def _in_range(x: float, rng: dict[str, float]) -> bool:
    return (("lt" not in rng or x < rng["lt"]) and ("lte" not in rng or x <= rng["lte"])
            and ("gt" not in rng or x > rng["gt"]) and ("gte" not in rng or x >= rng["gte"]))


def _within(bounds: tuple[float, float], rng: dict[str, float]) -> bool | None:
    """Whether every size in the open interval ``bounds`` is in ``rng`` (True), none is (False), or some are."""
    lo, hi = bounds
    r_lo = rng.get("gte", rng.get("gt", float("-inf")))
    r_hi = rng.get("lte", rng.get("lt", float("inf")))
    if hi <= r_lo or lo >= r_hi:
        return False
    if lo >= r_lo and hi <= r_hi:
        return True
    return UNKNOWN


def condition(table: Table, key: str, cond: Any, nodule: Nodule | None, case: Case) -> bool | None:
    """True, False, or None (unknown: an askable fact is missing)."""
    if key in ("size", "solid"):
        if nodule is None:
            return False
        size = guideline_size(nodule, table.measure, solid=key == "solid")
        if size.mm is not None and "mm" in cond:
            return _in_range(size.mm, cond["mm"])
        if size.mm3 is not None and "mm3" in cond:
            return _in_range(size.mm3, cond["mm3"])
        if size.mm is not None or size.mm3 is not None:
            return False  # measured, but in a unit this row does not use
        if size.bounds is not None and "mm" in cond:
            return _within(size.bounds, cond["mm"])
        return UNKNOWN
    value = _value(key, nodule, case)
    if cond is None:
        return value is None
    askable = table.askable.get(key)
    if value is None:
        if askable is not None:
            value = frozenset(askable)
        elif key in _ABSENT_IS_NONE or isinstance(cond, dict):
            return False
        else:
            value = False  # a feature not stated is taken as absent (spiculation, juxtapleural …)
    if isinstance(cond, dict):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return _in_range(float(value), cond)
    allowed = set(cond) if isinstance(cond, list) else {cond}
    options = value if isinstance(value, frozenset) else {value}
    hits = [o in allowed for o in options]
    if all(hits):
        return True
    if not any(hits):
        return False
    return UNKNOWN


def row_holds(table: Table, row: Row, nodule: Nodule | None, case: Case) -> tuple[bool | None, list[str]]:
    """Whether every condition of ``row`` holds, and which (askable) facts are unknown."""
    unknown: list[str] = []
    for key, cond in row.when.items():
        res = condition(table, key, cond, nodule, case)
        if res is False:
            return False, []
        if res is None:
            unknown.append(key)
    return (True if not unknown else UNKNOWN), unknown


def outcome_key(row: Row) -> str:
    """Rows with the same key give the same advice (used when an unknown fact does not matter)."""
    return row.category or row.management or row.id


def _strict_first(table: Table, rows: list[Row], nodule: Nodule | None, case: Case) -> tuple[Row | None, list[str]]:
    """First row that holds with every askable fact fixed; (None, [missing sizes]) if an unknown size decides.

    Rows before it that hold only for some sizes do not matter when they give the same advice
    (a stable ground-glass nodule at follow-up is category 2 at 30 mm or more, and category 2 by the
    stepped rule below 30 mm: its size need not be asked)."""
    pending: list[tuple[Row, list[str]]] = []
    for row in rows:
        holds, unknown = row_holds(table, row, nodule, case)
        if holds is True:
            if all(outcome_key(r) == outcome_key(row) for r, _ in pending):
                return row, []
            return None, sorted({k for _, u in pending for k in u})
        if holds is None:
            pending.append((row, unknown))
    return None, sorted({k for _, u in pending for k in u})


def _open_keys(table: Table, rows: list[Row], nodule: Nodule | None, case: Case) -> list[str]:
    """Askable facts the rows read that are missing or only narrowed to a set of values."""
    keys: list[str] = []
    for row in rows:
        for key in row.when:
            if key in table.askable and key not in keys:
                value = _value(key, nodule, case)
                if value is None or isinstance(value, frozenset):
                    keys.append(key)
    return keys


def first_match(table: Table, rows: list[Row], nodule: Nodule | None, case: Case) -> Outcome:
    """The row that applies (first match), or the candidates and the facts that would decide.

    Every combination of the open askable facts is tried; when all give the same advice the
    open facts do not matter and the first combination's row is the decision.
    """
    import itertools

    keys = _open_keys(table, rows, nodule, case)
    domains = []
    for key in keys:
        value = _value(key, nodule, case)
        domains.append(sorted(value) if isinstance(value, frozenset) else list(table.askable[key]))
    results: list[tuple[dict[str, Any], Row | None, list[str]]] = []
    for combo in itertools.product(*domains) if keys else [()]:
        n, c = (nodule.copy() if nodule is not None else None), Case(dict(case.facts), case.nodules)
        for key, value in zip(keys, combo, strict=True):
            target = c if (key in CASE_KEYS or n is None) else n
            old = target.facts.get(key)
            target.set(key, value, old.source if old else "assumed for the check", old.detail if old else "")
        row, unknown = _strict_first(table, rows, n, c)
        results.append((dict(zip(keys, combo, strict=True)), row, unknown))
    rows_found = [r for _, r, _ in results]
    candidates = list({r.id: r for r in rows_found if r is not None}.values())
    size_missing = sorted({k for _, _, u in results for k in u})
    if all(r is not None for r in rows_found) and len({outcome_key(r) for r in rows_found}) == 1:
        return Outcome(rows_found[0], candidates, [])
    if size_missing and not any(r is not None for r in rows_found):
        return Outcome(None, candidates, size_missing + [k for k in keys if k not in size_missing])
    matters: dict[str, list[dict[str, Any]]] = {}  # key -> the other keys' values where it changes the advice
    for k in keys:
        groups: dict[tuple, set[str]] = {}
        for combo, r, _ in results:
            rest = tuple(combo[o] for o in keys if o != k)
            groups.setdefault(rest, set()).add(outcome_key(r) if r else "(no row)")
        where = [dict(zip([o for o in keys if o != k], rest, strict=True)) for rest, s in groups.items() if len(s) > 1]
        if where:
            matters[k] = where
    # Ask first for what matters, in the table's order of questions; a fact that matters only for one
    # value of a fact already asked (the prior category, only for a stable nodule at a follow-up
    # screen) waits until that one is answered.
    order = list(table.askable)
    first: list[str] = []
    for k in sorted(matters, key=lambda k: order.index(k) if k in order else len(order)):
        if not any(len({w[j] for w in matters[k]}) == 1 for j in first):
            first.append(k)
    return Outcome(None, candidates, first or keys)


def caveats(table: Table, row: Row, nodule: Nodule | None, case: Case) -> list[tuple[str, Any]]:
    """The row's caveats whose conditions hold, as (text, cite)."""
    out = []
    for c in row.caveats:
        if all(condition(table, k, v, nodule, case) is True for k, v in c.when.items()):
            out.append((c.text, c.cite))
    return out


def assumed(table: Table, nodule: Nodule, case: Case) -> tuple[Nodule, list[Assumption]]:
    """``nodule`` with the table's assumptions applied where their fact is not stated, and those applied.

    A stated value, even a set of possibilities ("subsolid"), is never replaced."""
    used: list[Assumption] = []
    for a in table.assume:
        if nodule.value(a.fact) is None and all(condition(table, k, v, nodule, case) is True for k, v in a.when.items()):
            nodule = nodule.copy()
            nodule.set(a.fact, a.value, "assumed", a.why)
            used.append(a)
    return nodule, used


def otherwise(table: Table, a: Assumption, nodule: Nodule, case: Case) -> str:
    """What the rows give when assumption ``a`` is wrong: "if it is part-solid or ground-glass: row → advice"."""
    others = sorted(set(table.askable.get(a.fact, [])) - {a.value})
    if not others:
        return a.otherwise
    alt = nodule.copy()
    alt.set(a.fact, frozenset(others) if len(others) > 1 else others[0], "the alternative")
    o = first_match(table, table.per_nodule, alt, case)
    if o.row is None:
        return a.otherwise
    return f"if it is {' or '.join(others)}: {o.row.label} → {o.row.management or o.row.category}"
