"""The knowledge base at a hospital's scale (`make bench`, section `kb_scale`).

Measures, in one run and on this machine:

1. **ingest** of a 300-page PDF the benchmark writes (knowledge/synthetic_pdf.py): chunks/s
   with Galen's ingest (:func:`knowledge.ingest.ingest_paths`), and with today's way of writing
   (embedding batch by batch inside ``write_source``, one model after the other) as the ratio's
   baseline;
2. **100,000 chunks**: distractor guideline prose generated here (1,000 sources of 100 chunks on
   clinical topics, many sharing the suite's vocabulary: nodules, follow-up intervals, sizes,
   categories) is written next to the shipped corpus. Embedding 100,000 passages takes hours on
   2 CPU cores, so :data:`DISTINCT` passages are generated and embedded with the real models, and
   each is written in :data:`VARIANTS` variants that differ in their numbers and names and share
   its vectors (the lexical index sees every variant's own text);
3. **queries** over the guideline suites (fused dense + BM25, k=5): p50/p95 against the local
   store and against a Chroma server (`chroma run`) holding the same chunks, RSS of this process
   and of the server, and the same queries with today's lexical ranking (rank-bm25 scoring every
   chunk in Python) as the baseline;
4. **recall** (guidelines.jsonl: right section in the top 1/5; guideline_decisions dev+test:
   right source in the top 5) on the shipped corpus alone with today's BM25, and among the
   100,000 with the FTS5 index.

The ingest (models loaded and chromadb imported first, as in a running server) is also split into
its stages (parse, chunk, embed, store write, and the lexical
index's sync on the first query), and the queries are also timed the previous way (FTS5's own
``bm25()`` scoring and the whole manifest read per query) as a baseline measured in the same run.

Run: ``python scripts/bench.py --only kb_scale`` (writes evals/results/bench.kb_scale.json).
Setting ``GALEN_KB_SCALE_KEEP=DIR`` keeps the 100,000-chunk store in ``DIR`` and reuses it on the
next run (its build takes ~8 minutes); the result then says ``"store_reused": true``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DISTINCT = 2_500
VARIANTS = 40
SOURCES = 1_000
CHUNKS_PER_SOURCE = 100
PDF_PAGES = 300
INGEST_REPEATS = 3  # Galen's ingest of the PDF is timed this many times; the median run is reported
SUITES = ("guidelines.jsonl", "guideline_decisions.dev.jsonl", "guideline_decisions.test.jsonl")

_TOPICS = [
    ("thyroid nodule", "ultrasound", ["TI-RADS 3", "TI-RADS 4", "TI-RADS 5"], "fine-needle aspiration"),
    ("renal cyst", "CT", ["Bosniak I", "Bosniak IIF", "Bosniak III"], "surgical review"),
    ("adrenal incidentaloma", "CT", ["washout above 60 percent", "attenuation under 10 HU", "indeterminate"], "biochemical screening"),
    ("liver lesion", "MRI", ["LI-RADS 3", "LI-RADS 4", "LI-RADS 5"], "multidisciplinary review"),
    ("breast mass", "mammography", ["BI-RADS 3", "BI-RADS 4", "BI-RADS 5"], "core biopsy"),
    ("pancreatic cyst", "MRI", ["branch-duct IPMN", "worrisome features", "high-risk stigmata"], "endoscopic ultrasound"),
    ("ovarian cyst", "ultrasound", ["O-RADS 2", "O-RADS 3", "O-RADS 4"], "gynaecological oncology referral"),
    ("atrial fibrillation", "ECG", ["CHA2DS2-VASc 1", "CHA2DS2-VASc 2", "CHA2DS2-VASc 4"], "anticoagulation"),
    ("type 2 diabetes", "HbA1c", ["HbA1c 7 percent", "HbA1c 8 percent", "HbA1c 9 percent"], "treatment intensification"),
    ("community-acquired pneumonia", "chest radiograph", ["CURB-65 1", "CURB-65 2", "CURB-65 3"], "admission"),
    ("hypertension", "blood pressure", ["stage 1", "stage 2", "resistant"], "combination therapy"),
    ("colorectal polyp", "colonoscopy", ["adenoma under 10 mm", "advanced adenoma", "sessile serrated lesion"], "surveillance colonoscopy"),
    ("prostate lesion", "MRI", ["PI-RADS 3", "PI-RADS 4", "PI-RADS 5"], "targeted biopsy"),
    ("abdominal aortic aneurysm", "ultrasound", ["3.0 to 4.4 cm", "4.5 to 5.4 cm", "5.5 cm or more"], "vascular surgery"),
    ("venous thromboembolism", "D-dimer", ["Wells score 1", "Wells score 4", "Wells score 7"], "CT pulmonary angiography"),
    ("osteoporosis", "DXA", ["T-score -1.5", "T-score -2.5", "T-score -3.0"], "bisphosphonate"),
    ("lymph node", "CT", ["short axis 8 mm", "short axis 12 mm", "necrotic"], "PET-CT staging"),
    ("incidental lung finding", "CT", ["ground-glass opacity", "part-solid opacity", "calcified granuloma"], "respiratory clinic"),
]
_VERBS = ["is recommended", "should be considered", "is not routinely recommended", "may be offered", "is suggested"]
_INTERVALS = ["3 months", "6 months", "6 to 12 months", "12 months", "18 to 24 months", "2 years", "5 years"]
_RISK = ["low-risk patients", "high-risk patients", "patients over 65", "smokers", "patients with prior cancer",
         "pregnant patients", "patients with renal impairment", "immunocompromised patients"]


def _passage(rng: random.Random, i: int) -> tuple[str, str, str]:
    topic, test, cats, action = rng.choice(_TOPICS)
    cat = rng.choice(cats)
    size = rng.choice([4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30])
    sents = [
        f"For a {topic} classified as {cat}, follow-up {test} at {rng.choice(_INTERVALS)} {rng.choice(_VERBS)}.",
        f"In {rng.choice(_RISK)}, a {topic} larger than {size} mm warrants {action}.",
        f"Growth of more than {rng.choice([1, 2, 3, 5])} mm between examinations should prompt {action}.",
        f"Surveillance {test} {rng.choice(_VERBS)} at {rng.choice(_INTERVALS)} when the finding is stable.",
        f"Evidence for this recommendation is graded {rng.choice(['A', 'B', 'C'])} (consensus statement {2005 + i % 19}).",
        f"Document the size, the {test} features and the category in the report so that {action} can be planned.",
    ]
    rng.shuffle(sents)
    section = f"{topic.title()} - {rng.choice(['Follow-up', 'Management', 'Recommendations', 'Risk assessment', 'Reporting'])}"
    return topic, section, " ".join(sents[: rng.randint(4, 6)])


def _variant(text: str, v: int) -> str:
    """The same passage with its numbers moved and a site name added: lexically distinct, same meaning."""
    import re

    def bump(m: re.Match) -> str:
        n = int(m.group(0))
        return str(n + (v % 3)) if n < 100 else m.group(0)

    return re.sub(r"\b\d+\b", bump, text) + f" (Local protocol {v + 1}.)"


def distractors(seed: int = 0) -> tuple[list[tuple[str, str, str]], list[int]]:
    """DISTINCT base passages (topic, section, text) and, for each of the 100,000 chunks, its base."""
    rng = random.Random(seed)
    base = [_passage(rng, i) for i in range(DISTINCT)]
    order = [rng.randrange(DISTINCT) for _ in range(SOURCES * CHUNKS_PER_SOURCE)]
    return base, order


def write_distractors(settings, base_vecs: tuple[Any, Any], base, order, progress=None) -> int:
    """Write SOURCES sources of CHUNKS_PER_SOURCE generated chunks through the store's atomic writes."""
    from knowledge.chunking import context_text
    from knowledge.ingest import chunk_language
    from knowledge.store import get_store

    store = get_store(settings)
    minilm, use = base_vecs
    written = 0
    for s in range(SOURCES):
        sid = f"distractor-{s:04d}"
        items, texts, rows = [], [], []
        for c in range(CHUNKS_PER_SOURCE):
            b = order[s * CHUNKS_PER_SOURCE + c]
            topic, section, text = base[b]
            text = _variant(text, s * CHUNKS_PER_SOURCE + c)
            title = f"Regional guideline {s:04d}: {topic}"
            meta = {"title": title, "section": section, "link": "", "chunk_index": c, "chunk_hash": f"{sid}-{c}",
                    "file": f"{sid}.md", "language": chunk_language(text)}
            items.append((f"{c:05d}", text, meta))
            texts.append(context_text(title, section, text))
            rows.append(b)
        lookup = dict(zip(texts, rows, strict=True))
        store.write_source(sid, {"title": f"Regional guideline {s:04d}", "content_hash": f"distractor-{seed_hash(s)}",
                                 "path": "", "link": "", "origin": "user"},
                           items, lambda ts, lk=lookup: [minilm[lk[t]] for t in ts], texts,
                           ml_embeddings=lambda ts, lk=lookup: [use[lk[t]] for t in ts])
        written += len(items)
        if progress and s % 50 == 0:
            progress(f"distractors: {written:,} chunks")
    return written


