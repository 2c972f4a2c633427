"""The semantic router: nearest labelled exemplars choose the tool set, helped by structural signals.

One question goes through four steps:

1. **prepare** — every named molecule (SMILES and drug names, English or Chinese, as
   :func:`specialists.molecules.mentions.find_molecules` finds them) is replaced by a
   placeholder: the encoders cannot read SMILES, and a drug's name pulls a property question
   towards the design exemplars that happen to name the same drug. Whether an age or a size
   is stated is read with :mod:`tools.extract` (a case, not a question about a rule).
2. **encode** — Chinese (any CJK character) with the multilingual USE v3; English with the
   encoder chosen on the English dev split (``router.english_encoder`` in ``route_cues.yaml``:
   MiniLM, USE, or their fusion, the mean of the two cosines).
3. **vote** — the ``k`` nearest exemplars vote for their tool set, weighted by similarity.
4. **signals** — what the encoder cannot see (``route_cues.yaml``, each entry justified there):
   an image or a table is attached or not, a molecule is named, a design intent is stated.
   ``design_molecules`` needs a design intent: without one, no tool set containing it is offered.

The exemplars (``route_exemplars.yaml``) are written for the router, never taken from a suite;
k, the encoder, the floors and the bonuses were chosen on the dev splits only.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from galen.language import spaced

EXEMPLARS_FILE = "route_exemplars.yaml"
CUES_FILE = "route_cues.yaml"
ENCODERS = ("minilm", "use", "fusion")
IMAGE_KINDS = frozenset({"dicom", "dicom-folder", "dicom-zip", "nifti", "image"})
TABLE_KINDS = frozenset({"csv", "json"})
PLACEHOLDER = {"en": "this molecule", "zh": "该分子"}

def is_chinese(text: str) -> bool:
    """Whether the text holds Chinese characters (then only the multilingual encoder can read it)."""
    from galen.language import has_cjk

    return has_cjk(text)


@dataclass(frozen=True)
class Prepared:
    """The question as the encoder sees it, with the structural facts read from it."""

    text: str
    chinese: bool
    molecules: tuple[str, ...]  # SMILES (valid or not) and drug names, as written
    patient: bool  # an age or a size is stated (a case, not a question about a rule)


def prepare(question: str, names: bool = True) -> Prepared:
    """Replace every named molecule by a placeholder and read the structural facts.

    ``names=False`` keeps drug names in the text (only SMILES are replaced); they still count
    as molecules named.
    """
    from specialists.molecules.mentions import find_molecules
    from tools.extract import find_age, find_length_mm

    chinese = is_chinese(question)
    found = find_molecules(question)  # invalid SMILES too: still a molecule the person named
    spans = sorted([(t.start, t.end, t.text, True) for t in found.smiles]
                   + [(n.start, n.end, n.written, names) for n in found.names])
    placeholder = PLACEHOLDER["zh" if chinese else "en"]
    parts, at = [], 0
    for start, end, _, replace in spans:
        if replace and start >= at:
            parts += [question[at:start], f" {placeholder} "]
            at = end
    parts.append(question[at:])
    patient = find_age(question) is not None or find_length_mm(question) is not None
    return Prepared(" ".join("".join(parts).split()), chinese, tuple(w for _, _, w, _ in spans), patient)


def normalise(text: str) -> str:
    """The text the encoder sees (kept for callers of the earlier API)."""
    return prepare(text).text


@dataclass(frozen=True)
class RouteDecision:
    """The router's choice and the evidence for it."""

    tools: tuple[str, ...]
    score: float  # similarity of the nearest exemplar of the chosen tool set
    margin: float  # gap to the best competing tool set (average-similarity units)
    nearest: str  # the exemplar text that decided
    candidates: list[tuple[tuple[str, ...], float]] = field(default_factory=list)  # best first
    encoder: str = "minilm"  # which embedding decided ("minilm", "use" or "fusion")
    floor: float = 0.0  # the encoder's own "no tool fits" similarity, tuned on dev
    signals: dict[str, Any] = field(default_factory=dict)  # structural facts that moved the vote

    def ranked_tools(self) -> list[str]:
        """Single tools in order of their best score (for the hybrid policy's candidate list)."""
        out: list[str] = []
        for tools, _ in self.candidates:
            for t in tools:
                if t not in out:
                    out.append(t)
        return out


