"""Substructures a design request keeps or excludes: named rings and groups, SMILES, a reference's core.

"keep the quinazoline core", "containing a piperazine ring", "benzimidazole-containing",
"around the indole scaffold", "keep the sulfonamide", "without a nitrile", "keeping the scaffold
c1ccc2[nH]ccc2c1", "keep the core of celecoxib". Names come from ``data/motifs.yaml`` (SMARTS
per ring or group). A named motif whose role the words do not settle ("replace the quinoline")
is not applied and is reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from specialists.molecules.request import Motif

_DATA = Path(__file__).parent / "data" / "motifs.yaml"
_BREAK = re.compile(r"[.;!?]\s|[.;!?]$|,|\bbut\b|\bwhile\b")
_NEG = re.compile(r"\b(?:no|without|lacking|free\s+of|avoid(?:ing)?|exclud(?:e|ing)|not\s+containing|devoid\s+of)\s+"
                  r"(?:any\s+|an?\s+|the\s+)?(?:(?!pains|brenk|alerts?|structural)[\w-]+\s+){0,2}$", re.I)
_SWAP = re.compile(r"\b(?:replac\w*|instead\s+of|swap\w*|hop\w*|other\s+than|rather\s+than|in\s+place\s+of|change\w*)\b"
                   r"[^.;]{0,40}$", re.I)
_KEEP_BEFORE = re.compile(r"(?:\b(?:keep\w*|retain\w*|preserv\w*|maintain\w*|conserv\w*|contain\w*|with|bearing|having|"
                          r"has|have|incorporat\w*|includ\w*|featur\w*|around|on|based\s+on|built\s+(?:on|around)|"
                          r"using|must\s+have|need)\s+(?:an?\s+|the\s+|one\s+|its\s+|their\s+|at\s+least\s+one\s+)?"
                          r"(?:[\w-]+\s+){0,2}$)|\b(?:and|plus|also|as\s+well\s+as)\s+(?:an?|one|at\s+least\s+one)\s+$",
                          re.I)
_KEEP_AFTER = re.compile(r"^\s*-?\s*(?:core|scaffold|rings?(?:\s+system)?|moiety|motif|group|unit|nucleus|template|"
                         r"framework|chemotype|substructure|series|fragment|containing|based|bearing|substituted|"
                         r"compounds?|molecules?|derivatives?|analog(?:ue)?s?|inhibitors?|class)\b", re.I)
_SCAFFOLD_WORD = r"(?:scaffold|core|substructure|ring\s+system|fragment|motif|moiety|framework|template|chemotype)"
_SMILES_CUE = re.compile(rf"(?:{_SCAFFOLD_WORD}\s*(?:\(|:|=|of)?\s*|\b(?:keep\w*|retain\w*|preserv\w*|maintain\w*|"
                         rf"contain\w*|with\s+the|bearing)\s+(?:the\s+)?(?:{_SCAFFOLD_WORD}\s+)?)$", re.I)
_REF_CORE = re.compile(rf"\b(?:keep\w*|retain\w*|preserv\w*|maintain\w*|conserv\w*)\s+(?:the\s+|its\s+|their\s+)?"
                       rf"(?:(?P<pre>[\w-]+?)(?:'s)?\s+)?(?P<word>{_SCAFFOLD_WORD})(?:\s+of\s+(?P<of>[\w-]+))?", re.I)


@dataclass(frozen=True)
class _Entry:
    id: str
    label: str
    smarts: str
    smiles: str


@dataclass
class MotifReading:
    motifs: list[Motif] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # text consumed (not to be reported as unread)
    scaffold_smiles: list[str] = field(default_factory=list)  # SMILES tokens used as motifs, not references
    notes: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _entries() -> tuple[dict[str, _Entry], re.Pattern[str], dict[str, str], list[tuple[str, str]]]:
    """(entries by id, English name pattern, lower-case name -> id, Chinese (name, English label) longest first)."""
    raw = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    entries, names, zh = {}, {}, []
    for e in raw:
        entries[e["id"]] = _Entry(e["id"], e["en"][0], e["smarts"], e["smiles"])
        for n in e["en"]:
            names[n.lower()] = e["id"]
            names[n.lower() + "s"] = e["id"]
        for n in e.get("adj") or []:
            names[n.lower()] = e["id"]
        for n in e.get("zh") or []:
            zh.append((n, e["en"][0]))
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alts})(?![A-Za-z0-9])", re.I)
    return entries, pattern, names, sorted(zh, key=lambda t: -len(t[0]))


def chinese_names() -> list[tuple[str, str]]:
    """(Chinese name, English name) of every motif, longest first (for the Chinese reader)."""
    return _entries()[3]


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - 80):start]
    cut = [m.end() for m in _BREAK.finditer(window)]
    return window[cut[-1]:] if cut else window


def _murcko(smiles: str) -> str | None:
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = Chem.MolFromSmiles(smiles)
    core = MurckoScaffold.GetScaffoldForMol(mol) if mol is not None else None
    return Chem.MolToSmiles(core) if core is not None and core.GetNumAtoms() else None


def find_motifs(text: str, smiles_tokens: list, references: list[tuple[str, str]]) -> MotifReading:
    """The motifs ``text`` asks to keep or exclude.

    Args:
        text: the request (English, or Chinese already normalised).
        smiles_tokens: valid :class:`~specialists.molecules.mentions.SmilesToken` of the text.
        references: (name, SMILES) of the drugs named in it (for "keep the core of X").
    """
    from rdkit import Chem

    entries, pattern, names, _ = _entries()
    out = MotifReading()
    # SMILES written as the scaffold ("keeping the scaffold c1ccc2[nH]ccc2c1", "core (O=c1ccn...)")
    for tok in smiles_tokens:
        if _SMILES_CUE.search(_clause_before(text, tok.start)):
            can = Chem.MolToSmiles(Chem.MolFromSmiles(tok.text))
            out.motifs.append(Motif(name=tok.text, query=can, smiles=can, is_smarts=False))
            out.scaffold_smiles.append(tok.text)
            out.spans.append((tok.start, tok.end))
    smiles_spans = [(t.start, t.end) for t in smiles_tokens]
    for m in pattern.finditer(text):
        if any(a <= m.start() < b for a, b in smiles_spans):
            continue
        entry = entries[names[m.group(0).lower()]]
        before, after = _clause_before(text, m.start()), text[m.end():m.end() + 30]
        if out.scaffold_smiles and any(abs(s - m.end()) < 40 for s, _ in out.spans if s > m.end()):
            out.spans.append(m.span())  # "the quinolone core (SMILES)": the SMILES says it exactly
            continue
        if _SWAP.search(before):
            out.unread.append(text[m.start() - len(before):m.end()].strip())
            continue
        keep = False if _NEG.search(before) else True if (_KEEP_BEFORE.search(before) or _KEEP_AFTER.search(after)) else None
        if keep is None:
            out.unread.append(f"{m.group(0)}")
            continue
        if any(x.query == entry.smarts and x.keep == keep for x in out.motifs):
            out.spans.append(m.span())
            continue
        out.motifs.append(Motif(name=entry.label, query=entry.smarts, smiles=entry.smiles if keep else None, keep=keep))
        out.spans.append(m.span())
    # "keep the core" / "keep celecoxib's scaffold" / "keep the core of celecoxib": a reference's Murcko scaffold
    named_words = {n.lower(): (n, s) for n, s in references}
    for m in _REF_CORE.finditer(text):
        if any(a <= m.start() < b or a < m.end() <= b for a, b in out.spans) or pattern.search(m.group(0)):
            continue
        who = (m.group("of") or m.group("pre") or "").lower()
        if who in ("the", "its", "their", "same", "common", "central"):
            who = ""
        ref = named_words.get(who) or (references[0] if len(references) == 1 and not who else None)
        core = _murcko(ref[1]) if ref else None
        if core is None:
            if not any(s > m.end() for s, _ in out.spans):
                out.unread.append(m.group(0))
            continue
        out.motifs.append(Motif(name=f"the core of {ref[0]}", query=core, smiles=core, is_smarts=False))
        out.spans.append(m.span())
        out.notes.append(f"'{m.group(0)}' was read as keeping {ref[0]}'s ring scaffold (Bemis–Murcko) {core}.")
    return out
