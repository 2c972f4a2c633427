"""The templated answer in Chinese, for a question written in Chinese (:func:`agent.i18n.answer_language`).

The same answer as :func:`agent.compose.template_answer`, line for line, with the same tool calls,
numbers, units and ``[n]`` citations:

- each tool's facts: a line a rule of ``agent/data/answer_zh.yaml`` renders is shown in Chinese
  (its numbers copied); the model inputs are written from the tool's structured ``inputs``; any
  other line is shown in English as the tool wrote it, never dropped;
- a computed guideline decision: its row and management from the decision's data
  (``label``/``management``/``category``), then how it was reached; the quoted rule stays in
  its source language;
- retrieved passages: each quoted sentence in its source language, followed by a Chinese
  one-line summary written by the template (:func:`agent.i18n.gloss`), or, when a sentence has
  words the template cannot render, the sentence's numbers with their Chinese units;
- missing facts, errors, routing notes and warnings in Chinese.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from agent.i18n import assumption, data, gloss, missing_fact, render_line, render_warning, same_numbers


def _t(key: str) -> str:
    return str(data()[key])


def title(name: str) -> str:
    return str((data().get("titles") or {}).get(name, name))


# --- tool facts ----------------------------------------------------------------------------------

def _input_zh(e: dict[str, Any]) -> str:
    """One model input in Chinese: "年龄 62 ← '62岁'", "肺气肿 否（假定：CT未见肺气肿；请确认）"."""
    cfg = data()["inputs"]
    name, value = str(e.get("name", "")), e.get("value")
    label = cfg["labels"].get(name, name.replace("_", " "))
    if isinstance(value, bool):
        shown = f"{label} {cfg['yes'] if value else cfg['no']}"
    elif name == "sex":
        shown = str(cfg["values"].get(str(value), value))
    elif isinstance(value, float):
        unit = " mm" if name.endswith("_mm") else {"size_cm": " cm", "progesterone_fmol": " fmol/mg",
                                                   "estrogen_fmol": " fmol/mg"}.get(name, "")
        shown = f"{label} {value:g}{unit}"
    else:
        shown = f"{label} {cfg['values'].get(str(value), value)}"
    if e.get("nodule") is not None:
        shown = f"{cfg['nodule']}{e['nodule']} {shown}"
    source = e.get("source", "")
    if source == "default":
        return f"{shown}（假定：{assumption(str(e.get('note') or '未说明'))}；请确认）"
    tag = cfg["sources"].get(source, "") if source != "question" else ""
    tag = f"（{tag}）" if tag else ""
    evidence = e.get("evidence") or ""
    return f"{shown} ← '{evidence}'{tag}" if evidence else shown + tag


def _inputs_line(en: str, result: dict[str, Any], call: dict[str, Any]) -> str | None:
    entries = (result.get("data") or {}).get("inputs") or (call.get("arguments") or {}).get("inputs") or []
    if not entries:
        return None
    zh = f"{data()['inputs']['head']}：" + "；".join(_input_zh(e) for e in entries) + "。"
    return zh if same_numbers(en, zh) else None


def fact_lines(call: dict[str, Any]) -> list[str]:
    """A successful call's facts, each in Chinese where a rule renders it, else as the tool wrote it."""
    result = call.get("result") or {}
    facts = result.get("facts") or ([result["summary"]] if result.get("summary") else [])
    out = []
    for f in facts:
        zh = _inputs_line(f, result, call) if f.startswith("Inputs: ") else render_line(f)
        out.append(zh or f)
    return out


def warning_line(w: str) -> str:
    return render_warning(w) or w


# --- guideline decisions -------------------------------------------------------------------------

def table_rows(table: Any) -> list[Any]:
    """Every row of a decision table (all its row lists)."""
    return [r for key in ("not_applicable", "rows", "exam_rows", "nodule_rows") for r in getattr(table, key, None) or []]


