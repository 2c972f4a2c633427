"""The nodule case a Brock call works on: the patient, every nodule and the count, each fact with its source.

Built from, in order of precedence: this turn's question; an image analysed after the last risk
result (``segment_image`` lesions with their ``classify_image`` characterisation); the case of the
last ``nodule_malignancy_risk`` result in the thread; and, for facts still unknown, the model's
assumed values (shown as assumptions). A question that adds a nodule ("also a 5 mm solid nodule in
the LLL") appends it and updates the count; one that restates a single nodule updates the index
nodule; a new patient (age, sex and a nodule size all stated) starts a new case.

Entries have the public shape of ``inputs``: ``{"name", "value", "source", "evidence"}`` plus
``note`` (why a value is assumed or unsettled), ``nodule`` (which nodule, when there are several)
and ``origin`` (where an ``earlier_result`` fact came from first).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tools.base import ToolContext
from tools.facts.nodules import NoduleText, read_nodules
from tools.facts.patient import read_age, read_emphysema, read_family_history, read_sex, read_smoking
from tools.facts.text import Fact, normalise

Entry = dict[str, Any]
PATIENT = ("age", "sex", "family_history", "emphysema")
NODULE = ("nodule_size_mm", "nodule_type", "upper_lobe", "spiculation")
NODULE_CONTEXT = ("lobe", "solid_component_mm", "mean_diameter_mm")


@dataclass
class Case:
    """Patient-level entries (``age`` … ``nodule_count``, ``smoking_status``) and one dict of entries per nodule."""

    patient: dict[str, Entry] = field(default_factory=dict)
    nodules: list[dict[str, Entry]] = field(default_factory=list)
    index: int = 0  # position in ``nodules`` of the nodule the last result found most suspicious
    warnings: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {"patient": copy.deepcopy(self.patient), "nodules": copy.deepcopy(self.nodules), "index": self.index}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Case:
        return cls(copy.deepcopy(data.get("patient") or {}), copy.deepcopy(data.get("nodules") or []),
                   int(data.get("index") or 0))


def entry(f: Fact, source: str | None = None) -> Entry:
    e = f.as_input()
    if source:
        e["source"] = source
    return e


def _latest(ctx: ToolContext, tool: str) -> tuple[int, dict | None]:
    for i in range(len(ctx.findings) - 1, -1, -1):
        if ctx.findings[i].get("tool") == tool:
            return i, ctx.findings[i].get("data")
    return -1, None


def _legacy_case(data: dict[str, Any]) -> Case:
    """A result written before cases were stored (``inputs`` a dict, ``sources`` a dict)."""
    inputs, sources = data.get("inputs") or {}, data.get("sources") or {}
    case = Case()
    for k in (*PATIENT, "nodule_count"):
        if k in inputs and sources.get(k) != "default":
            case.patient[k] = {"name": k, "value": inputs[k], "source": sources.get(k, "question"), "evidence": ""}
    case.nodules = [{k: {"name": k, "value": inputs[k], "source": sources.get(k, "question"), "evidence": ""}
                     for k in NODULE if k in inputs and sources.get(k) != "default"}]
    return case


def earlier(entries: dict[str, Entry]) -> dict[str, Entry]:
    """Entries carried over from an earlier turn: source ``earlier_result``. Assumptions are not carried
    (they are assumed afresh) unless the clinician confirmed them (``confirmed``)."""
    out = {}
    for k, e in entries.items():
        if e.get("source") == "default" and not e.get("confirmed"):
            continue
        e = dict(e)
        if e["source"] != "earlier_result":
            e["origin"], e["source"] = e["source"], "earlier_result"
        out[k] = e
    return out


def image_nodules(ctx: ToolContext) -> tuple[list[dict[str, Entry]], list[str]]:
    """One nodule per segmented lesion, with its characterisation (matched by lesion id)."""
    from specialists.clinical.brock import SIZE_RANGE_MM

    seg, cls = ctx.latest_finding("segment_image") or {}, ctx.latest_finding("classify_image") or {}
    seg_lesions, cls_lesions = seg.get("lesions") or [], cls.get("lesions") or []
    lesions = seg_lesions or cls_lesions
    nodules, warnings = [], []
    for i, les in enumerate(lesions):
        lid = les.get("id", i + 1)
        long_axis, mean = les.get("long_axis_mm"), les.get("mean_diameter_mm")
        size = long_axis if long_axis is not None else mean
        tool = "segment_image" if seg_lesions else "classify_image"
        n: dict[str, Entry] = {}
        if size is not None:
            size = float(size)
            if not SIZE_RANGE_MM[0] <= size <= SIZE_RANGE_MM[1]:
                warnings.append(f"Lesion {lid} ({size:.0f} mm) is outside what the Brock model accepts (1-100 mm) "
                                "and was left out.")
                continue
            what = "long axis" if long_axis is not None else "mean diameter"
            n["nodule_size_mm"] = {"name": "nodule_size_mm", "value": size, "source": tool,
                                   "evidence": f"lesion {lid} {what} {size:.1f} mm"}
        if mean is not None:
            n["mean_diameter_mm"] = {"name": "mean_diameter_mm", "value": float(mean), "source": tool,
                                     "evidence": f"lesion {lid} mean diameter {float(mean):.1f} mm"}
        if les.get("upper_lobe") is not None:
            half = "upper" if les["upper_lobe"] else "lower"
            n["upper_lobe"] = {"name": "upper_lobe", "value": bool(les["upper_lobe"]), "source": tool,
                               "evidence": f"lesion {lid} in the {half} half of the lungs",
                               "note": "image position, not lobe anatomy; confirm the lobe"}
        char = next((c for c in cls_lesions if c.get("id", None) == lid), None)
        if char is None and len(cls_lesions) == len(lesions):
            char = cls_lesions[i]
        if char is not None:
            if char.get("type"):
                n["nodule_type"] = {"name": "nodule_type", "value": char["type"], "source": "classify_image",
                                    "evidence": f"lesion {lid} classified {char['type']}"}
            if char.get("spiculated") is not None:
                word = "spiculated" if char["spiculated"] else "not spiculated"
                n["spiculation"] = {"name": "spiculation", "value": bool(char["spiculated"]), "source": "classify_image",
                                    "evidence": f"lesion {lid} classified {word}"}
        for e in n.values():
            e["lesion"] = lid
        nodules.append(n)
    return nodules, warnings


def prior_case(ctx: ToolContext) -> tuple[Case | None, dict | None]:
    """The thread's case before this turn, and the last Brock result's data (None if there is none)."""
    at, data = _latest(ctx, "nodule_malignancy_risk")
    case = None
    if data:
        case = Case.from_data(data["case"]) if isinstance(data.get("case"), dict) else _legacy_case(data)
        case.patient = earlier(case.patient)
        case.nodules = [earlier(n) for n in case.nodules]
    image_at = max(_latest(ctx, "segment_image")[0], _latest(ctx, "classify_image")[0])
    if image_at > at:  # an image analysed after the last result describes the nodules now
        nodules, warnings = image_nodules(ctx)
        if nodules:
            case = case or Case()
            case.nodules, case.index, case.warnings = nodules, 0, warnings
            tool = "segment_image" if (ctx.latest_finding("segment_image") or {}).get("lesions") else "classify_image"
            case.patient["nodule_count"] = {"name": "nodule_count", "value": len(nodules), "source": tool,
                                            "evidence": f"{len(nodules)} lesion{'s' if len(nodules) != 1 else ''} found"}
    return case, data


@dataclass
class Reading:
    """What this turn's question says."""

    patient: dict[str, Fact]
    nodules: NoduleText
    text: str


