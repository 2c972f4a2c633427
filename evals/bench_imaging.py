"""Benchmarks of the imaging specialist (``make bench`` → ``evals/results/bench.imaging*.json``).

- ``bench.imaging``: segmentation of a 256 × 256 × 128 phantom CT by the reference path (PyTorch,
  sliding windows, every slice: today's implementation before the fast path) and by each fast
  variant, in the same run, ≥ 20 samples each, with ratios to the reference; Grad-CAM per lesion.
- ``bench.imaging_consult``: a whole consultation on a 512 × 512 × 300 DICOM series (300 files,
  a folder and a zip): the agent's intake (de-identification, description), then ``segment_image``
  and ``classify_image`` (overlays, measurements, characterisation, Grad-CAM) and the answer,
  each sample in a fresh process warmed up by one text question as a running server is (peak
  RSS of that process), every stage timed; next to it the implementation of the baseline commit,
  extracted with ``git archive`` and run the same way.
- ``bench.imaging_variants``: Dice and diameter error of every inference variant on the test
  phantoms, side by side (:mod:`specialists.imaging.variants`).

Run ``python -m evals.bench_imaging [--samples N] [--consult-samples N] [--parts consult,...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The commit whose imaging code is "today's implementation" the fast path is compared with.
BASELINE_COMMIT = "e3958db"
CONSULT_SEED = 21
CONSULT_SHAPE, CONSULT_SPACING = (300, 512, 512), (1.0, 0.7, 0.7)
CONSULT_QUESTION = "Describe the nodules fully: size, density type, spiculation, and the heat map."
CACHE = Path(tempfile.gettempdir()) / "galen-imaging-bench"


def pcts(values: list[float]) -> dict[str, float | int | None]:
    """p50 and p95 (refused from fewer than 20 samples) with n: :func:`galen.stats.percentiles`."""
    from galen.stats import percentiles

    return percentiles(values, digits=3)


def consult_series(seed: int = CONSULT_SEED) -> tuple[Path, Path, dict[str, Any]]:
    """The 512 × 512 × 300 chest phantom (12, 8 and 6 mm solid nodules) as a DICOM folder and zip, made once."""
    folder, zpath, meta = CACHE / f"consult{seed}", CACHE / f"consult{seed}.zip", CACHE / f"consult{seed}.json"
    if not (folder.is_dir() and zpath.is_file() and meta.is_file()):
        code = (
            "import json, sys, zipfile\n"
            "from pathlib import Path\n"
            "from specialists.imaging.phantom import make_phantom, write_phantom_dicom\n"
            f"ph = make_phantom({seed}, shape={CONSULT_SHAPE}, spacing={CONSULT_SPACING}, anatomy='chest',\n"
            "                  diameters_mm=[12.0, 8.0, 6.0], kinds=['solid'] * 3, shapes=['round'] * 3)\n"
            f"folder = write_phantom_dicom(ph, Path({str(folder)!r}))\n"
            f"with zipfile.ZipFile({str(zpath)!r}, 'w', zipfile.ZIP_STORED) as zf:\n"
            "    for p in sorted(folder.iterdir()):\n"
            "        zf.write(p, f'series/{p.name}')\n"
            f"Path({str(meta)!r}).write_text(json.dumps([n.to_dict() for n in ph.nodules]))\n")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=1800)  # its own memory peak
    return folder, zpath, {"nodules": json.loads(meta.read_text()), "files": len(list(folder.iterdir()))}


# The consultation as one fresh process runs it; it uses only the Agent API, so the baseline tree runs it too.
_CONSULT = r'''
import json, resource, sys, tempfile, time
from pathlib import Path
t0 = time.perf_counter()
from agent.runner import Agent
from galen.settings import Settings
import specialists.imaging.intake as intake
timings = {}
def timed(name, fn):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - t, 3)
    return wrapper
intake.deidentify_to = timed("deidentify", intake.deidentify_to)
intake.describe_attachment = timed("describe", intake.describe_attachment)
agent = Agent(Settings(data_dir=Path(tempfile.mkdtemp(prefix="galen-bench-"))))
# Warm up as a running server is: knowledge store built, embedder and language model loaded.
agent.ask("What does the Fleischner Society recommend for a 5 mm solid nodule?")
t1 = time.perf_counter()
res = agent.ask(sys.argv[2], [sys.argv[1]])
t2 = time.perf_counter()
calls = [c.model_dump(mode="json") if hasattr(c, "model_dump") else dict(c) for c in res.tool_calls]
stage = {}
lesions = []
for c in calls:
    data = ((c.get("result") or {}).get("data") or {})
    for k, v in (data.get("stage_seconds") or {}).items():
        stage[f"{c.get('name')}.{k}"] = v
    if c.get("name") == "segment_image":
        lesions = [(l.get("mean_diameter_mm"), l.get("core_mean_hu", l.get("mean_hu")), l.get("category", "nodule"))
                   for l in data.get("lesions", [])]
print("RESULT" + json.dumps({"turn_s": round(t2 - t1, 3), "startup_and_warmup_s": round(t1 - t0, 3),
      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      "tools": [c.get("name") for c in calls], "ok": [bool(c.get("ok", True)) for c in calls],
      "intake_s": timings, "stage_s": stage, "lesions": lesions, "artifacts": len(res.artifacts)}))
'''


def _consult_once(series: Path, cwd: Path, question: str = CONSULT_QUESTION) -> dict[str, Any]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               PYTHONPATH=str(cwd))
    proc = subprocess.run([sys.executable, "-c", _CONSULT, str(series), question], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1200)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        return {"failed": (proc.stderr or proc.stdout)[-1500:]}
    return json.loads(line[len("RESULT"):])


def baseline_tree() -> Path | None:
    """The baseline commit's tree (``git archive``), or None when git or the commit is not there."""
    dest = CACHE / f"baseline-{BASELINE_COMMIT}"
    if (dest / "agent").is_dir():
        return dest
    try:
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE_COMMIT], capture_output=True, check=True,
                                 timeout=300).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=300)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    return dest