@lru_cache(maxsize=1)
def _row_texts() -> dict[str, str]:
    """English row and category wording -> the project's Chinese (``rows_zh.yaml``), where the numbers agree."""
    from knowledge.decisions.tables import load_table

    raw = yaml.safe_load(resources.files("agent.data").joinpath("rows_zh.yaml").read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for table_id, rows in raw.items():
        table = load_table(table_id)
        by_id = {r.id: r for r in table_rows(table)}
        for key, fields in rows.items():
            if key.startswith("category "):
                cat = (getattr(table, "categories", None) or {}).get(key.split(" ", 1)[1])
                english = {"name": getattr(cat, "name", None), "management": getattr(cat, "management", None)}
            else:
                row = by_id.get(key)
                english = {"label": getattr(row, "label", None), "management": getattr(row, "management", None)}
            for field, zh in (fields or {}).items():
                en = english.get(field)
                if en and same_numbers(str(en), str(zh)):
                    out[str(en).strip()] = str(zh)
    return out


def phrase_zh(english: str) -> str | None:
    """A guideline row, category or management in Chinese: the project's row wording, else the phrase
    rules; None when neither renders it."""
    return _row_texts().get(english.strip()) or gloss(english)


def _headline(decision: dict[str, Any], english: str) -> str:
    """The decision's row in Chinese, from its data; the English headline when a part cannot be rendered."""
    head = str(decision.get("headline", ""))
    label, management = str(decision.get("label", "")), str(decision.get("management", ""))
    zh = None
    m = re.match(r"^(?P<g>.+?) category (?P<c>\S+) \((?P<name>.+)\): (?P<m>.*)$", head)
    if decision.get("category") and m:
        name, mg = phrase_zh(m.group("name")), phrase_zh(m.group("m"))
        if name and mg:
            zh = f"{m.group('g')} {m.group('c')}类（{name}）：{mg} [1]。"
    elif (m := re.match(r"^(?P<g>.+?) does not apply: (?P<label>.+)$", head)) and phrase_zh(m.group("label")):
        zh = f"{m.group('g')} 不适用：{phrase_zh(m.group('label'))} [1]。"
    elif label and management and head.endswith(f"{label}: {management}"):
        g, lab, mg = head[: -len(f", {label}: {management}")], phrase_zh(label), phrase_zh(management)
        if lab and mg:
            zh = f"{g}，{lab}：{mg} [1]。"
    return zh if zh and same_numbers(english, zh) else english


def _reason_value(value: str) -> str | None:
    cfg = data()["reasons"]
    if value in cfg["values"]:
        return str(cfg["values"][value])
    for rule in cfg["rules"]:
        m = re.fullmatch(rule["en"], value)
        if m:
            parts = {}
            for k, v in m.groupdict().items():
                v = v or ""
                parts[k] = (_reason_value(v) or v) if k == "b" else cfg["values"].get(v, v) if k == "v" else v
            return str(rule["zh"]).format(**parts)
    return gloss(value)


_NODULE_NAMES = (
    (re.compile(r"lesion (\d+) \(([\d.]+) mm, segment_image\)"), "病灶{0}（{1} mm，图像分割）"),
    (re.compile(r"the ([\d.]+) mm nodule \((question|what-if in this question)\)"), "{0} mm 结节（{1}）"),
    (re.compile(r"the nodules? (smaller|larger) than ([\d.]+) mm \((question|what-if in this question)\)"),
     "{0}{1} mm 的结节（{2}）"),
)
_NAME_WORDS = {"question": "问题", "what-if in this question": "本问题中的假设", "smaller": "小于", "larger": "大于"}


def _nodules_reason(line: str) -> str | None:
    """ "Used: nodules: 2 — lesion 1 (...); the 4 mm nodule (question); management is guided by the
    most suspicious nodule." in Chinese; None when a nodule's name is not one the rules know."""
    m = re.fullmatch(r"Used: nodules: (?P<n>\d+|several \(number not stated\)) — (?P<names>.+?)[;.] "
                     r"management is guided by the most suspicious nodule\.", line.strip())
    if not m:
        return None
    names = []
    for name in m.group("names").split("; "):
        for pattern, zh in _NODULE_NAMES:
            got = pattern.fullmatch(name)
            if got:
                names.append(zh.format(*(_NAME_WORDS.get(g, g) for g in got.groups())))
                break
        else:
            return None
    count = m.group("n") if m.group("n").isdigit() else "多个（未说明数目）"
    zh = f"依据：结节：{count} — {'；'.join(names)}；处理以最可疑的结节为准。"
    return zh if same_numbers(line, zh) else None


def _reason(line: str) -> str | None:
    """ "Used: size: 7 mm (...) — question." in Chinese; None when a part cannot be rendered."""
    if line.startswith("Used: nodules: "):
        return _nodules_reason(line)
    cfg = data()["reasons"]
    m = re.fullmatch(r"Used: (?P<k>[^:]+): (?P<v>.+?)(?: — (?P<src>[^—]+))?\.", line.strip())
    if not m or m.group("k") not in cfg["names"]:
        return None
    value = _reason_value(m.group("v"))
    if value is None:
        return None
    src = m.group("src")
    zh = f"依据：{cfg['names'][m.group('k')]}：{value}" + (f"（来源：{cfg['sources'].get(src, src)}）" if src else "") + "。"
    return zh if same_numbers(line, zh) else None


def _option(line: str) -> str | None:
    """ "Reason: <row label> → <management>." in Chinese; None when a part cannot be rendered."""
    m = re.fullmatch(r"Reason: (?P<l>.+) → (?P<m>.+)\.", line.strip())
    if not m:
        return None
    label, management = phrase_zh(m.group("l")), phrase_zh(m.group("m"))
    zh = f"原因：{label} → {management}。" if label and management else None
    return zh if zh and same_numbers(line, zh) else None


_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|'[^']*'|（[^）]*）")  # quotes, and sources or sections in brackets
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z])[a-z][a-z]{2,}(?![A-Za-z])")