def read_question(question: str) -> Reading:
    t = normalise(question)
    facts = {f.name: f for f in (read_age(t), read_sex(t), read_family_history(t), read_emphysema(t),
                                 read_smoking(t)) if f is not None}
    return Reading(facts, read_nodules(t), t)


def merge_nodule(target: dict[str, Entry], facts: dict[str, Fact], source: str = "question") -> list[str]:
    """Overwrite ``target``'s entries with the facts read; return the names whose value changed."""
    changed = []
    for name, f in facts.items():
        old = target.get(name)
        if f.value is None and old is not None and old.get("value") is not None:
            continue  # "subsolid" does not undo a settled type
        if old is None or old.get("value") != f.value:
            changed.append(name)
        target[name] = entry(f, source)
    return changed


# --- assembling this turn's case ---------------------------------------------------------------------------

@dataclass
class Assembled:
    """The case this turn runs on, the actual case (differs only for a "what if") and the what-if's parts."""

    case: Case
    actual: Case
    hypothetical: bool = False
    not_inputs: list[Fact] = field(default_factory=list)
    evidence: str = ""
    unsettled: dict[str, str] = field(default_factory=dict)  # name -> why the text does not settle it


def _count_entry(value: int, f: Fact | None, source: str, evidence: str = "", note: str | None = None) -> Entry:
    e: Entry = {"name": "nodule_count", "value": value, "source": source,
                "evidence": evidence or (f.evidence if f else "")}
    if note:
        e["note"] = note
    return e


