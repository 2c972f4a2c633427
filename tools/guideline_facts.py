"""The case a guideline decision is made for: the thread's findings plus this question.

Nodules come from the newest of: the image analysis (``segment_image`` lesions, typed by
``classify_image``), and the case the previous guideline answer used (which already holds
nodules named in earlier questions); the Brock result adds its probability and the facts the
person stated for it. The question then adds or changes facts: a new nodule ("also a 5 mm solid
nodule"), a reference to a known one ("the 11 mm nodule is new"), or a hypothetical ("what if
she were a current smoker") that is answered but not remembered as a fact.

Every fact keeps its source, e.g. ``segment_image, turn 1`` or ``question``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.decisions.facts import Case, Fact, Nodule, guideline_size
from tools.guideline_text import DECISION_CASE_FACTS, Mention, QuestionFacts, parse_question

_SUBSOLID = frozenset({"part-solid", "ground-glass"})
_TYPE_ALIASES = {"solid": "solid", "part-solid": "part-solid", "non-solid": "ground-glass",
                 "ground-glass": "ground-glass", "subsolid": _SUBSOLID, "airway": "airway", "cyst": "cyst"}
_NODULE_KEYS = ("long_mm", "short_mm", "mean_mm", "diameter_mm", "volume_mm3", "range_mm", "solid_mm", "prior_mm",
                "type", "status", "juxtapleural", "airway_level", "benign", "spiculated", "brock", "herder", "vdt_days",
                "persistent", "proven_benign", "prior_category", "volumetry", "cyst_wall", "multilocular", "cyst_change",
                "group_count", "lesion_id", "upper_lobe", "typical_perifissural")
_UNITS = {"brock": "%", "herder": "%", "vdt_days": " days", "solid_mm": " mm", "prior_mm": " mm"}


@dataclass
class Gathered:
    """The case, what the question said, and the thread's previous decision (if any)."""

    case: Case
    question: QuestionFacts
    previous: dict[str, Any] | None = None  # data of the newest non-hypothetical decision
    previous_turn: int | None = None
    notes: list[str] = field(default_factory=list)


# --- serialising a case into a finding and back ---------------------------------------------------

def _enc(v: Any) -> Any:
    if isinstance(v, frozenset):
        return {"any_of": sorted(v)}
    if isinstance(v, tuple):
        return {"range": [None if abs(x) == float("inf") else x for x in v]}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, dict) and "any_of" in v:
        return frozenset(v["any_of"])
    if isinstance(v, dict) and "range" in v:
        lo, hi = v["range"]
        return (float("-inf") if lo is None else lo, float("inf") if hi is None else hi)
    return v


def case_to_dict(case: Case) -> dict[str, Any]:
    def facts(d: dict[str, Fact]) -> dict[str, list]:
        return {k: [_enc(f.value), f.source, f.detail, f.unit] for k, f in d.items()}
    return {"facts": facts(case.facts), "nodules": [{"name": n.name, "facts": facts(n.facts)} for n in case.nodules]}


def case_from_dict(d: dict[str, Any], turn: int | None) -> Case:
    def facts(raw: dict[str, list]) -> dict[str, Fact]:
        out = {}
        for k, (v, src, detail, unit) in raw.items():
            if src == "question" and turn is not None:
                src = f"question, turn {turn}"
            out[k] = Fact(_dec(v), src, detail, unit)
        return out
    return Case(facts(d.get("facts") or {}), [Nodule(n["name"], facts(n.get("facts") or {})) for n in d.get("nodules") or []])


# --- the thread -------------------------------------------------------------------------------

def _latest(findings: list[dict[str, Any]], tool: str, pred=lambda d: True) -> tuple[int, dict | None, int | None]:
    for i in range(len(findings) - 1, -1, -1):
        f = findings[i]
        if f.get("tool") == tool and pred(f.get("data") or {}):
            return i, f.get("data") or {}, f.get("turn")
    return -1, None, None