@dataclass(frozen=True)
class Exemplars:
    texts: list[str]
    labels: list[tuple[str, ...]]
    digest: str

    def chinese(self) -> np.ndarray:
        return np.array([is_chinese(t) for t in self.texts], dtype=bool)


def load_exemplars(path: Path | None = None) -> Exemplars:
    """Exemplars from the YAML data file (the packaged one by default)."""
    raw = path.read_text(encoding="utf-8") if path else resources.files("agent.data").joinpath(EXEMPLARS_FILE).read_text(encoding="utf-8")
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    for group in yaml.safe_load(raw):
        label = tuple(sorted(group["tools"]))
        for t in group["texts"]:
            texts.append(str(t))
            labels.append(label)
    return Exemplars(texts, labels, hashlib.sha256(raw.encode()).hexdigest()[:16])


@dataclass(frozen=True)
class Cue:
    tool: str
    pattern: re.Pattern[str]
    when: tuple[str, ...]  # conditions: "molecule" (one is named), "image" (one is in the thread),
    # "no_design_intent", "patient" (an age or a size is stated)


@dataclass(frozen=True)
class Cues:
    """The router's tuned parameters and the signals the encoder cannot see (``route_cues.yaml``)."""

    k: int
    english_encoder: str
    floors: dict[str, float]
    bonus: float
    per_tool: bool  # a set gets the bonus once per cued tool (True) or once (False)
    vote: str  # "knn" or "label_top" (see SemanticRouter._label_scores)
    top_m: int  # exemplars per tool set that count under "label_top"
    combo_penalty: float  # per tool of a multi-tool set that has cues but none matched
    replace_names: bool  # drug names too (not only SMILES) become the placeholder
    design_intent: tuple[re.Pattern[str], ...]
    cues: tuple[Cue, ...]
    priors: dict[str, dict[str, float]]  # signal -> tool -> bonus
    image_reference: re.Pattern[str] | None = None  # "this nodule", "the scan": the attached image's finding

    @property
    def cued_tools(self) -> set[str]:
        return {c.tool for c in self.cues}

    def has_design_intent(self, text: str) -> bool:
        text = spaced(text)
        return any(p.search(text) for p in self.design_intent)

    def matched(self, text: str, molecule: bool = False, image: bool | None = None, intent: bool = False,
                patient: bool = False) -> set[str]:
        """Tools with a cue that matches and whose conditions hold (``image=None``, unknown, lets image cues apply)."""
        holds = {"molecule": molecule, "image": image is not False, "no_design_intent": not intent, "patient": patient}
        text = spaced(text)  # "Fleischner建议": the seam between scripts is a word boundary
        return {c.tool for c in self.cues if all(holds[w] for w in c.when) and c.pattern.search(text)}