def seed_hash(s: int) -> str:
    import hashlib

    return hashlib.sha256(f"distractor-{s}".encode()).hexdigest()


def base_vectors(base) -> tuple[Any, Any]:
    """The real MiniLM and USE v3 vectors of each base passage (as the store embeds: title, section, text)."""
    from knowledge.chunking import context_text
    from knowledge.embeddings import embed, embed_multilingual

    texts = [context_text(f"Regional guideline: {t}", sec, txt) for t, sec, txt in base]
    return embed(texts), embed_multilingual(texts)


def load_cases() -> dict[str, list[dict]]:
    out = {}
    for name in SUITES:
        lines = (ROOT / "evals" / "suites" / name).read_text(encoding="utf-8").splitlines()
        # cases that name the source(s) that answer them (a few decision cases only check the wording)
        out[name] = [c for c in (json.loads(x) for x in lines if x.strip()) if (c.get("expect") or {}).get("cited_sources")]
    return out


def recall(settings, cases: dict[str, list[dict]]) -> dict[str, Any]:
    from knowledge.bench_retrieval import is_hit
    from knowledge.retrieval import search

    out: dict[str, Any] = {}
    for name, cs in cases.items():
        at1 = at5 = src5 = 0
        for c in cs:
            hits = search(c["question"], k=5, settings=settings)
            at1 += bool(hits) and is_hit(hits[0], c)
            at5 += any(is_hit(p, c) for p in hits)
            src5 += any(is_hit(p, c, section=False) for p in hits)
        n = len(cs)
        out[name] = {"recall@1": round(at1 / n, 4), "recall@5": round(at5 / n, 4), "source_recall@5": round(src5 / n, 4), "n": n}
    return out