def _where(tool: str, turn: int | None) -> str:
    return f"{tool}, turn {turn}" if turn is not None else tool


def _lesion_nodules(seg: dict, turn: int | None) -> list[Nodule]:
    out = []
    src = _where("segment_image", turn)
    for les in seg.get("lesions") or []:
        n = Nodule(f"lesion {les.get('id', len(out) + 1)} ({float(les.get('mean_diameter_mm') or 0):.1f} mm, segment_image)")
        for key, field_ in (("long_mm", "long_axis_mm"), ("short_mm", "short_axis_mm"), ("mean_mm", "mean_diameter_mm"),
                            ("volume_mm3", "volume_mm3")):
            if les.get(field_) is not None:
                n.set(key, round(float(les[field_]), 1), src)
        if les.get("id") is not None:
            n.set("lesion_id", les["id"], src)
        if les.get("upper_lobe") is not None:
            n.set("upper_lobe", bool(les["upper_lobe"]), src)
        out.append(n)
    return out


def _size_of(n: Nodule) -> float:
    s = guideline_size(n, "mean-1dp")
    if s.mm is not None:
        return s.mm
    if s.mm3 is not None:
        return (6 * s.mm3 / 3.14159) ** (1 / 3)
    return s.bounds[1] if s.bounds and s.bounds[1] != float("inf") else 0.0


def _closest(nodules: list[Nodule], size_mm: float | None, tol: float = 1.0) -> Nodule | None:
    if not nodules:
        return None
    if size_mm is None:
        return max(nodules, key=_size_of)
    best = min(nodules, key=lambda n: abs(_size_of(n) - size_mm))
    return best if abs(_size_of(best) - size_mm) <= tol else None


def _stated_type(n: Nodule) -> bool:
    """Whether the person stated the type (then an image classifier's call does not replace it)."""
    f = n.facts.get("type")
    return f is not None and f.source.startswith(("question", "stated", "what-if"))


def _apply_classify(nodules: list[Nodule], cls: dict, turn: int | None) -> None:
    src = _where("classify_image", turn)
    for row in cls.get("lesions") or []:
        target = next((n for n in nodules if n.value("lesion_id") == row.get("id")), None)
        if target is None:
            continue
        kind = _TYPE_ALIASES.get(str(row.get("type") or "").lower())
        if kind and not _stated_type(target):
            target.set("type", kind, src)
        if row.get("spiculated") is not None and "spiculated" not in target.facts:
            target.set("spiculated", bool(row["spiculated"]), src)


def _longest(n: Nodule) -> float:
    for key in ("long_mm", "diameter_mm", "mean_mm"):
        v = n.value(key)
        if isinstance(v, int | float):
            return float(v)
    return _size_of(n)


def _match_longest(nodules: list[Nodule], size_mm: float, tol: float = 1.0) -> Nodule | None:
    if not nodules:
        return None
    best = min(nodules, key=lambda n: abs(_longest(n) - size_mm))
    return best if abs(_longest(best) - size_mm) <= tol else None


def _brock_rows(brock: dict) -> list[tuple[dict, dict[str, str], float | None]]:
    """(nodule facts, source per fact, actual probability) for each nodule of a Brock result.

    The result lists every nodule (``nodules``, most suspicious first) with its inputs' sources in
    ``inputs`` (see :mod:`tools.nodule_risk`); an older result has one nodule (``inputs`` a dict). Under a
    "what if" the probabilities are hypothetical: only the index nodule's actual one
    (``what_if.probability_before``) is kept.
    """
    what = brock.get("what_if")
    if isinstance(brock.get("nodules"), list):
        entries = [e for e in brock.get("inputs") or [] if isinstance(e, dict)]
        out = []
        for row in brock["nodules"]:
            if not isinstance(row, dict):
                continue
            sources = {e["name"]: str(e.get("source")) for e in entries
                       if e.get("nodule") in (None, row.get("id")) and "name" in e}
            prob = row.get("probability") if row.get("computed", True) else None
            if what:
                prob = what.get("probability_before") if row.get("id") == brock.get("index_nodule") else None
            out.append((row, sources, prob))
        return out
    inputs = brock.get("inputs") if isinstance(brock.get("inputs"), dict) else {}
    return [(inputs, brock.get("sources") or {}, None if what else brock.get("probability"))]


