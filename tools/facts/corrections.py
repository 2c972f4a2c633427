"""The clinician's reply to a confirmation card: accept, or correct facts in plain words.

:func:`apply_corrections` is what the agent's confirmation step (LangGraph ``interrupt()``) calls
with the reply: "yes" / "looks right" / "确认" accepts; "actually she is 65", "it is part-solid",
"no emphysema", "65 and part-solid", "年龄65岁，部分实性" correct one or several facts, read by the
same readers as the question. A reply that corrects nothing recognisable is answered with the
facts it can take, so the step can ask again once.
"""

from __future__ import annotations

import re
from typing import Any

from tools.facts.breast import (
    read_er_status,
    read_estrogen_fmol,
    read_grade,
    read_menopausal_status,
    read_positive_nodes,
    read_progesterone_fmol,
    read_tumour_size_mm,
)
from tools.facts.nodules import read_nodules
from tools.facts.patient import read_age, read_emphysema, read_family_history, read_sex
from tools.facts.text import LABELS, Fact, normalise

_ACCEPT = re.compile(
    r"^\W*(?:yes|yep|yeah|yup|y|ok|okay|k|fine|correct|confirm(?:ed)?|accept(?:ed)?|agreed?|sure|lgtm|proceed|go\s+ahead|"
    r"(?:that'?s|that\s+is|it'?s|all|everything(?:'s|\s+is)?)?\s*(?:all\s+)?(?:right|correct|fine|good)|"
    r"looks?\s+(?:right|good|correct|fine|ok(?:ay)?)|是|是的|对|对的|好|好的|确认|没问题|正确|可以|无误|没错)"
    r"(?:[\s,.!]+(?:thanks?|thank\s+you|please|go\s+ahead|proceed|谢谢))*\W*$", re.IGNORECASE)

#: The facts each tool's card shows, in the order the "which facts I can take" answer lists them.
TOOL_FACTS: dict[str, tuple[str, ...]] = {
    "nodule_malignancy_risk": ("age", "sex", "family_history", "emphysema", "nodule_size_mm", "nodule_type",
                               "upper_lobe", "nodule_count", "spiculation"),
    "clinical_risk": ("age", "er_positive", "grade", "size_cm"),
    "treatment_benefit": ("age", "menopausal_status", "tumour_size_mm", "grade", "positive_nodes",
                          "progesterone_fmol", "estrogen_fmol"),
}
_ZH_LABELS = {"age": "年龄", "sex": "性别", "family_history": "肺癌家族史", "emphysema": "CT肺气肿",
              "nodule_size_mm": "结节大小(毫米)", "nodule_type": "结节类型(实性/部分实性/磨玻璃)",
              "upper_lobe": "是否位于上叶", "nodule_count": "结节数", "spiculation": "毛刺", "er_positive": "ER状态",
              "grade": "分级", "size_cm": "肿瘤大小", "tumour_size_mm": "肿瘤大小", "menopausal_status": "绝经状态",
              "positive_nodes": "阳性淋巴结数", "progesterone_fmol": "PR (fmol/mg)", "estrogen_fmol": "ER (fmol/mg)"}
_EN_LABELS = {"nodule_size_mm": "nodule size (mm)", "nodule_type": "nodule type (solid, part-solid or ground-glass)",
              "upper_lobe": "upper-lobe location", "spiculation": "spiculation", "size_cm": "tumour size (cm)",
              "tumour_size_mm": "tumour size (mm)", "er_positive": "ER status", "grade": "grade (1-3)",
              "progesterone_fmol": "PR (fmol/mg)", "estrogen_fmol": "ER (fmol/mg)"}
_RANGES = {"age": (18.0, 110.0), "nodule_size_mm": (1.0, 100.0), "nodule_count": (1, 100), "grade": (1, 3),
           "tumour_size_mm": (1.0, 200.0), "size_cm": (0.1, 20.0), "positive_nodes": (0, 60)}
_TARGET = re.compile(r"\bnodule\s*#?\s*(?P<n>\d)\b|\b(?P<o>first|second|third|fourth)\s+(?:nodule|one)\b|"
                     r"第(?P<z>[一二三四1234])(?:个|枚)?结节|(?P<zz>[1234])号结节", re.IGNORECASE)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "一": 1, "二": 2, "三": 3, "四": 4}
_BARE_AGE = re.compile(r"(?<![\d.\w])(?P<n>\d{2,3})(?![\d.])(?!\s*(?:mm|cm|%|毫米|厘米|nodules?|fmol|个|枚|/|x\s*\d))")
_BARE_SIZE = re.compile(r"\bsize\s*(?:is|:|=|of)?\s*(?P<n>\d+(?:\.\d+)?)\b(?!\s*(?:cm|mm))", re.IGNORECASE)


def _read(tool: str, text: str) -> list[Fact]:
    """Every fact the reply states that the tool's card shows."""
    found: list[Fact] = []
    age = read_age(text)
    if age is None and (m := _BARE_AGE.search(text)) and 18 <= int(m.group("n")) <= 110:
        age = Fact("age", float(m.group("n")), m.group(), m.start(), m.end())
    found += [f for f in (age,) if f is not None]
    if tool == "nodule_malignancy_risk":
        sex = read_sex(text)
        found += [f for f in (sex, read_family_history(text), read_emphysema(text)) if f is not None]
        nt = read_nodules(text)
        if nt.nodules:
            found += [f for f in nt.nodules[0].values() if f.name in TOOL_FACTS[tool]]
        elif m := _BARE_SIZE.search(text):
            found.append(Fact("nodule_size_mm", float(m.group("n")), m.group(), m.start(), m.end()))
        if nt.count is not None:
            found.append(nt.count)
    else:
        readers = {"er_positive": read_er_status, "grade": read_grade, "menopausal_status": read_menopausal_status,
                   "positive_nodes": read_positive_nodes, "progesterone_fmol": read_progesterone_fmol,
                   "estrogen_fmol": read_estrogen_fmol}
        for name, reader in readers.items():
            if name in TOOL_FACTS[tool] and (f := reader(text)) is not None:
                found.append(f)
        if (f := read_tumour_size_mm(text)) is not None:
            if tool == "clinical_risk":
                f = Fact("size_cm", round(f.value / 10, 4), f.evidence, f.start, f.end)
            found.append(f)
    return found


