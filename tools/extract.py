"""Deterministic argument extractors shared by the tools.

The embedded model is far too small to fill arguments (DATA.md measured ≤ 5/12), so the
`semantic` routing policy fills them from the text with these functions. SMILES strings come from
:mod:`specialists.molecules.mentions` and design comparators from :mod:`specialists.molecules.lexicon`
(their one owners).
Clinical facts are read by :mod:`tools.facts`; the ``find_*`` clinical names below delegate to it.
"""

from __future__ import annotations

import re

# SMILES detection lives with the molecules specialist (one owner: specialists.molecules.mentions);
# re-exported here because the router and the tools import it from this module.
from specialists.molecules.mentions import SmilesToken, find_smiles  # noqa: E402,F401

# --- clinical facts: read by tools.facts (the one owner); these names delegate to it -------------

def _facts_value(reader_name: str, text: str):  # noqa: ANN202 - each wrapper states its type
    import importlib

    from tools.facts.text import normalise

    module, name = reader_name.rsplit(".", 1)
    f = getattr(importlib.import_module(f"tools.facts.{module}"), name)(normalise(text))
    return None if f is None else f.value


def find_length_mm(text: str) -> float | None:
    """The first nodule measurement in the text in mm (longest axis; see :mod:`tools.facts.nodules`)."""
    from tools.facts.nodules import read_nodules
    from tools.facts.text import normalise

    nodules = read_nodules(normalise(text)).nodules
    size = next((n["nodule_size_mm"].value for n in nodules if "nodule_size_mm" in n), None)
    return size


def find_age(text: str) -> float | None:
    return _facts_value("patient.read_age", text)


find_patient_age = find_age


def find_sex(text: str) -> str | None:
    return _facts_value("patient.read_sex", text)


def find_nodule_type(text: str) -> str | None:
    from tools.facts.nodules import read_nodules
    from tools.facts.text import normalise

    nodules = read_nodules(normalise(text)).nodules
    return next((n["nodule_type"].value for n in nodules if "nodule_type" in n), None)


def find_count(text: str, noun: str = "nodule") -> int | None:
    from tools.facts.nodules import read_nodules
    from tools.facts.text import normalise

    count = read_nodules(normalise(text)).count
    return None if count is None else count.value


def find_flag(text: str, term: str, *, negated_after: str | None = None) -> bool | None:
    """Whether ``term`` (a regex) is stated as present (True), as absent (False) or not named (None)."""
    from tools.facts.text import negated

    m = re.search(term, text, re.IGNORECASE)
    if not m:
        return None
    if negated_after and re.match(negated_after, text[m.end():m.end() + 30], re.IGNORECASE):
        return False
    return not negated(text, m.start(), m.end())


def find_menopausal_status(text: str) -> str | None:
    return _facts_value("breast.read_menopausal_status", text)


def find_grade(text: str) -> int | None:
    return _facts_value("breast.read_grade", text)


def find_er_status(text: str) -> bool | None:
    return _facts_value("breast.read_er_status", text)


def find_positive_nodes(text: str) -> float | None:
    return _facts_value("breast.read_positive_nodes", text)


def find_fmol(text: str, names: list[str]) -> float | None:
    from tools.facts.breast import read_fmol
    from tools.facts.text import normalise

    f = read_fmol(normalise(text), "fmol", names)
    return None if f is None else f.value