def _patient_facts(brock: dict) -> dict[str, tuple[Any, str]]:
    """Patient facts of a Brock result: name -> (value, source), from its inputs and guideline context."""
    out: dict[str, tuple[Any, str]] = {}
    entries = brock.get("inputs")
    if isinstance(entries, list):
        for e in list(entries) + list(brock.get("context") or []):
            if isinstance(e, dict) and e.get("nodule") is None and "name" in e:
                out[e["name"]] = (e.get("value"), str(e.get("source")))
    elif isinstance(entries, dict):
        src = brock.get("sources") or {}
        out = {k: (v, str(src.get(k))) for k, v in entries.items()}
    return out


def _apply_brock(case: Case, brock: dict, turn: int | None) -> None:
    src = _where("nodule_malignancy_risk", turn)
    for row, sources, prob in _brock_rows(brock):
        size = row.get("nodule_size_mm")
        if not isinstance(size, int | float):
            continue
        target = _match_longest(case.nodules, float(size))
        if target is None:  # a nodule named in the Brock question ("and a 5 mm one in the LLL")
            target = Nodule(f"the {float(size):g} mm nodule (nodule_malignancy_risk, turn {turn})")
            target.set("diameter_mm", float(size), src)
            if isinstance(row.get("mean_diameter_mm"), int | float):
                target.facts.pop("diameter_mm")
                target.set("long_mm", float(size), src)
                target.set("mean_mm", float(row["mean_diameter_mm"]), src)
            case.nodules.append(target)
        if isinstance(prob, int | float):
            target.set("brock", round(100 * float(prob), 1), src, unit="%")
        kind = _TYPE_ALIASES.get(str(row.get("nodule_type") or "").lower())
        stated = sources.get("nodule_type") in ("question", "correction", "earlier_result")
        if kind and stated and not _stated_type(target):
            target.set("type", kind, f"stated for the Brock model, turn {turn}" if turn else "stated for Brock")
        elif kind and "type" not in target.facts:
            target.set("type", kind, src)
        if isinstance(row.get("solid_component_mm"), int | float) and "solid_mm" not in target.facts:
            target.set("solid_mm", float(row["solid_component_mm"]), src)
    patient = _patient_facts(brock)
    if "risk" not in case.facts:
        smoking = patient.get("smoking_status", (None, ""))[0]
        for key, why in (("family_history", "a family history of lung cancer"), ("emphysema", "emphysema")):
            value, source = patient.get(key, (None, "default"))
            if value is True and source != "default":
                case.set("risk", "high", src, f"{why}, a Fleischner risk factor")
                break
        else:
            if smoking in ("former", "current"):
                case.set("risk", "high", src, f"{smoking} smoker")
            elif smoking == "never":
                case.set("risk", "low", src, "never smoked (and no other risk factor stated)")
    age = patient.get("age", (None, ""))[0]
    if isinstance(age, int | float) and "age" not in case.facts:
        case.set("age", float(age), src)


def thread_case(findings: list[dict[str, Any]]) -> tuple[Case, dict | None, int | None]:
    """The case the thread already describes, and the newest non-hypothetical decision (data, turn)."""
    seg_i, seg, seg_t = _latest(findings, "segment_image", lambda d: bool(d.get("lesions")))
    cls_i, cls, cls_t = _latest(findings, "classify_image")
    br_i, brock, br_t = _latest(findings, "nodule_malignancy_risk")
    dec_i, dec, dec_t = _latest(findings, "search_guidelines", lambda d: bool(d.get("case")) and not d.get("hypothetical"))
    if dec is not None and dec_i > seg_i:
        case = case_from_dict(dec["case"], dec_t)
        newer = dec_i
    else:
        case = Case(nodules=_lesion_nodules(seg, seg_t) if seg else [])
        if dec is not None:  # keep what earlier guideline answers were told about the case
            case.facts = case_from_dict(dec["case"], dec_t).facts
        newer = seg_i
    if cls is not None and (cls_i > newer or dec is None or dec_i < seg_i):
        _apply_classify(case.nodules, cls, cls_t)
    if brock is not None and (br_i > newer or dec is None or dec_i < seg_i):
        _apply_brock(case, brock, br_t)
    _apply_turn_words(case, findings, dec_i)
    return case, dec, dec_t