def query_latency(settings, questions: list[str]) -> dict[str, Any]:
    from galen.stats import percentiles
    from knowledge.retrieval import search

    search(questions[0], k=5, settings=settings)  # warm: models, index sync
    times = []
    for q in questions:
        t = time.perf_counter()
        search(q, k=5, settings=settings)
        times.append((time.perf_counter() - t) * 1000)
    return {**percentiles(times, digits=1), "unit": "ms"}


class TodaysBM25:
    """Today's lexical ranking, kept here as the benchmark's baseline: rank-bm25 over every committed
    chunk, built per process and scored in Python for each query."""

    def __init__(self) -> None:
        self.cache: dict[tuple, Any] = {}
        self.build_s: float | None = None

    def __call__(self, store, query: str, n: int, generations: list[str]):
        from rank_bm25 import BM25Okapi

        from knowledge.retrieval import chunk_tokens, lexical_query, tokenize

        key = (store.key, tuple(generations))
        if key not in self.cache:
            t = time.perf_counter()
            got = store.chunks_of(generations)
            metas = [m or {} for m in got["metadatas"]]
            corpus = [chunk_tokens(d, m) for d, m in zip(got["documents"], metas, strict=False)]
            self.cache = {key: (list(got["ids"]), list(got["documents"]), metas, BM25Okapi(corpus))}
            self.build_s = round(time.perf_counter() - t, 2)
        ids, docs, metas, bm25 = self.cache[key]
        tokens = tokenize(lexical_query(query))
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[:n]
        return [(ids[i], docs[i], metas[i], float(scores[i])) for i in order if scores[i] > 0]


