"""Screening molecules against controlled-substance, chemical-weapon and toxin classes.

The classes are data (``data/restricted_substructures.yaml``, with sources): a substructure
(SMARTS), common names and systematic-name fragments per class. Two uses:

- **design** (default): generated molecules that match are removed and the removal reported; a
  design reference that matches refuses the request.
- **request**: the agent's request screen names every molecule a question mentions (by SMILES,
  by name, by a piece of its systematic name) and refuses when one is in a class *and* the
  request asks for a harmful change or for making it. Classes that hold ordinary medicines are
  screened for requests only (``applies_to: [request]``).

Nothing is loaded at import; RDKit and the data are read on first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml

Purpose = Literal["design", "request"]
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class RestrictedMatch:
    id: str
    category: str
    label: str


@dataclass(frozen=True)
class NameMatch:
    """A restricted class named in text: which class, the words that named it, and how."""

    match: RestrictedMatch
    text: str
    how: Literal["name", "systematic-name"]


@dataclass(frozen=True)
class _Entry:
    match: RestrictedMatch
    query: object | None  # an RDKit query molecule, or None for classes known by name only
    names: re.Pattern[str] | None
    fragments: tuple[str, ...]
    applies_to: frozenset[str]


def fold(text: str) -> str:
    """Accents dropped from Latin letters ("sarín" -> "sarin"); other scripts untouched."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch) if ord(ch) >= 0x80 else ch
        out.append(base[0] if ord(ch) >= 0x80 and base[0].isascii() and base[0].isalpha() else ch)
    return "".join(out)


def squash(text: str) -> str:
    """Lower-case letters and digits only: how systematic names are compared."""
    text = fold(unicodedata.normalize("NFKC", text)).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def _names_pattern(names: list[str]) -> re.Pattern[str] | None:
    if not names:
        return None
    parts = []
    for n in names:
        # CJK has no word boundaries; Latin names must be whole words
        n = fold(n)
        parts.append(f"(?:{n})" if _CJK.search(n) else rf"(?<![\w-])(?:{n})(?![\w-])")
    return re.compile("|".join(parts), re.IGNORECASE)


@lru_cache(maxsize=1)
def _entries() -> tuple[_Entry, ...]:
    from rdkit import Chem

    raw = yaml.safe_load(resources.files("specialists.molecules").joinpath("data/restricted_substructures.yaml").read_text(encoding="utf-8"))
    out = []
    for entry in raw:
        query = None
        if entry.get("smarts"):
            query = Chem.MolFromSmarts(entry["smarts"])
            if query is None:  # a broken pattern is a bug in the data file
                raise ValueError(f"restricted_substructures.yaml: invalid SMARTS for {entry['id']}")
        try:
            names = _names_pattern(list(entry.get("names") or []))
        except re.error as e:
            raise ValueError(f"restricted_substructures.yaml: invalid name pattern for {entry['id']}: {e}") from e
        fragments = tuple(squash(f) for f in entry.get("name_fragments") or [])
        out.append(_Entry(RestrictedMatch(entry["id"], entry["category"], entry["label"]), query, names, fragments,
                          frozenset(entry.get("applies_to") or ("design", "request"))))
    return tuple(out)


def restricted_matches(smiles_or_mol, purpose: Purpose = "design") -> list[RestrictedMatch]:
    """The restricted classes a molecule belongs to (empty when none, or when it does not parse).

    Args:
        smiles_or_mol: a SMILES string or an RDKit molecule.
        purpose: ``design`` screens the classes that design output must never contain;
            ``request`` also the request-only classes that contain ordinary medicines.
    """
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    if isinstance(smiles_or_mol, str):
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(smiles_or_mol)
    else:
        mol = smiles_or_mol
    if mol is None:
        return []
    return [e.match for e in _entries() if e.query is not None and purpose in e.applies_to and mol.HasSubstructMatch(e.query)]


def restricted_name_matches(text: str, purpose: Purpose = "request") -> list[NameMatch]:
    """Restricted classes named in ``text`` by a common name or a systematic-name fragment.

    Each class is reported once, by its first naming words. Names are whole words
    (case- and accent-insensitive); fragments are compared on :func:`squash`-ed text, so spacing, hyphens,
    brackets and locants do not matter.
    """
    squashed = squash(text)
    text = fold(unicodedata.normalize("NFKC", text))
    found: list[NameMatch] = []
    for e in _entries():
        if purpose not in e.applies_to:
            continue
        m = e.names.search(text) if e.names is not None else None
        if m:
            found.append(NameMatch(e.match, m.group(0), "name"))
            continue
        frag = next((f for f in e.fragments if f and f in squashed), None)
        if frag:
            found.append(NameMatch(e.match, frag, "systematic-name"))
    return found