def _apply_turn_words(case: Case, findings: list[dict[str, Any]], after: int) -> None:
    """Case facts stated in the words of turns that ran other tools, newer than the last decision.

    "Baseline LDCT, measure the nodule" asks for a measurement, but says the exam is a baseline
    screen; the guideline question about that nodule two turns later ("solid. Lung-RADS?") should
    not have to say it again. The newest turn wins; a fact the case already holds is kept (the
    previous decision's case and the Brock inputs were stated later or more directly).
    """
    seen: set[int] = set()
    for i in range(len(findings) - 1, after, -1):
        f = findings[i]
        turn, words = f.get("turn"), f.get("question")
        if f.get("tool") == "search_guidelines" or not words or turn in seen:
            continue
        seen.add(turn)
        q = parse_question(str(words))
        for key in DECISION_CASE_FACTS:
            if key in q.case and key not in case.facts:
                case.set(key, q.case[key], f"question, turn {turn}" if turn is not None else "question",
                         q.case_detail.get(key, ""))


# --- this question -------------------------------------------------------------------------------

def _mention_nodule(m: Mention, q: QuestionFacts, src: str, index: int) -> Nodule:
    size = m.facts.get("diameter_mm") or m.facts.get("long_mm") or m.facts.get("volume_mm3")
    bounds = m.facts.get("range_mm")
    if size:
        label = f"the {size:g} {'mm3' if 'volume_mm3' in m.facts and 'diameter_mm' not in m.facts else 'mm'} nodule"
    elif bounds:
        lo, hi = bounds
        label = ("the nodules smaller than " + f"{hi:g} mm" if lo == float("-inf") else
                 f"the nodules larger than {lo:g} mm" if hi == float("inf") else f"the nodules of {lo:g}-{hi:g} mm")
    else:
        label = f"nodule {index}"
    n = Nodule(f"{label} ({src})")
    for key, value in m.facts.items():
        if key == "largest":
            continue
        if key == "type":
            value = _TYPE_ALIASES.get(value, value)
        n.set(key, value, src, unit=_UNITS.get(key, ""))
    return n


def _apply_attrs(n: Nodule, q: QuestionFacts, src: str) -> None:
    for key, value in q.attrs.items():
        if key == "type" and n.facts.get("type") is not None and n.facts["type"].source == src:
            continue  # the nodule's own type word in this question wins over a type named elsewhere in it
        value = _TYPE_ALIASES.get(value, value) if key == "type" else value
        n.set(key, value, src, q.attr_detail.get(key, ""), _UNITS.get(key, ""))
    if n.value("juxtapleural") is True and n.value("type") is None:
        n.set("type", "solid", src, "juxtapleural nodules are solid by definition")


def _targets(case: Case, q: QuestionFacts, text: str) -> list[Nodule]:
    """The known nodules a question's unsized statements refer to ("it", "both", "the larger one")."""
    import re

    if not case.nodules:
        return []
    if re.search(r"\b(?:both|all|these|those|each)\b|\bthe nodules\b", text, re.I):
        return list(case.nodules)
    if q.target == "smallest":
        return [min(case.nodules, key=_size_of)]
    return [max(case.nodules, key=_size_of)]


def _has_size(m: Mention) -> bool:
    return any(k in m.facts for k in ("diameter_mm", "long_mm", "volume_mm3", "range_mm"))