class PreviousLexical:
    """The previous lexical ranking, kept as a baseline: FTS5's own ``bm25()`` over the matching rows."""

    def __call__(self, store, query: str, n: int, generations: list[str]):
        from knowledge.retrieval import _lexical_index, lexical_query, tokenize

        tokens = tokenize(lexical_query(query))
        terms = list(dict.fromkeys(t.replace('"', "") for t in tokens if t.replace('"', "")))
        if not terms:
            return []
        index = _lexical_index(store, generations)
        with index.lock:
            got = index.conn.execute(
                "SELECT cid, gen, text, meta, bm25(chunks) AS s FROM chunks WHERE chunks MATCH ? ORDER BY s LIMIT ?",
                (" OR ".join(f'"{t}"' for t in terms), n + 16)).fetchall()
        committed = set(generations)
        out = [(cid, text, json.loads(meta), -float(s)) for cid, gen, text, meta, s in got if gen in committed]
        return [hit for hit in out if hit[3] > 0][:n]


def with_previous_queries(fn, store, *args):
    """Run ``fn(*args)`` with FTS5's ``bm25()`` scoring and the manifest read in full on every query."""
    from knowledge import retrieval

    saved = retrieval._lexical
    retrieval._lexical = PreviousLexical()
    store.commit_token = lambda: None  # no commit token: committed generations are read from the manifest
    try:
        return fn(*args)
    finally:
        retrieval._lexical = saved
        del store.commit_token


def with_todays_bm25(fn, *args):
    """Run ``fn(*args)`` with retrieval's lexical ranking replaced by :class:`TodaysBM25`."""
    from knowledge import retrieval

    saved = retrieval._lexical
    todays = TodaysBM25()
    retrieval._lexical = todays
    try:
        return fn(*args), todays.build_s
    finally:
        retrieval._lexical = saved


def rss_mb(pid: int | None = None) -> float:
    import psutil

    return round(psutil.Process(pid or os.getpid()).memory_info().rss / 2**20, 1)


