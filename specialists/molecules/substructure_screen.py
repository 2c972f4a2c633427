"""Substructure matching behind a fingerprint screen: RDKit's answers, most of them ruled out cheaply.

A query can only match a molecule whose RDKit pattern fingerprint holds every bit of the query's
own pattern fingerprint: RDKit designs that fingerprint as this screen (``SubstructLibrary`` uses it
the same way), so the queries it rules out are exactly ones that cannot match, and only the few left
are searched for. The screen decides nothing by itself: every match it reports is RDKit's own
(``HasFilterMatch`` of the catalogue entry, ``HasSubstructMatch`` of the pattern), in the order of
the list, so the result equals the unscreened one (tests compare them on thousands of molecules,
PAINS positives among them). The molecule's fingerprint is computed once and shared by the PAINS,
Brenk and QED alert lists.

A FilterCatalog entry is screened only where its query can be read (:func:`entry_query`: one SMARTS
pattern wanted at least once); any other entry is always searched for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FP_SIZE = 2048
_MOL_PICKLE = b"\xef\xbe\xad\xde"  # RDKit molecule pickles start with 0xDEADBEEF (little-endian)
# A FilterCatalogEntry holding one SmartsMatcher, as boost serialises it: header, description, pickle size.
_ENTRY_HEAD = re.compile(rb"\d+ serialization::archive \d+ 1 1\n0 0 1 4 1 1\n1 0 0 (\d+) ")
_SIZE = re.compile(rb" (\d+) ")
_AT_LEAST_ONCE = b" 1 4294967295 "  # the matcher's min count 1, max count unbounded (UINT_MAX)


def pattern_bits(mol) -> np.ndarray:
    """``mol``'s RDKit pattern fingerprint (``FP_SIZE`` bits), packed into 64-bit words."""
    from rdkit import Chem

    bits = Chem.PatternFingerprint(mol, fpSize=FP_SIZE).ToBitString().encode()
    return np.packbits(np.frombuffer(bits, dtype=np.uint8) - ord("0")).view(np.uint64)


def entry_query(entry) -> Any | None:
    """The query molecule of a FilterCatalog entry that is one SMARTS pattern wanted at least once,
    read from the entry's serialised form; ``None`` for any other entry (it is then never screened out).
    """
    from rdkit import Chem

    try:
        data = entry.Serialize()
    except (RuntimeError, ValueError):  # an RDKit built without serialisation
        return None
    head = _ENTRY_HEAD.match(data)
    if head is None:
        return None
    desc_end = head.end() + int(head.group(1))
    size = _SIZE.match(data, desc_end)
    if size is None or data[head.end():desc_end] != entry.GetDescription().encode():
        return None
    start, stop = size.end(), size.end() + int(size.group(1))
    blob = data[start:stop]
    # one matcher only: nothing after its counts is another molecule (recursive SMARTS sit inside the pickle)
    if not blob.startswith(_MOL_PICKLE) or not data.startswith(_AT_LEAST_ONCE, stop) or _MOL_PICKLE in data[stop:]:
        return None
    return Chem.Mol(blob)


def _screen_rows(queries: Sequence[Any | None]) -> np.ndarray:
    """One packed fingerprint row per query; an all-zero row (never screened out) where there is none."""
    words = FP_SIZE // 64
    rows = np.zeros((len(queries), words), dtype=np.uint64)
    for k, q in enumerate(queries):
        if q is not None:
            rows[k] = pattern_bits(q)
    return rows


def _candidates(rows: np.ndarray, mol_bits: np.ndarray) -> np.ndarray:
    """Positions of the queries whose fingerprint bits all lie in the molecule's."""
    return np.flatnonzero(((rows & mol_bits) == rows).all(axis=1))


@dataclass(frozen=True)
class ScreenedCatalogue:
    """A FilterCatalog's entries, in order, with the screen of each."""

    entries: tuple
    rows: np.ndarray

    @classmethod
    def of(cls, catalogue) -> ScreenedCatalogue:
        entries = tuple(catalogue.GetEntryWithIdx(k) for k in range(catalogue.GetNumEntries()))
        return cls(entries, _screen_rows([entry_query(e) for e in entries]))

    def matches(self, mol, mol_bits: np.ndarray) -> list:
        """The entries matching ``mol``, as ``FilterCatalog.GetMatches`` gives them (catalogue order)."""
        return [self.entries[k] for k in _candidates(self.rows, mol_bits) if self.entries[k].HasFilterMatch(mol)]


@dataclass(frozen=True)
class ScreenedPatterns:
    """Query molecules (SMARTS), in order, with the screen of each."""

    patterns: tuple
    rows: np.ndarray

    @classmethod
    def of(cls, patterns: Sequence[Any]) -> ScreenedPatterns:
        return cls(tuple(patterns), _screen_rows(patterns))

    def count_matching(self, mol, mol_bits: np.ndarray) -> int:
        """How many of the patterns ``mol`` holds: ``sum(mol.HasSubstructMatch(p) for p in patterns)``."""
        return sum(1 for k in _candidates(self.rows, mol_bits) if mol.HasSubstructMatch(self.patterns[k]))