def load_cues(path: Path | None = None) -> Cues:
    raw_text = path.read_text(encoding="utf-8") if path else resources.files("agent.data").joinpath(CUES_FILE).read_text(encoding="utf-8")
    raw = yaml.safe_load(raw_text)
    r = raw["router"]
    if r["english_encoder"] not in ENCODERS:
        raise ValueError(f"route_cues.yaml: english_encoder must be one of {ENCODERS}")
    cues = tuple(Cue(tool, re.compile(c["pattern"], re.IGNORECASE), tuple((c.get("when") or "").split()))
                 for tool, entries in (raw.get("cues") or {}).items() for c in entries)
    for c in cues:
        unknown = set(c.when) - {"molecule", "image", "no_design_intent", "patient"}
        if unknown:
            raise ValueError(f"route_cues.yaml: unknown cue condition(s) {sorted(unknown)} for {c.tool}")
    return Cues(
        k=int(r["k"]),
        english_encoder=r["english_encoder"],
        floors={k: float(v) for k, v in r["floor"].items()},
        bonus=float(r["cue_bonus"]),
        per_tool=bool(r.get("cue_per_tool", False)),
        vote=str(r.get("vote", "knn")),
        top_m=int(r.get("top_m", 3)),
        combo_penalty=float(r.get("combo_penalty", 0.0)),
        replace_names=bool(r.get("replace_names", True)),
        design_intent=tuple(re.compile(c["pattern"], re.IGNORECASE) for c in raw["design_intent"]),
        cues=cues,
        priors={s: {t: float(v) for t, v in tools.items()} for s, tools in (raw.get("priors") or {}).items()},
        image_reference=re.compile(raw["image_reference"]["pattern"], re.IGNORECASE) if raw.get("image_reference") else None,
    )


@lru_cache(maxsize=1)
def packaged_cues() -> Cues:
    """The packaged ``route_cues.yaml``, read once per process."""
    return load_cues()


def _encode(encoder: str, texts: list[str]) -> np.ndarray:
    from knowledge.embeddings import embed, embed_multilingual

    if encoder == "minilm":
        return embed(texts)
    if encoder == "use":
        return embed_multilingual(texts)
    # fusion: both unit vectors side by side, scaled so the dot product is the mean of the two cosines
    return np.hstack([embed(texts), embed_multilingual(texts)]) / np.sqrt(2.0)


