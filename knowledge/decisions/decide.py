"""Computing the one applicable row or category of a guideline for a case.

:func:`decide` applies a table (:mod:`knowledge.decisions.tables`) to a :class:`Case`: every
nodule (or, for Fleischner, every group of nodules of one family) gets its row, and management
follows the most suspicious one (the highest-ranked row; Lung-RADS: the highest category).
Facts that would change the answer and are missing raise ``MissingFacts`` naming them, with the
rows they would lead to in the hint; facts that would not change it are not asked for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from galen.errors import MissingFacts
from knowledge.decisions.engine import Outcome, assumed, caveats, condition, first_match, otherwise
from knowledge.decisions.facts import Case, Nodule, guideline_size, round_half_up
from knowledge.decisions.tables import Cite, Row, Table, load_table

#: How a missing fact is asked for.
ASK = {
    "risk": "the patient's lung-cancer risk (low: minimal or no smoking history and no other risk factors; high: a "
            "smoking history or other risk factors such as asbestos, radon or uranium exposure or a first-degree "
            "relative with lung cancer)",
    "exam": "whether this is the baseline (first) screening CT or a follow-up screening CT",
    "status": "whether the nodule is new, growing or stable compared with the previous screening CT",
    "type": "the nodule type (solid, part-solid or ground-glass)",
    "size": "the nodule size (mean diameter in mm, or volume in mm3)",
    "solid": "the size of the solid component (mm)",
    "prior_category": "the Lung-RADS category the nodule had at the previous scan",
}
FACT_NAMES = {"type": "type", "size": "size", "solid": "solid component", "solid_mm": "solid component",
              "risk": "risk", "exam": "exam",
              "status": "status", "multiple": "number of nodules", "brock": "Brock probability",
              "herder": "Herder probability", "vdt_days": "volume doubling time", "persistent": "persistent",
              "juxtapleural": "juxtapleural", "airway_level": "airway level", "prior_category": "previous category",
              "benign": "benign features", "volumetry": "volumetry", "age": "age", "known_cancer": "known cancer",
              "immunosuppressed": "immunosuppressed", "setting": "setting", "incomplete": "exam incomplete",
              "no_nodules": "no nodules", "proven_benign": "proven benign", "cyst_wall": "cyst wall",
              "multilocular": "multilocular", "cyst_change": "cyst change",
              "typical_perifissural": "typical perifissural node"}


@dataclass
class Decision:
    """The applicable row (or category), with the facts it used and the passages it rests on."""

    table: str
    guideline: str
    row_id: str
    label: str
    management: str
    headline: str  # first sentence, without the citation number
    category: str | None = None
    primary: str = ""
    cites: list[Cite] = field(default_factory=list)  # the row's first, then measurement and multiplicity rules
    reasons: list[str] = field(default_factory=list)  # facts used, each with where it came from
    others: list[str] = field(default_factory=list)  # the other nodules' own rows
    notes: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)  # fact names the chosen row reads
    options: list[tuple[str, str]] = field(default_factory=list)  # (row label, management) when the row depends on why

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cites"] = [c.model_dump() for c in self.cites]
        return d


class NotCovered(Exception):
    """No row of the table covers the case (the answer falls back to retrieved passages)."""


def _fact_line(table: Table, key: str, nodule: Nodule | None, case: Case) -> str | None:
    if key in ("size", "solid"):
        if nodule is None:
            return None
        s = guideline_size(nodule, table.measure, solid=key == "solid")
        return f"{FACT_NAMES[key]}: {s.how} — {s.source}" if s.known else None
    holder = case if (nodule is None or key in case.facts and key not in nodule.facts) else nodule
    f = holder.facts.get(key)
    if f is None:
        return None
    return f"{FACT_NAMES.get(key, key)}: {f.text()} — {f.source}"


def _reasons(table: Table, row: Row, nodule: Nodule | None, case: Case) -> list[str]:
    out = []
    for key in row.when:
        if key == "multiple":
            continue
        line = _fact_line(table, key, nodule, case)
        if line and line not in out:
            out.append(line)
    return out


def _ask(table: Table, unit_name: str, outcome: Outcome, several: bool) -> tuple[list[str], list[str]]:
    labels = [ASK.get(k, k) + (f" for {unit_name}" if several and k in ("type", "size", "solid", "status",
                                                                        "prior_category") else "")
              for k in outcome.missing]
    options = [f"{r.label} → " + (f"category {r.category}" if r.category else str(r.management))
               for r in outcome.candidates[:6]]
    return labels, options


def _outcome_text(table: Table, row: Row) -> str:
    if row.category:
        cat = table.categories[row.category]
        return f"category {row.category} ({row.management or cat.management or cat.name})"
    return str(row.management)


def _raise_missing(table: Table, labels: list[str], options: list[str]) -> None:
    hint = ("Depending on it: " + "; ".join(options) + ".") if options else None
    raise MissingFacts(f"To apply {table.name} I need " + "; ".join(labels) + ".", missing=labels, hint=hint)


def _size_key(table: Table, n: Nodule) -> tuple[float, float]:
    s = guideline_size(n, table.measure)
    solid = guideline_size(n, table.measure, solid=True)
    return (s.mm if s.mm is not None else (s.mm3 or 0) ** (1 / 3), solid.mm or 0.0)


def _pick(table: Table, evaluated: list[tuple[Nodule, Outcome]]) -> tuple[Nodule, Row, list[tuple[Nodule, Outcome]]]:
    """The most suspicious unit (highest rank, then larger) and the rest; asks what could change that."""
    decided = [(u, o) for u, o in evaluated if o.decided]
    open_ = [(u, o) for u, o in evaluated if not o.decided and (o.candidates or o.missing)]
    several = len(evaluated) > 1
    if not decided:
        if open_:
            labels, options = [], []
            for u, o in open_:
                lab, opt = _ask(table, u.name, o, several)
                labels += [x for x in lab if x not in labels]
                options += opt
            _raise_missing(table, labels, options)
        raise NotCovered(f"No row of {table.name} covers this case.")
    best_u, best_o = max(decided, key=lambda uo: (table.rank_of(uo[1].row), _size_key(table, uo[0])))
    best_rank = table.rank_of(best_o.row)
    for u, o in open_:
        if not o.candidates or max(table.rank_of(c) for c in o.candidates) > best_rank:
            labels, options = _ask(table, u.name, o, several)
            _raise_missing(table, labels, options)
    return best_u, best_o.row, [(u, o) for u, o in evaluated if u is not best_u]


def _others_lines(table: Table, rest: list[tuple[Nodule, Outcome]]) -> list[str]:
    out = []
    for u, o in rest:
        if o.decided:
            out.append(f"{u.name}: {o.row.label} — {_outcome_text(table, o.row)}")
        elif o.candidates:
            out.append(f"{u.name}: at most {max((c for c in o.candidates), key=table.rank_of).label} (not more "
                       f"suspicious, so its missing facts do not change the management)")
        else:
            out.append(f"{u.name}: not covered by the table rows")
    return out


# --- Fleischner -------------------------------------------------------------------------------

def _family(n: Nodule) -> str | None:
    v = n.value("type")
    values = v if isinstance(v, frozenset) else {v}
    if values == {"solid"}:
        return "solid"
    if values and values <= {"part-solid", "ground-glass"}:
        return "subsolid"
    return None


def _count(n: Nodule) -> int:
    """How many nodules ``n`` stands for ("three solid nodules, the largest 7 mm" is one entry of 3)."""
    v = n.value("group_count")
    return int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 1 else 1


def _how_many(nodules: list[Nodule]) -> str:
    """"3", or "several (number not stated)" when a group's count was not given."""
    unsure = any(n.facts.get("group_count") is not None and "several" in n.facts["group_count"].detail for n in nodules)
    return "several (number not stated)" if unsure else str(sum(_count(n) for n in nodules))