def _merge_into(n: Nodule, m: Mention, src: str, *, replace_size: bool = False) -> None:
    if replace_size:
        for key in ("long_mm", "short_mm", "mean_mm", "diameter_mm", "volume_mm3", "range_mm"):
            n.facts.pop(key, None)
    for key, value in m.facts.items():
        if key == "largest" or (key in ("diameter_mm", "long_mm", "short_mm", "volume_mm3", "range_mm")
                                and not replace_size):
            continue
        n.set(key, _TYPE_ALIASES.get(value, value) if key == "type" else value, src, unit=_UNITS.get(key, ""))


#: A new size for a nodule already described ("it grew to 9 mm", "now measures 9 mm").
_RESIZED = re.compile(r"\b(?:grew|grown|increased|enlarged|progressed)\s+(?:in size\s+)?to\b|\bnow (?:measur\w*|is|at)\b|"
                      r"\b(?:长大|增大|增长)(?:到|至)", re.I)


def _first_size_source(n: Nodule) -> str:
    for key in ("mean_mm", "long_mm", "diameter_mm", "volume_mm3"):
        if key in n.facts:
            return n.facts[key].source
    return "thread"


def gather(question: str, findings: list[dict[str, Any]]) -> Gathered:
    """The case for this question: the thread's findings, then what the question states."""
    q = parse_question(question)
    base, previous, prev_turn = thread_case(findings)
    src = "what-if in this question" if q.what_if else "question"
    case = Case(dict(base.facts), [n.copy() for n in base.nodules])
    for key, value in q.case.items():
        case.set(key, value, src, q.case_detail.get(key, ""))
    known = list(case.nodules)
    fresh: list[Nodule] = []
    touched: list[Nodule] = []
    loose: list[Mention] = []
    for m in q.mentions:
        if not _has_size(m):  # "with a 7 mm solid component", "it was 4 mm": about a known nodule
            kind = _TYPE_ALIASES.get(str(m.facts.get("type")))
            named = [n for n in known if kind is not None and n.value("type") == kind]
            # "the part-solid nodule's solid component": the known nodule of that type, else the largest
            hosts = ([max(named, key=_size_of)] if named and q.target is None else []) or \
                _targets(case, q, question) or fresh[-1:]
            if not hosts and ("solid_mm" in m.facts or "prior_mm" in m.facts):
                hosts = [_mention_nodule(m, q, src, 1)]
                fresh.extend(hosts)
            elif not hosts:
                loose.append(m)  # "a solid nodule": its words wait for a finding to attach to
            for n in hosts:
                _merge_into(n, m, src)
                touched.append(n)
            continue
        size = m.facts.get("diameter_mm") or m.facts.get("long_mm")
        ref = None if q.addition or size is None else _closest(known, size)
        if q.corrects and not q.addition and known and len(q.mentions) == 1 and size is not None:
            # "sorry, it's 9 mm not 7": the size of a nodule the thread has (the one named, else "it"), not a new one
            target = (_closest(known, q.corrected_from) if q.corrected_from is not None else None) or ref \
                or _targets(case, q, question)[0]
            _merge_into(target, m, "correction in this question", replace_size=True)
            touched.append(target)
        elif ref is not None:  # "the 11 mm nodule is new": one the thread already has
            # "was 6 mm, now 8 mm" gives its size now as well as the earlier one
            _merge_into(ref, m, src, replace_size="prior_mm" in m.facts)
            touched.append(ref)
        elif _RESIZED.search(question) and not q.addition and known and len(q.mentions) == 1:
            # "the 6-month CT shows it grew to 9 mm": the thread's nodule, with its earlier size kept as the prior
            target = _targets(case, q, question)[0]
            if target.value("prior_mm") is None and "prior_mm" not in m.facts:
                before = _size_of(target)
                if before:
                    target.set("prior_mm", round(before, 1), _first_size_source(target), "its size before this scan",
                               unit=" mm")
            _merge_into(target, m, src, replace_size=True)
            touched.append(target)
        elif q.what_if and not q.addition and known and len(q.mentions) == 1:  # "what if it were 7 mm"
            target = _targets(case, q, question)[0]
            _merge_into(target, m, src, replace_size=True)
            touched.append(target)
        else:
            fresh.append(_mention_nodule(m, q, src, len(known) + len(fresh) + 1))
    if fresh and not q.addition and not touched and not q.what_if:
        case.nodules = fresh  # a case described in full replaces the thread's nodules
    else:
        case.nodules.extend(n for n in fresh if n not in case.nodules)
    if q.alone and not q.addition and len(known) > 1:
        # "the 6 mm one on its own", "if it were the only nodule": a view of one nodule, not a change of the case
        one = touched[:1] if len(touched) == 1 else [] if q.mentions else _targets(case, q, question)[:1]
        if one:
            one[0].facts.pop("group_count", None)
            case.nodules = one
            q.what_if = True
    if q.count and q.count > 1 and len(fresh) == 1 and len(q.mentions) == 1 and case.nodules == fresh:
        # "three solid nodules, the largest 7 mm" describes a whole case; "another nodule" adds one
        fresh[0].set("group_count", q.count, src, f"{q.count} nodules" if q.count > 2 else "several nodules")
    if q.attrs:
        targets = fresh or touched or _targets(case, q, question)
        if not targets and (q.attrs.keys() & {"herder", "vdt_days", "brock", "benign", "proven_benign", "airway_level",
                                              "cyst_wall", "multilocular", "typical_perifissural"}
                            or (loose and "status" in q.attrs)):
            targets = [Nodule("the nodule (question)")]  # a finding described without a size
            case.nodules.append(targets[0])
            for m in loose:
                _merge_into(targets[0], m, src)
        for n in targets:
            _apply_attrs(n, q, src)
    _infer_exam(case)
    _carry_prior_category(case, known, q, previous, prev_turn)
    return Gathered(case, q, previous, prev_turn)