class SemanticRouter:
    """kNN over exemplar embeddings; one instance per process is enough (it holds no user state).

    ``english_encoder``, ``k`` and ``cues`` override the data file's (the measurement script
    compares encoders this way).
    """

    def __init__(self, exemplars: Exemplars | None = None, k: int | None = None, cues: Cues | None = None,
                 english_encoder: str | None = None) -> None:
        self.exemplars = exemplars or load_exemplars()
        self.cues = cues or packaged_cues()
        self.k = k or self.cues.k
        self.english_encoder = english_encoder or self.cues.english_encoder
        if self.english_encoder not in ENCODERS:
            raise ValueError(f"english_encoder must be one of {ENCODERS}, not {self.english_encoder!r}")
        self._prepared = [prepare(t, self.cues.replace_names) for t in self.exemplars.texts]
        self._is_zh = np.array([p.chinese for p in self._prepared], dtype=bool)
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _matrix(self, encoder: str) -> np.ndarray:
        with self._lock:
            if encoder not in self._vectors:
                self._vectors[encoder] = _encode(encoder, [p.text for p in self._prepared])
            return self._vectors[encoder]

    def route(self, question: str, attachment_kinds: Sequence[str] | None = None) -> RouteDecision:
        """Vote among the ``k`` nearest exemplars (similarity-weighted), then apply the signals.

        Args:
            question: the person's message.
            attachment_kinds: kinds of the files in the thread (``nifti``, ``csv`` ...); ``None``
                when unknown, which applies no attachment prior either way.
        """
        prep = prepare(question, self.cues.replace_names)
        encoder = "use" if prep.chinese else self.english_encoder
        sims = self._matrix(encoder) @ _encode(encoder, [prep.text])[0]
        if encoder == "minilm":  # English-only space: Chinese exemplars would be noise
            sims = np.where(self._is_zh, -1.0, sims)
        intent = self.cues.has_design_intent(prep.text)
        image = None if attachment_kinds is None else bool(IMAGE_KINDS & set(attachment_kinds))
        cue_tools = self.cues.matched(prep.text, molecule=bool(prep.molecules), image=image, intent=intent,
                                      patient=prep.patient)
        boosts = self._priors(prep, attachment_kinds)
        scores, best_i = self._label_scores(sims, intent, cue_tools | {t for t, v in boosts.items() if v > 0})
        for label in scores:
            hits = len(set(label) & cue_tools)
            scores[label] += self.cues.bonus * (hits if self.cues.per_tool else min(hits, 1))
            if len(label) > 1:
                # a set of several tools needs a word for each: a cued tool of the set the question
                # gives no cue for is unsupported
                unsupported = [t for t in label if t in self.cues.cued_tools and t not in cue_tools]
                scores[label] -= self.cues.combo_penalty * len(unsupported)
            # the structural priors of a set: the mean over its tools (a tool without one counts 0)
            scores[label] += sum(boosts.get(t, 0.0) for t in label) / max(len(label), 1)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        top_label, top_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        top_i = best_i[top_label]
        return RouteDecision(
            tools=top_label,
            score=float(sims[top_i]),
            margin=top_score - runner_up,
            nearest=self.exemplars.texts[top_i],
            candidates=ranked,
            encoder=encoder,
            floor=self.cues.floors.get(encoder, 0.0),
            signals={"chinese": prep.chinese, "molecules": list(prep.molecules), "design_intent": intent, "patient": prep.patient,
                     "cues": sorted(cue_tools), "priors": boosts},
        )

    def _label_scores(self, sims: np.ndarray, intent: bool, favoured: set[str]
                      ) -> tuple[dict[tuple[str, ...], float], dict[tuple[str, ...], int]]:
        """Each tool set's score (average-similarity units) and its nearest exemplar.

        ``knn``: the k nearest exemplars vote, weighted by similarity, and the sum is divided by k;
        a set that a cue or prior favours, just outside the k, competes on its nearest exemplar.
        ``label_top``: the mean of each set's ``top_m`` best similarities (every set competes, so
        a set with many exemplars does not crowd out one with few).
        Without a design intent, no set containing ``design_molecules`` takes part.
        """
        labels = self.exemplars.labels
        order = np.argsort(-sims)
        allowed = [i for i in order if intent or "design_molecules" not in labels[i]]
        scores: dict[tuple[str, ...], float] = {}
        best_i: dict[tuple[str, ...], int] = {}
        if self.cues.vote == "label_top":
            tops: dict[tuple[str, ...], list[float]] = {}
            for i in allowed:
                got = tops.setdefault(labels[i], [])
                if len(got) < self.cues.top_m:
                    got.append(float(sims[i]))
                    best_i.setdefault(labels[i], int(i))
            return {label: float(np.mean(v)) for label, v in tops.items()}, best_i
        k = self.k
        for i in allowed[:k]:
            scores[labels[i]] = scores.get(labels[i], 0.0) + float(sims[i]) / k
            best_i.setdefault(labels[i], int(i))
        if favoured:
            for i in allowed[: k * 6]:
                if labels[i] not in scores and set(labels[i]) & favoured:
                    scores[labels[i]] = float(sims[i]) / k
                    best_i[labels[i]] = int(i)
        return scores, best_i

    def _priors(self, prep: Prepared, kinds: Sequence[str] | None) -> dict[str, float]:
        """Tool -> bonus from the structural signals present (the strongest per tool wins)."""
        present: list[str] = []
        if kinds is not None:
            present.append("image_attached" if IMAGE_KINDS & set(kinds) else "no_image")
            if TABLE_KINDS & set(kinds):
                present.append("table_attached")
        present.append("molecule_named" if prep.molecules else "no_molecule")
        out: dict[str, float] = {}
        for signal in present:
            for tool, v in (self.cues.priors.get(signal) or {}).items():
                if abs(v) > abs(out.get(tool, 0.0)):
                    out[tool] = v
        return out


@lru_cache(maxsize=1)
def default_router() -> SemanticRouter:
    return SemanticRouter()