def _fleischner_units(table: Table, nodules: list[Nodule]) -> list[Nodule]:
    if len(nodules) == 1 and _count(nodules[0]) == 1:
        u = nodules[0].copy()
        u.set("multiple", False, "one nodule")
        return [u]
    unknown = [n for n in nodules if _family(n) is None]
    if unknown:
        labels = [f"{ASK['type']} for {n.name}" for n in unknown]
        raise MissingFacts(f"To apply {table.name} to several nodules I need " + "; ".join(labels) + ".", missing=labels)
    units = []
    for fam in ("solid", "subsolid"):
        members = [n for n in nodules if _family(n) == fam]
        if len(members) == 1 and _count(members[0]) == 1:
            u = members[0].copy()
            u.set("multiple", False, f"the only {fam} nodule")
            units.append(u)
        elif members:
            largest = max(members, key=lambda n: _size_key(table, n))
            u = largest.copy()
            total = sum(_count(m) for m in members)
            u.name = f"{total} {fam} nodules (largest: {largest.name})" if len(members) > 1 else largest.name
            u.set("multiple", True, f"{total} {fam} nodules: " + ", ".join(m.name for m in members))
            if fam == "subsolid":
                types = {t for m in members for t in (m.value("type") if isinstance(m.value("type"), frozenset)
                                                      else {m.value("type")})}
                u.set("type", frozenset(types) if len(types) > 1 else next(iter(types)), largest.facts["type"].source)
            units.append(u)
    return units