def _carry_prior_category(case: Case, known: list[Nodule], q: QuestionFacts, previous: dict[str, Any] | None,
                          turn: int | None) -> None:
    """A follow-up screen of a nodule this thread already categorised: that category is its previous one.

    "At the 6-month scan it is unchanged. Category now?" after the thread gave Lung-RADS 3 for the
    baseline screen is the "category 3 nodule, stable at the 6-month follow-up" row; the person
    should not have to repeat the category the thread itself computed. Only nodules carried over
    from the thread get it, and only when no previous category was stated.
    """
    decision = (previous or {}).get("decision") or {}
    category = decision.get("category")
    if decision.get("table") != "lung-rads-2022" or not category or case.value("exam") != "follow-up":
        return
    if "exam" not in q.case and "status" not in q.attrs:
        return  # this question describes no new scan: the previous category is not "the one before"
    for n in case.nodules:
        if n in known and n.value("prior_category") is None:
            n.set("prior_category", str(category), _where("search_guidelines", turn),
                  f"Lung-RADS {category} given earlier in this thread")


def _infer_exam(case: Case) -> None:
    """A new or growing nodule, or a prior size, means the exam is a follow-up screen."""
    if "exam" in case.facts:
        return
    for n in case.nodules:
        status = n.facts.get("status")
        if n.value("prior_mm") is not None or (status is not None and status.value in ("new", "growing", "slow-growing")):
            why = "a prior size is given" if n.value("prior_mm") is not None else f"the nodule is {status.value}"
            case.set("exam", "follow-up", status.source if status else n.facts["prior_mm"].source,
                     f"{why}, so this is not the baseline screen")
            return


# --- describing the case (case-aware retrieval) and what changed ---------------------------------