def half_rendered(zh: str) -> bool:
    """Whether a Chinese line still holds English prose (lower-case words outside quotes and sources).

    Quoted passages and the sections or sources in brackets stay in their own language. Phrase
    rules render what they know; a line they only half know ("处理is guided by the most可疑")
    reads worse than the English one, which is then shown as it is.
    """
    return bool(_ENGLISH_WORD.search(_QUOTED.sub("", zh)))


def decision_lines(calls: list[dict[str, Any]]) -> list[str]:
    """A computed guideline decision, first: its row in Chinese with [1], then how it was reached."""
    lines: list[str] = []
    for call in calls:
        result = call.get("result") or {}
        decision = (result.get("data") or {}).get("decision")
        if call.get("ok") and call["name"] == "search_guidelines" and decision:
            facts = [f for f in result.get("facts") or [] if not f.startswith("[")]
            if not facts:
                continue
            lines.append(_headline(decision, facts[0]))
            for f in facts[1:]:
                zh = (_reason(f) if f.startswith("Used: ") else _option(f) if f.startswith("Reason: ") else None) \
                    or render_line(f)
                lines.append(f"- {zh if zh and not half_rendered(zh) else f}")
    return lines


# --- errors and missing facts --------------------------------------------------------------------

def options_zh(hint: str) -> str:
    """ "Depending on it: row → management; ..." in Chinese (each option as far as it renders)."""
    m = re.match(r"^Depending on it: (?P<o>.+)\.$", hint.strip())
    if not m:
        return hint
    parts = []
    for opt in m.group("o").split("; "):
        row, _, mg = opt.partition(" → ")
        row_zh, mg_zh = phrase_zh(row), phrase_zh(mg) if mg else ""
        parts.append(f"{row_zh} → {mg_zh}" if row_zh and mg_zh else opt)
    zh = "取决于此：" + "；".join(parts) + "。"
    return zh if same_numbers(hint, zh) else hint


def error_lines(call: dict[str, Any]) -> list[str]:
    err = call.get("error") or {}
    name = title(call["name"])
    if err.get("missing"):
        lines = [_t("missing").format(title=name, missing="；".join(missing_fact(m) for m in err["missing"]))]
        if err.get("hint"):
            lines.append(f"- {options_zh(str(err['hint']))}")
        return lines
    kind = (data().get("error_kinds") or {}).get(str(err.get("kind", "")), "错误")
    message = str(err.get("message") or "未知错误")
    if err.get("kind") == "not_confirmed":
        return [_t("not_run").format(title=name, message=message)]
    return [_t("failed").format(title=name, kind=kind, message=message)]


# --- passages, routing notes ---------------------------------------------------------------------