def _labels(tool: str, chinese: bool) -> str:
    names = TOOL_FACTS.get(tool, ())
    if chinese:
        return "、".join(_ZH_LABELS.get(n, n) for n in names)
    return ", ".join(_EN_LABELS.get(n) or LABELS.get(n, n.replace("_", " ")) for n in names)


def _unrecognised(tool: str, reply: str, why: str | None = None) -> str:
    chinese = bool(re.search(r"[\u4e00-\u9fff]", reply))
    if chinese:
        return (why or f"未能从“{reply.strip()[:80]}”中读出更正。") + \
            f"回复“是”确认；或用一句话更正以下任一项：{_labels(tool, True)}（例如“年龄65岁”“部分实性”）。"
    return (why or f"I could not read a correction in {reply.strip()[:80]!r}.") + \
        f" Reply 'yes' to accept, or correct any of: {_labels(tool, False)} (e.g. 'actually she is 65', " \
        "'it is part-solid', 'no emphysema')."


def apply_corrections(tool_name: str, inputs: list[dict[str, Any]],
                      reply_text: str) -> tuple[list[dict[str, Any]], list[str], str | None]:
    """Apply the clinician's reply to the facts shown for confirmation.

    Args:
        tool_name: ``nodule_malignancy_risk``, ``clinical_risk`` or ``treatment_benefit``.
        inputs: the ``inputs`` list shown (``{"name", "value", "source", "evidence"}`` entries; a
            ``nodule`` key when there are several nodules).
        reply_text: the reply, in English or Chinese.

    Returns:
        ``(new_inputs, changed_names, unrecognised_reason)``. Accepting ("yes", "looks right", "确认")
        returns the inputs with ``confirmed: True`` added, ``[]`` and None. A correction returns new entries for the
        changed facts (``source`` "correction", ``evidence`` the reply's words, ``previous`` the old
        value; every entry ``confirmed: True``), the names that changed and None. A reply that corrects nothing recognisable (or
        gives an impossible value) returns the inputs unchanged, ``[]`` and a sentence saying which
        facts it can take, in the reply's language.
    """
    if tool_name not in TOOL_FACTS:
        raise ValueError(f"No confirmation card for tool {tool_name!r}.")
    text = normalise(reply_text or "")
    if _ACCEPT.match(text):
        return confirmed(inputs), [], None
    facts = [f for f in _read(tool_name, text) if f.value is not None]
    if not facts:
        return [dict(e) for e in inputs], [], _unrecognised(tool_name, reply_text)
    for f in facts:
        lo_hi = _RANGES.get(f.name)
        if lo_hi and isinstance(f.value, int | float) and not isinstance(f.value, bool) and not lo_hi[0] <= f.value <= lo_hi[1]:
            label = LABELS.get(f.name, f.name.replace("_", " "))
            return [dict(e) for e in inputs], [], _unrecognised(
                tool_name, reply_text, f"{label.capitalize()} {f.value:g} is outside what the model accepts "
                                       f"({lo_hi[0]:g}-{lo_hi[1]:g}).")
    nodules = sorted({e["nodule"] for e in inputs if e.get("nodule") is not None})
    target = nodules[0] if nodules else None
    if nodules and (m := _TARGET.search(text)):
        token = m.group("n") or m.group("zz") or _ORDINAL.get((m.group("o") or m.group("z") or "").lower()) or m.group("z")
        wanted = int(token) if str(token).isdigit() else None
        if wanted in nodules:
            target = wanted
    new = [dict(e) for e in inputs]
    changed: list[str] = []
    known_sex = any(e["name"] == "sex" and e.get("value") is not None for e in inputs)
    for f in facts:
        if f.name == "sex" and f.weak and known_sex:
            continue  # "she is 65" corrects the age; the pronoun does not restate a sex already given
        per_nodule = f.name in ("nodule_size_mm", "nodule_type", "upper_lobe", "spiculation")
        where = target if per_nodule else None
        at = next((i for i, e in enumerate(new) if e["name"] == f.name and e.get("nodule") == where), None)
        old = new[at]["value"] if at is not None else None
        entry = {"name": f.name, "value": f.value, "source": "correction", "evidence": f.evidence or reply_text.strip()}
        if f.note:
            entry["note"] = f.note
        if where is not None:
            entry["nodule"] = where
        if at is None:
            new.append(entry)
        elif old != f.value or new[at].get("source") == "default":
            new[at] = {**entry, "previous": old}
        else:
            continue
        if f.name not in changed:
            changed.append(f.name)
    return confirmed(new), changed, None


def confirmed(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inputs marked ``confirmed`` (the clinician saw them and accepted or corrected them): later
    turns carry a confirmed assumption as a fact instead of assuming it again."""
    return [dict(e, confirmed=True) for e in inputs]