def _decide_fleischner(table: Table, case: Case) -> Decision:
    for row in table.not_applicable:
        if all(condition(table, k, v, None, case) is True for k, v in row.when.items()):
            reasons = [line for k in row.when if (line := _fact_line(table, k, None, case))]
            return Decision(table.id, table.name, row.id, row.label, "Fleischner 2017 does not apply",
                            f"{table.name} does not apply: {row.label}", cites=[row.cite], reasons=reasons,
                            depends_on=list(row.when))
    if not case.nodules:
        raise NotCovered("No nodule is described.")
    units = _fleischner_units(table, case.nodules)
    evaluated = [(u, first_match(table, table.rows, u, case)) for u in units]
    unit, row, rest = _pick(table, evaluated)
    reasons = _reasons(table, row, unit, case)
    cites = [row.cite] + ([table.measure_cite] if "size" in row.when else [])
    if unit.value("multiple") or len(case.nodules) > 1:
        reasons.insert(0, f"nodules: {_how_many(case.nodules)} — " + "; ".join(n.name for n in case.nodules)
                       + (". " if rest else "; ") + "management is guided by the most suspicious nodule")
        cites.append(table.multiple_cite)
    notes = [text for text, c in caveats(table, row, unit, case)] + ([row.note] if row.note else [])
    cites += [c for _, c in caveats(table, row, unit, case)]
    return Decision(table.id, table.name, row.id, row.label, str(row.management),
                    f"{table.name}, {row.label}: {row.management}", primary=unit.name, cites=cites,
                    reasons=reasons, others=_others_lines(table, rest), notes=notes, depends_on=list(row.when))


# --- Lung-RADS --------------------------------------------------------------------------------

def _lung_rads_growth(table: Table, n: Nodule) -> Nodule:
    """Status from a prior size: growth is more than ``growth_mm`` increase in mean diameter."""
    prior = n.facts.get("prior_mm")
    size = guideline_size(n, table.measure)
    if prior is None or size.mm is None or n.value("status") == "slow-growing":
        return n  # growth over several screens is judged across them, not by the last interval alone
    n = n.copy()
    delta = size.mm - float(prior.value)
    grew = delta > float(table.growth_mm or 1.5)
    detail = (f"{float(prior.value):g} → {size.mm:g} mm: {delta:+.1f} mm, "
              f"{'more' if grew else 'not more'} than the {table.growth_mm:g} mm that defines growth")
    stated = n.value("status")
    if stated not in (None, "growing" if grew else "stable") and not isinstance(stated, frozenset):
        detail += f"; stated as {stated}"
    n.set("status", "growing" if grew else "stable", f"computed from the prior size ({prior.source})", detail)
    return n


def _decide_lung_rads(table: Table, case: Case) -> Decision:
    for row in table.exam_rows:
        if row.id == "cat1-no-nodules" and case.nodules:
            continue
        if all(condition(table, k, v, None, case) is True for k, v in row.when.items()):
            cat = table.categories[row.category]
            management = row.management or cat.management or ""
            return _lung_rads_decision(table, case, row, row.category, management, None, [], [])
    if not case.nodules:
        raise NotCovered("No nodule or other Lung-RADS finding is described.")
    nodules = [_lung_rads_growth(table, n) for n in case.nodules]
    evaluated = [(n, first_match(table, table.nodule_rows, n, case)) for n in nodules]
    unit, row, rest = _pick(table, evaluated)
    category, notes = row.category, [row.note] if row.note else []
    x = table.modifiers.get("4X")
    if x and category in (x.applies_to or []):
        feats = [k for k in x.when_any if unit.value(k) is True or case.value(k) is True]
        if feats:
            notes.append(f"base category {category} ({row.label}) raised to 4X: "
                         + ", ".join(FACT_NAMES.get(f, f).replace("_", " ") for f in feats))
            category = "4X"
    management = table.categories[category].management or ""
    return _lung_rads_decision(table, case, row, category, management, unit, rest, notes)