def ingest_pdf(tmp: Path, log) -> dict[str, Any]:
    """Chunks/s ingesting the 300-page PDF: Galen's ingest now, and today's batch-by-batch writing."""
    from galen.settings import Settings
    from knowledge.chunking import chunk_document, full_title
    from knowledge.documents import read_document
    from knowledge.embeddings import embed, embed_multilingual
    from knowledge.ingest import _chunk_metadata, ingest_paths
    from knowledge.store import get_store
    from knowledge.synthetic_pdf import write_pdf

    rng = random.Random(7)
    pages = [[line[i:i + 95] for line in [_passage(rng, p * 10 + k)[2] for k in range(4)] for i in range(0, len(line), 95)]
             for p in range(PDF_PAGES)]
    pdf = write_pdf(tmp / "hospital-guideline.pdf", pages)
    from knowledge.embeddings import embed_multilingual_passages, embed_passages

    embed(["warm up"]), embed_multilingual(["warm up"]), embed_passages(["warm up"])  # models loaded before timing
    embed_multilingual_passages(["warm up"])
    import chromadb  # noqa: F401 - imported before timing too, as the models are loaded
    from knowledge.retrieval import search

    # Galen's ingest INGEST_REPEATS times, each into a fresh store: the median run is reported (one
    # run on this machine varies by about 5 %), with every run's time beside it
    runs = []
    for r in range(INGEST_REPEATS):
        s_new = Settings(data_dir=tmp / f"ingest-new-{r}", kb_auto_index=False)
        run_stages: dict[str, float] = {}
        t = time.perf_counter()
        reports = ingest_paths([pdf], s_new, stages=run_stages)
        run_s = time.perf_counter() - t
        t = time.perf_counter()
        search("follow-up interval", k=5, settings=s_new, mode="lexical")  # the lexical index is brought in step here
        run_stages["lexical_sync"] = time.perf_counter() - t
        run_stages["other"] = run_s - sum(v for k, v in run_stages.items() if k != "lexical_sync")
        runs.append((run_s, run_stages))
    n = reports[0].n_chunks
    new_s, stages = sorted(runs, key=lambda x: x[0])[len(runs) // 2]
    # today's way: write_source embeds each batch of 64 with MiniLM, then with USE v3, as it writes
    s_old = Settings(data_dir=tmp / "ingest-old", kb_auto_index=False)
    doc = read_document(pdf, s_old)
    chunks = chunk_document(doc)
    store = get_store(s_old)
    t = time.perf_counter()
    store.write_source(doc.source_id, {"title": doc.title, "content_hash": doc.content_hash, "path": doc.path, "link": "",
                                       "origin": "user"},
                       [(f"{c.index:05d}", c.text, _chunk_metadata(doc, c)) for c in chunks], embed,
                       [c.context_text(full_title(doc.title)) for c in chunks], ml_embeddings=embed_multilingual)
    old_s = time.perf_counter() - t
    log(f"ingest: {n} chunks, now {n / new_s:.1f}/s, today's way {len(chunks) / old_s:.1f}/s")
    with_sync = new_s + stages["lexical_sync"]
    return {"pages": PDF_PAGES, "chunks": n, "seconds": round(new_s, 2), "chunks_per_s": round(n / new_s, 2),
            "runs": len(runs), "chunks_per_s_each_run": [round(n / x, 2) for x, _ in runs],
            "stages_s": {k: round(v, 3) for k, v in stages.items()},
            "chunks_per_s_with_lexical_sync": round(n / with_sync, 2),
            "todays_seconds": round(old_s, 2), "todays_chunks_per_s": round(len(chunks) / old_s, 2),
            "speedup_ratio": round(old_s / new_s, 3) if new_s else None, "target_chunks_per_s": 100,
            "met": n / new_s >= 100}


def run(log=print, parts: tuple[str, ...] = ("scale", "ingest")) -> dict[str, Any]:
    import torch

    from galen.ports import free_port
    from galen.settings import Settings
    from knowledge.ingest import open_store

    torch.set_num_threads(1)
    cases = load_cases()
    questions = [c["question"] for cs in cases.values() for c in cs]
    out: dict[str, Any] = {"load_average_1m_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "ingest" in parts:
            out["ingest"] = ingest_pdf(tmp, log)
        if "scale" not in parts:
            return out
        small = Settings(data_dir=tmp / "small")
        open_store(small)
        out["recall_shipped_corpus_todays_bm25"], _ = with_todays_bm25(recall, small, cases)
        out["recall_shipped_corpus_fts5"] = recall(small, cases)
        keep = os.environ.get("GALEN_KB_SCALE_KEEP")
        big = Settings(data_dir=Path(keep) / "big" if keep else tmp / "big")
        store = open_store(big)  # the shipped corpus first, then the distractors around it
        reused = sum(1 for sid in store.sources() if sid.startswith("distractor-")) == SOURCES
        out["store_reused"] = reused
        if reused:
            n = SOURCES * CHUNKS_PER_SOURCE
            log(f"reusing the 100,000-chunk store in {keep}")
        else:
            base, order = distractors()
            t = time.perf_counter()
            vecs = base_vectors(base)
            out["distractor_embedding_s"] = round(time.perf_counter() - t, 1)
            log(f"embedded {DISTINCT} distinct distractor passages in {out['distractor_embedding_s']} s")
            t = time.perf_counter()
            n = write_distractors(big, vecs, base, order, progress=log)
            out["distractor_write_s"] = round(time.perf_counter() - t, 1)
        from knowledge.store import get_store

        store = get_store(big)
        out["chunks_in_store"] = store.chunks.count()
        from knowledge.retrieval import search

        t = time.perf_counter()
        search(questions[0], k=5, settings=big)  # the first query brings the lexical index in step (100k chunks)
        out["first_query_with_index_sync_s"] = round(time.perf_counter() - t, 1)
        from knowledge.lexical import get_index

        out["local"] = {"fused_query_ms": query_latency(big, questions), "rss_mb": rss_mb(),
                        "lexical_postings_mb": round(get_index(big.resolved_data_dir(), store.key).postings.nbytes() / 2**20, 1)}
        previous = with_previous_queries(query_latency, store, big, questions[:40])
        out["local"]["previous_fused_query_ms"] = previous
        out["local"]["p50_ratio_to_previous"] = (round(out["local"]["fused_query_ms"]["p50"] / previous["p50"], 4)
                                                 if previous.get("p50") else None)
        (todays, build_s) = with_todays_bm25(query_latency, big, questions[:20])
        out["local"]["todays_bm25_fused_query_ms"] = todays
        out["local"]["todays_bm25_build_s"] = build_s
        out["local"]["p50_ratio_to_todays"] = (round(out["local"]["fused_query_ms"]["p50"] / todays["p50"], 4)
                                               if todays.get("p50") else None)
        out["recall_100k_fts5"] = recall(big, cases)
        # the same chunks behind a Chroma server: the server opens the folder the local store wrote
        from knowledge.store import chroma_path, forget_stores

        store.client.close()
        forget_stores()
        port = free_port()
        proc = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(chroma_path(big)),
                                 "--host", "127.0.0.1", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(port)
            srv = Settings(data_dir=tmp / "srv-data", chroma_host="127.0.0.1", chroma_port=port)
            out["server_chunks"] = get_store(srv).chunks.count()
            t = time.perf_counter()
            search(questions[0], k=5, settings=srv)  # this process's lexical index of the server's chunks
            out["server_first_query_with_index_sync_s"] = round(time.perf_counter() - t, 1)
            out["server"] = {"fused_query_ms": query_latency(srv, questions), "client_rss_mb": rss_mb(),
                             "server_rss_mb": rss_mb(proc.pid)}
            previous = with_previous_queries(query_latency, get_store(srv), srv, questions[:40])
            out["server"]["previous_fused_query_ms"] = previous
            out["server"]["p50_ratio_to_previous"] = (round(out["server"]["fused_query_ms"]["p50"] / previous["p50"], 4)
                                                      if previous.get("p50") else None)
            out["recall_100k_fts5_server"] = recall(srv, cases)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    out["n_chunks_target"] = SOURCES * CHUNKS_PER_SOURCE
    out["distractors"] = {"sources": SOURCES, "chunks_per_source": CHUNKS_PER_SOURCE, "distinct_passages": DISTINCT,
                          "variants_share_vectors": True, "written": n}
    out["queries"] = len(questions)
    out["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    return out


def _wait_for(port: int, seconds: float = 120) -> None:
    import httpx

    end = time.time() + seconds
    while time.time() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the Chroma server on port {port} did not start")


if __name__ == "__main__":
    chosen = tuple(sys.argv[1].split(",")) if len(sys.argv) > 1 else ("scale", "ingest")
    print(json.dumps(run(log=lambda m: print(m, file=sys.stderr, flush=True), parts=chosen), indent=2))