def case_summary(case: Case) -> str:
    """Retrieval text for the case: "solid nodule 12 mm; 2 nodules; Brock 8%; high-risk; baseline screening"."""
    parts = []
    for n in sorted(case.nodules, key=_size_of, reverse=True)[:3]:
        kind = n.value("type")
        kind = "subsolid" if isinstance(kind, frozenset) else (kind or "")
        size = _size_of(n)
        parts.append(f"{kind} nodule {size:.0f} mm".strip() if size else f"{kind} nodule".strip())
        if n.value("solid_mm") is not None:
            parts.append(f"solid component {float(n.value('solid_mm')):.0f} mm")
        if n.value("brock") is not None:
            parts.append(f"Brock {float(n.value('brock')):.0f}%")
        if isinstance(n.value("status"), str):
            parts.append(f"{n.value('status')} nodule")
    count = sum(int(n.value("group_count") or 1) for n in case.nodules)
    if count > 1:
        parts.append(f"{count} nodules multiple")
    elif count == 1:
        parts.append("single nodule")
    for key, text in (("risk", "{}-risk patient"), ("exam", "{} screening"), ("setting", "{}")):
        v = case.value(key)
        if isinstance(v, str):
            parts.append(text.format(v))
    return "; ".join(parts)


_CHANGE_NAMES = {"risk": "the patient's risk", "exam": "baseline or follow-up", "setting": "the setting",
                 "nodules": "the number of nodules", "type": "the nodule type", "size": "the nodule size",
                 "solid_mm": "the solid component", "status": "new, growing or stable", "brock": "the Brock probability",
                 "herder": "the Herder probability", "vdt_days": "the volume doubling time",
                 "persistent": "persistence", "spiculated": "spiculation", "lymphadenopathy": "enlarged lymph nodes",
                 "age": "age", "prior_category": "the previous category"}
_READS = {"size": {"size", "multiple"}, "solid_mm": {"solid"}, "nodules": {"multiple"}}


def _primary(case: Case) -> Nodule | None:
    return max(case.nodules, key=_size_of) if case.nodules else None


def what_changed(decision: dict[str, Any], g: Gathered) -> str | None:
    """How this answer relates to the thread's previous one of the same guideline, or None."""
    prev = g.previous or {}
    pd = prev.get("decision") or {}
    if not pd or pd.get("table") != decision["table"] or not prev.get("case"):
        return None
    old = case_from_dict(prev["case"], g.previous_turn)
    changed: list[str] = []
    for key in sorted(set(old.facts) | set(g.case.facts)):
        a, b = old.facts.get(key), g.case.facts.get(key)
        if (a.text() if a else None) != (b.text() if b else None) and key in _CHANGE_NAMES:
            changed.append(key)
    if len(old.nodules) != len(g.case.nodules):
        changed.append("nodules")
    po, pn = _primary(old), _primary(g.case)
    if po is not None and pn is not None:
        if abs(_size_of(po) - _size_of(pn)) > 0.05:
            changed.append("size")
        for key in ("type", "solid_mm", "status", "brock", "herder", "vdt_days", "persistent", "spiculated"):
            a, b = po.facts.get(key), pn.facts.get(key)
            if (a.text() if a else None) != (b.text() if b else None):
                changed.append(key)
    if not g.question.what_if and not changed:
        return None
    when = f" (turn {g.previous_turn})" if g.previous_turn is not None else ""
    names = [_CHANGE_NAMES.get(k, k) for k in changed]
    if (pd.get("row_id"), pd.get("category")) == (decision["row_id"], decision.get("category")):
        reads = set(decision.get("depends_on") or [])
        unread = [_CHANGE_NAMES.get(k, k) for k in changed if not (_READS.get(k, {k}) & reads)]
        if unread:
            return (f"Same row as the previous answer{when}: this row does not depend on {', '.join(unread)}, so the "
                    f"change does not alter the recommendation.")
        if changed:
            return f"Same row as the previous answer{when}: the change ({', '.join(names)}) stays within this row."
        return f"Same row as the previous answer{when}: none of the facts this row reads changed."
    when = f" (turn {g.previous_turn}: " if g.previous_turn is not None else " ("
    return (f"Changed from the previous answer{when}{pd.get('label')} — {pd.get('management')}) because of "
            f"{', '.join(names) or 'the facts stated now'}.")