def _numbers_summary(sentence: str) -> str:
    """The sentence's numbers with their units in the Chinese way ("6-12个月、18-24个月")."""
    from agent.quantities import quantities_in

    units = {"months": "个月", "years": "年", "days": "天", "weeks": "周", "%": "%", "mm": " mm", "mm3": " mm3",
             "cm": " cm"}
    out, qs, i = [], quantities_in(sentence), 0
    while i < len(qs):
        q = qs[i]
        if q.range_end == "lo" and i + 1 < len(qs) and qs[i + 1].range_end == "hi":
            text, unit, i = f"{q.text}-{qs[i + 1].text}", qs[i + 1].unit, i + 2
        else:
            text, unit, i = q.text, q.unit, i + 1
        if unit is None and re.fullmatch(r"(?:19|20)\d\d", text):
            continue  # a publication year, not a threshold
        # a unit without a Chinese form is left out rather than rewritten ("500 Da" is not shown as g/mol)
        out.append(text + units.get(unit or "", ""))
    return "、".join(dict.fromkeys(out))


def passage_lines(state: dict[str, Any], grounding: str = "") -> list[str]:
    """The quoted passage sentences, each with its Chinese summary; ``grounding`` is the retrieval text
    of :func:`agent.compose.grounding_text` (passed in: this module does not import the English one)."""
    from knowledge.embeddings import has_cjk
    from knowledge.retrieval import lexical_query
    from knowledge.snippets import key_sentences

    passages = state.get("passages") or []
    # the question's own words (Chinese bigrams for a Chinese passage) and the English of its terms
    quoted = key_sentences(lexical_query(f"{state.get('question', '')} {grounding}"), passages[:4], limit=4)
    if not quoted:
        return []
    lines = [f"**{_t('guideline_context')}**"]
    for s, n in quoted:
        lines.append(f"- {s} [{n}]")
        if has_cjk(s):
            continue  # a Chinese source is quoted as it is
        summary = gloss(s)
        if summary:
            lines.append(f"  - {_t('summary_label')}：{summary}")
        elif (nums := _numbers_summary(s)):
            lines.append(f"  - {_t('numbers_label')}：{nums}")
    return lines


def route_note(route: dict[str, Any]) -> str | None:
    note = str(route.get("note") or "")
    if not note:
        return None
    r = data()["route"]
    if note.startswith("I could not tell"):
        return str(r["no_tool"])
    m = re.match(r"^I read this as a request for (?P<t>.+?); if you meant (?P<a>.+?), say so\.$", note)
    if m:
        alt = r["general_question"] if m.group("a") == "a general question" else m.group("a")
        return str(r["uncertain"]).format(tools=m.group("t"), alt=alt)
    return note


# --- the answer ----------------------------------------------------------------------------------

def template_answer_zh(state: dict[str, Any], grounding: str = "") -> str:
    """The templated answer in Chinese: only tool facts, error explanations and quoted passages.

    ``grounding`` is the turn's retrieval text (:func:`agent.compose.grounding_text`).
    """
    from agent.policy import refusal_text

    if state.get("refusal"):
        return refusal_text(state["refusal"])
    calls = state.get("calls") or []
    passages = state.get("passages") or []
    decided = decision_lines(calls)
    lines: list[str] = list(decided)
    for call in calls:
        if call.get("ok") and call["name"] == "search_guidelines":
            continue  # its passages are quoted below
        if call.get("ok"):
            result = call.get("result") or {}
            head = f"**{title(call['name'])}**" + (f"（{_t('demo_label')}）" if result.get("demo_model") else "")
            lines.append(head)
            lines.extend(f"- {f}" for f in fact_lines(call))
            lines.extend(f"- {_t('caution')}：{warning_line(w)}" for w in result.get("warnings") or [])
        else:
            lines.extend(error_lines(call))
    if passages and not decided:  # a decision quotes the rule it rests on itself
        lines.extend(passage_lines(state, grounding))
    note = route_note(state.get("route_info") or {})
    if not lines:
        if note:
            lines.append(note)
        lines.append(_t("capabilities"))
    elif note:
        lines.append(f"_{note}_")
    for w in state.get("warnings") or []:
        lines.append(f"_{_t('note')}：{warning_line(w)}_")
    return "\n".join(lines)
