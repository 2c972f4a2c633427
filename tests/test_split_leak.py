"""No test-split question may leak into the data and prompts that decide what Galen does.

Every ``evals/suites/*.test.jsonl`` question is normalised (lower case, punctuation and
whitespace collapsed) and looked for in the routing exemplars, cue phrases and policy data
(``agent/data/*.yaml``) and in the prompts (``agent/prompts.py``):

- a question of four or more tokens must not appear anywhere in those files (as a run of
  whole tokens);
- a shorter one ("hi", "你好") must not be one of their entries exactly;
- a question of six or more tokens must not be a near-duplicate of any entry: token-set
  Jaccard overlap at most 0.9 (so swapping a word or two, or the order, still fails).

Tokens are ASCII words and single CJK characters, so Chinese questions are checked too.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "evals" / "suites"
DATA = ROOT / "agent" / "data"
PROMPTS = ROOT / "agent" / "prompts.py"
NEAR_DUPLICATE = 0.9
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def normalise(text: str) -> str:
    """Lower case; every run of punctuation, symbols and whitespace becomes one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = [" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text]
    return " ".join("".join(out).split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def guarded_texts() -> dict[str, list[str]]:
    """File name -> its string entries (YAML leaves; the string constants of prompts.py)."""
    out = {p.name: _strings(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(DATA.glob("*.yaml"))}
    tree = ast.parse(PROMPTS.read_text(encoding="utf-8"))
    out[PROMPTS.name] = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return out


def test_questions() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SUITES.glob("*.test.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                q = case.get("question") or (case.get("question_repeat") or {}).get("text")
                if q:
                    out.append((f"{path.name}:{case.get('id')}", q))
    return out


test_questions.__test__ = False  # a helper, not a test


def leaks(questions: list[tuple[str, str]], files: dict[str, list[str]]) -> list[str]:
    """Every (question, file) pair that breaks one of the rules above, described."""
    entries = {name: [(e, " ".join(tokens(e))) for e in texts] for name, texts in files.items()}
    whole = {name: " " + " ".join(t for _, t in es) + " " for name, es in entries.items()}
    sets = {name: [(e, set(t.split())) for e, t in es if t] for name, es in entries.items()}
    found = []
    for where, q in questions:
        qt = tokens(q)
        if not qt:
            continue
        joined, qset = " ".join(qt), set(qt)
        for name in entries:
            if len(qt) >= 4:
                hit = f" {joined} " in whole[name]
            else:
                hit = any(t == joined for _, t in entries[name])
            if hit:
                found.append(f"{where} {q!r} appears in {name}")
                continue
            if len(qt) >= 6:
                for entry, eset in sets[name]:
                    overlap = len(qset & eset) / len(qset | eset)
                    if overlap >= NEAR_DUPLICATE:
                        found.append(f"{where} {q!r} is a near-duplicate ({overlap:.2f}) of {entry!r} in {name}")
                        break
    return found


def test_no_test_question_leaks_into_routing_policy_or_prompts() -> None:
    questions = test_questions()
    assert questions, "no test-split suites found"
    problems = leaks(questions, guarded_texts())
    assert not problems, "test-split wording found in data or prompts:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("question", "entry", "leaked"),
    [
        ("How big is the nodule on this CT?", "Please tell me: how big is the nodule on this ct", True),  # contained
        ("What is the TPSA of celecoxib?", "what is the tpsa  of Celecoxib!", True),  # punctuation, case
        ("Is the lesion spiculated? Also give me its size.", "Also give me its size: is the lesion spiculated", True),  # order
        ("Is the lesion spiculated? Also give me its size.", "Is the lesion spiculated? Also give me its long size.", True),
        ("这个结节有多大？", "请问这个结节有多大", True),  # Chinese, contained
        ("hi", "hi", True),
        ("hi", "hi there, what can you do?", False),  # a short question only leaks as a whole entry
        ("What is the TPSA of celecoxib?", "Which molecular properties does the rule of five use?", False),
        ("Measure the nodule on this CT scan please", "Measure the mass on that MR series please", False),
    ],
)
def test_the_leak_check_itself(question: str, entry: str, leaked: bool) -> None:
    assert bool(leaks([("case", question)], {"data.yaml": [entry]})) is leaked