def bench_consult(samples: int = 5, baseline_samples: int = 2) -> dict[str, Any]:
    """Whole consultations on the 512 × 512 × 300 series (folder and zip), now and at the baseline commit."""
    folder, zpath, meta = consult_series()
    out: dict[str, Any] = {"series": {"shape": list(CONSULT_SHAPE), "spacing_mm": list(CONSULT_SPACING), **meta},
                           "question": CONSULT_QUESTION}
    for name, series in (("folder", folder), ("zip", zpath)):
        runs = [_consult_once(series, ROOT) for _ in range(samples if name == "folder" else max(2, samples // 2))]
        out[name] = _summarise(runs)
    base = baseline_tree()
    if base is None:
        out["baseline"] = {"unavailable": f"git archive of {BASELINE_COMMIT} failed"}
    else:
        out["baseline"] = _summarise([_consult_once(folder, base) for _ in range(baseline_samples)])
        out["baseline"]["commit"] = BASELINE_COMMIT
        if "turn_s" in out["baseline"] and "turn_s" in out["folder"]:
            out["folder"]["turn_ratio_to_baseline"] = round(out["folder"]["turn_s"]["p50"] / out["baseline"]["turn_s"]["p50"], 3)
            out["folder"]["rss_ratio_to_baseline"] = round(out["folder"]["peak_rss_mb"]["max"] /
                                                           out["baseline"]["peak_rss_mb"]["max"], 3)
    return out


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "turn_s" in r]
    if not good:
        return {"failed": [r.get("failed") for r in runs][:1], "n": len(runs)}
    stages: dict[str, list[float]] = {}
    for r in good:
        for k, v in {**{f"intake.{k}": v for k, v in r["intake_s"].items()}, **r["stage_s"]}.items():
            stages.setdefault(k, []).append(v)
    rss = [r["peak_rss_mb"] for r in good]
    return {"turn_s": pcts([r["turn_s"] for r in good]),
            "startup_and_warmup_s": pcts([r["startup_and_warmup_s"] for r in good]),
            "peak_rss_mb": {"max": max(rss), "p50": statistics.median(rss), "n": len(rss)},
            "stage_s_p50": {k: round(statistics.median(v), 3) for k, v in sorted(stages.items())},
            "tools": good[0]["tools"], "lesions_first_run": good[0]["lesions"], "artifacts": good[0]["artifacts"],
            "samples": len(good), "failed": len(runs) - len(good)}


def bench_segmentation(samples: int = 20, seed: int = 7) -> dict[str, Any]:
    """Seconds to segment a 256 × 256 × 128 phantom (0.7 × 0.7 × 1.25 mm): resampling, inference, screening, measuring."""
    import numpy as np

    from specialists.imaging.intake import to_working_spacing
    from specialists.imaging.phantom import make_phantom, phantom_to_volume
    from specialists.imaging.pipeline import seg_bundle
    from specialists.imaging.segment import segment_array
    from specialists.imaging.variants import VARIANTS

    ph = make_phantom(seed, shape=(128, 256, 256), spacing=(1.25, 0.7, 0.7), n_nodules=4, anatomy="chest",
                      coverage=(0.15, 0.9))
    vol = phantom_to_volume(ph)
    sb = seg_bundle()
    image, spacing, z_scale = to_working_spacing(vol, tuple(sb.params["working_spacing_mm"]))
    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    found: dict[str, int] = {}
    for name, opts in VARIANTS.items():  # warm-up (sessions, caches) outside the timing
        found[name] = len(segment_array(sb.network, image, spacing, sb.params, options=opts, bundle_path=sb.path).lesions)
    for i in range(samples):
        order = list(VARIANTS.items()) if i % 2 == 0 else list(VARIANTS.items())[::-1]  # drift hits all alike
        for name, opts in order:
            t = time.perf_counter()
            segment_array(sb.network, image, spacing, sb.params, options=opts, bundle_path=sb.path)
            times[name].append(time.perf_counter() - t)
    ref = statistics.median(times["reference_torch_all_slices"])
    out = {name: pcts(v) | {"ratio_to_reference_p50": round(statistics.median(v) / ref, 3), "lesions": found[name]}
           for name, v in times.items()}
    return {"volume": [128, 256, 256], "working_shape": list(image.shape), "planted_nodules": len(ph.nodules),
            "voxels": int(np.prod(ph.image.shape)), "default_engine": sb.params.get("inference", {}).get("engine"),
            "variants": out}


def bench_gradcam(samples: int = 20) -> dict[str, Any]:
    """Seconds per Grad-CAM map (one lesion patch, the shipped classifier)."""
    import numpy as np

    from specialists.imaging.explain import gradcam
    from specialists.imaging.pipeline import cls_bundle

    b = cls_bundle()
    size, n_ch = int(b.params["patch_size"]), len(b.params["slice_offsets"])
    patch = np.random.default_rng(0).uniform(-1, 1, (n_ch, size, size)).astype(np.float32)
    gradcam(b.network, patch, 0, b.params["gradcam_layer"])
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        gradcam(b.network, patch, 0, b.params["gradcam_layer"])
        times.append(time.perf_counter() - t)
    return pcts(times)


def quality_figures() -> dict[str, Any]:
    """The held-out figures issues 15 and 19 ask for, from the shipped model cards (test phantoms only)."""
    from specialists.imaging.bundle import CLS_BUNDLE, SEG_BUNDLE

    seg = json.loads((SEG_BUNDLE / "metadata.json").read_text())
    cls = json.loads((CLS_BUNDLE / "metadata.json").read_text())
    m, c = seg["held_out_metrics"], cls["held_out_metrics"]
    full = m.get("full_size_phantoms", {})
    return {
        "seg_version": seg["version"], "cls_version": cls["version"],
        "attribution_in_lesion_test": c.get("attribution_in_lesion"),
        "core_hu_test": m.get("core_hu"),
        "full_size_false_positives_per_volume_test": full.get("false_positives_per_volume"),
        "full_size_missed_ge_6mm_test": full.get("missed_nodules_ge_6mm"),
        "full_size_volumes": full.get("n_volumes"),
        "dice_test": m.get("dice"), "mean_diameter_abs_error_mm_median_test": m.get("mean_diameter_abs_error_mm_median"),
        "missed_ge_6mm_test": m.get("missed_nodules_ge_6mm"),
        "validation_full_size_fp_after_filter": (seg["provenance"].get("fp_filter") or {}).get(
            "validation_full_size_fp_per_volume_after"),
        "engine": m.get("engine"),
    }


def write_quality(figures: dict[str, Any] | None = None) -> Path:
    """``evals/results/bench.imaging_quality.json`` from the model cards."""
    from evals.results import write_result

    q = figures or quality_figures()
    n = (q.get("attribution_in_lesion_test") or {}).get("n_lesions") or 0
    return write_result("bench.imaging_quality", q, n=int(n), kind="model", split="test",
                        notes="held-out figures of the shipped imaging bundles (metadata.json): Grad-CAM share inside "
                              "the lesion widened by 2 mm (n = lesions), core HU vs planted density, false positives "
                              "per whole-chest volume; test phantoms only, never tuned on")


PARTS = ("segmentation", "consult", "variants")


def run_benchmarks(samples: int = 20, consult_samples: int = 5, variants_volumes: int = 20,
                   write: bool = True, parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    """The imaging benchmarks named in ``parts`` (all by default); writes their result files (and the
    quality figures from the model cards) unless ``write`` is False."""
    import torch

    from evals.results import write_result
    from specialists.imaging.evaluate import SEG_TEST_SEEDS_START
    from specialists.imaging.pipeline import SEG_BUNDLE

    out: dict[str, Any] = {}
    if "segmentation" in parts:
        threads = torch.get_num_threads()
        out["segmentation"] = seg = bench_segmentation(samples) | {"gradcam_seconds": bench_gradcam(samples),
                                                                    "torch_threads": threads}
        if write:
            write_result("bench.imaging", seg, n=samples, kind="bench",
                         notes="segment_array on a 256x256x128 chest phantom per inference variant, alternating order; "
                               "ratios to the reference path (PyTorch, sliding windows, every slice) in the same run")
    if "consult" in parts:
        out["consult"] = consult = bench_consult(consult_samples)
        if write:
            write_result("bench.imaging_consult", consult, n=consult_samples, kind="bench",
                         notes=f"Agent.ask('{CONSULT_QUESTION}') on a 512x512x300 DICOM series (300 files, folder and "
                               f"zip), each sample a fresh process; baseline = commit {BASELINE_COMMIT} run the same way "
                               "(fewer samples: each takes about a minute)")
    if "variants" in parts:
        from specialists.imaging import variants

        out["variants"] = side = variants.compare(SEG_BUNDLE, variants_volumes, SEG_TEST_SEEDS_START, (48, 160, 160))
        if write:
            write_result("bench.imaging_variants", side, n=variants_volumes, kind="bench", split="test",
                         notes="evaluate_segmentation per inference variant on test phantoms (seeds 9000+), side by side")
    if write:
        write_quality()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--consult-samples", type=int, default=5)
    p.add_argument("--variants-volumes", type=int, default=20)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    a = p.parse_args(argv)
    parts = tuple(x.strip() for x in a.parts.split(",") if x.strip())
    if unknown := set(parts) - set(PARTS):
        p.error(f"unknown parts: {', '.join(sorted(unknown))} (choose from {', '.join(PARTS)})")
    print(json.dumps(run_benchmarks(a.samples, a.consult_samples, a.variants_volumes, not a.no_write, parts), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