def assemble(question: str, ctx: ToolContext) -> Assembled:
    """This turn's case: the question's facts over the thread's (see the module docstring)."""
    from tools.facts.hypothetical import age_change, not_input_mentions, what_if

    r = read_question(question)
    prior, prior_data = prior_case(ctx)
    hypo = what_if(r.text) if prior_data else None
    nt = r.nodules
    anchored = [n for n in nt.nodules if "nodule_size_mm" in n]
    new_case = not hypo and not nt.additive and {"age", "sex"} <= r.patient.keys() and bool(anchored)
    case = Case() if prior is None or new_case else prior
    actual = copy.deepcopy(case)
    src = "what_if" if hypo else "question"
    out = Assembled(case, actual, hypothetical=bool(hypo), evidence=hypo.group() if hypo else "")

    for name, f in r.patient.items():
        if f.value is None:
            out.unsettled[name] = f.note or "not settled"
            continue
        if hypo and (name == "smoking_status" or f.source == "default"):
            continue  # not Brock inputs: reported as such below
        if name == "sex" and f.weak and "sex" in case.patient:
            continue  # "she" / "he" in a follow-up does not restate the sex
        if f.source == "default" and name in case.patient:
            continue  # COPD does not undo emphysema stated before
        case.patient[name] = entry(f, None if f.source == "default" else src)
    if not hypo:  # a patient record attached to the thread fills what the question leaves out
        from tools.record_facts import fill_from_record

        case.warnings = list(getattr(case, "warnings", None) or []) + fill_from_record(
            case.patient, ctx, ("age", "sex", "family_history", "emphysema", "smoking_status"))
    if hypo and "age" in case.patient and (change := age_change(r.text)):
        delta, f = change
        case.patient["age"] = {"name": "age", "value": float(case.patient["age"]["value"]) + delta,
                               "source": "what_if", "evidence": f.evidence}

    prior_nodules = len(case.nodules)
    if anchored and nt.additive and case.nodules:
        case.nodules += [{k: entry(f, src) for k, f in n.items()} for n in nt.nodules]
    elif len(nt.nodules) == 1 and case.nodules:
        merge_nodule(case.nodules[case.index], nt.nodules[0], src)
    elif nt.nodules:
        case.nodules, case.index = [{k: entry(f, src) for k, f in n.items()} for n in nt.nodules], 0
    for n in case.nodules:
        t = n.get("nodule_type")
        if t is not None and t.get("value") is None:
            out.unsettled["nodule_type"] = t.get("note") or "not settled"

    cnt, described = nt.count, len(case.nodules)
    prev = case.patient.get("nodule_count")
    if cnt is not None and cnt.value is None:
        out.unsettled["nodule_count"] = cnt.note or "not settled"
        case.patient.pop("nodule_count", None)
    elif nt.additive and prior_nodules and anchored:
        added = max(len(anchored), (cnt.value - 1) if cnt is not None and cnt.extra.get("relative") else 0)
        before = int(prev["value"]) if prev else prior_nodules
        total = max(before, prior_nodules + added)
        if cnt is not None and not cnt.extra.get("relative"):
            total = max(int(cnt.value), described)
        note = (f"{before} nodules were counted before; confirm whether the new one is among them"
                if before > prior_nodules else None)
        added_text = anchored[0]["nodule_size_mm"].evidence
        case.patient["nodule_count"] = _count_entry(
            total, None, src, f"{prior_nodules} earlier + {added} added ('{added_text}')", note)
    elif cnt is not None:
        value = int(cnt.value)
        if cnt.extra.get("relative") and not anchored and prev is not None:
            value = int(prev["value"]) + value - 1  # "there are two further nodules" adds to the thread's count
        value = max(value, described)
        case.patient["nodule_count"] = _count_entry(value, cnt, src, note=cnt.note)
    elif described > 1 and (prev is None or int(prev["value"]) < described):
        case.patient["nodule_count"] = _count_entry(described, None, src, f"{described} nodules described")

    if hypo:
        out.not_inputs = not_input_mentions(r.text)
    return out


def brock_follow_up(question: str, findings: list[dict[str, Any]]) -> str | None:
    """Whether this turn changes the inputs of the thread's Brock result, for routing follow-ups.

    Returns ``"what_if"`` ("and if she were a current smoker?", "如果结节有毛刺呢？"), ``"new_nodule"``
    ("also a 5 mm solid nodule in the LLL"), ``"facts"`` (a fact the model takes is restated:
    "actually she is 65, and it's part-solid") or None; always None when the thread has no Brock
    result. The router can send these to ``nodule_malignancy_risk`` (the tool then re-runs the model
    per nodule, or says why a changed fact is not an input).
    """
    from tools.facts.hypothetical import what_if

    if not any(f.get("tool") == "nodule_malignancy_risk" for f in findings):
        return None
    r = read_question(question)
    if what_if(r.text):
        return "what_if"
    anchored = [n for n in r.nodules.nodules if "nodule_size_mm" in n]
    if anchored and r.nodules.additive:
        return "new_nodule"
    model_facts = {k for k in r.patient if k in PATIENT and r.patient[k].value is not None and not r.patient[k].weak}
    if model_facts or any(set(n) & set(NODULE) for n in r.nodules.nodules) or r.nodules.count is not None:
        return "facts"
    return None