def _lung_rads_decision(table: Table, case: Case, row: Row, category: str, management: str, unit: Nodule | None,
                        rest: list[tuple[Nodule, Outcome]], notes: list[str]) -> Decision:
    cat = table.categories[category]
    s_mod = table.modifiers.get("S")
    s = bool(s_mod and any(case.value(k) is True for k in s_mod.when_any))
    name = cat.name + (", with the S modifier for a significant finding other than lung cancer" if s else "")
    shown = f"{category}{'S' if s else ''}"
    reasons = [f"row: {row.label} (category {row.category})"] + _reasons(table, row, unit, case)
    cites = [row.cite]
    if category in table.category_cite and table.category_cite[category].section != row.cite.section:
        cites.append(table.category_cite[category])
    elif category in table.category_cite:
        cites.insert(1, table.category_cite[category])
    if category == "4X" and table.modifiers.get("4X"):
        cites.append(table.modifiers["4X"].cite)
    if s and s_mod:
        cites.append(s_mod.cite)
        reasons.append(f"S modifier: {case.facts[next(k for k in s_mod.when_any if case.value(k))].text()} — "
                       f"{case.facts[next(k for k in s_mod.when_any if case.value(k))].source}")
    if unit is not None and ({"size", "solid"} & set(row.when)):
        cites.append(table.measure_cite)
        if unit.value("status") == "growing" and "computed" in unit.facts["status"].source and table.growth_cite:
            cites.append(table.growth_cite)
    if len(case.nodules) > 1:
        reasons.insert(0, f"nodules: {_how_many(case.nodules)} — the exam takes the category of the most "
                          f"suspicious finding ({unit.name if unit else ''})")
        cites.append(table.multiple_cite)
    return Decision(table.id, table.name, row.id, row.label, management,
                    f"{table.name} category {shown} ({name}): {management}", category=shown,
                    primary=unit.name if unit else "", cites=cites, reasons=reasons,
                    others=_others_lines(table, rest), notes=notes, depends_on=list(row.when))


# --- BTS --------------------------------------------------------------------------------------

def _decide_bts(table: Table, case: Case) -> Decision:
    if not case.nodules:
        raise NotCovered("No nodule is described.")
    nodules, assumptions = [], {}
    for n in case.nodules:
        n = n.copy()
        if n.value("volumetry") is None:
            n.set("volumetry", n.value("volume_mm3") is not None, "a volume was measured" if n.value("volume_mm3")
                  is not None else "no volume given")
        before = n
        n, used = assumed(table, n, case)
        assumptions[id(n)] = (before, used)
        nodules.append(n)
    evaluated = [(n, first_match(table, table.rows, n, case)) for n in nodules]
    unit, row, rest = _pick(table, evaluated)
    reasons = _reasons(table, row, unit, case)
    cites = [row.cite] + ([table.measure_cite] if "size" in row.when else [])
    if len(case.nodules) > 1:
        reasons.insert(0, f"nodules: {_how_many(case.nodules)} — management follows the most suspicious "
                          f"({unit.name})")
    notes = [row.note] if row.note else []
    before, used = assumptions[id(unit)]
    for a in used:  # said, with what the rows give otherwise: the answer still holds if the assumption is wrong
        notes.append(f"the nodule {FACT_NAMES.get(a.fact, a.fact)} was not stated: taken as {a.value}, because {a.why}; "
                     + otherwise(table, a, before, case))
        if a.cite not in cites:
            cites.append(a.cite)
    if unit.value("juxtapleural") is True and unit.value("typical_perifissural") is not True:
        notes.append("BTS also says a nodule with the typical appearance of a perifissural node needs no follow-up; "
                     "that judgement is the radiologist's")
    return Decision(table.id, table.name, row.id, row.label, str(row.management),
                    f"{table.name}, {row.label}: {row.management}", primary=unit.name, cites=cites, reasons=reasons,
                    others=_others_lines(table, rest), notes=notes, depends_on=list(row.when))


_DECIDERS = {"fleischner-2017": _decide_fleischner, "lung-rads-2022": _decide_lung_rads, "bts-2015": _decide_bts}


def decide(case: Case, table_id: str) -> Decision:
    """The row (or category) of ``table_id`` that applies to ``case``.

    Raises:
        MissingFacts: a fact that would change the answer is missing (``missing`` names it; the
            hint lists the rows it would lead to).
        NotCovered: no row of the table covers the case.
    """
    return _DECIDERS[table_id](load_table(table_id), case)


__all__ = ["ASK", "Decision", "NotCovered", "decide", "round_half_up"]
