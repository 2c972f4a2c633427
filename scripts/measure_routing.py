"""Routing accuracy on the routing suites' dev and test splits, written to evals/results/.

Usage:
    python scripts/measure_routing.py                      # all four splits + the encoder comparison
    python scripts/measure_routing.py --suites routing.dev --no-write --show-misses
    python scripts/measure_routing.py --encoders minilm,use,fusion --suites routing.dev

The metric is the harness's: exact tool-set accuracy of the planned calls (``galen eval
--dry-run``; :func:`evals.runner.run_case` and :func:`evals.metrics.core_metrics`), so a tool
that would ask for a missing fact counts as called, and the imaging tools the agent adds
before a risk model count too. The English encoder is compared (MiniLM, USE v3, their fusion)
on ``routing.dev`` only, where it is chosen; Chinese questions always use USE v3.

Writes ``evals/results/routing.{dev,test}.json`` and ``routing_zh.{dev,test}.json`` (with
``--no-write``, prints only). The test splits are measured, never tuned on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("routing.dev", "routing.test", "routing_zh.dev", "routing_zh.test")
COMPARE_ON = "routing.dev"


def measure(agent: Any, suite: str) -> dict[str, Any]:
    """Exact tool-set accuracy of ``agent`` on one suite, with per-group figures and the misses."""
    from evals.metrics import core_metrics
    from evals.runner import run_case
    from evals.suite import load_suite, resolve_suite

    path = resolve_suite(suite)
    cases = load_suite(path)
    outcomes = [run_case(agent, c, dry_run=True, run_tag="routing") for c in cases]
    scored = [o for o in outcomes if "tools" in o["checks"]]
    groups: dict[str, list[bool]] = {}
    for o in scored:
        groups.setdefault(o.get("group") or "-", []).append(o["checks"]["tools"]["passed"])
    misses = [{"id": o["id"], "question": o["question"], "got": o["checks"]["tools"]["actual"],
               "want": o["checks"]["tools"]["expected"]} for o in scored if not o["checks"]["tools"]["passed"]]
    # a case whose turn raised (a bug outside routing) counts as routed to no tool, as in the harness
    crashes = [{"id": o["id"], "error": f"{o['error']['type']}: {o['error']['message'][:160]}"}
               for o in outcomes if (o.get("error") or {}).get("kind") == "unexpected"]
    return {
        "path": path,
        "n": len(scored),
        "accuracy": core_metrics(outcomes)["routing_accuracy"],
        "correct": len(scored) - len(misses),
        "per_group": {g: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)} for g, v in sorted(groups.items())},
        "misses": misses,
        "crashes": crashes,
    }


def build_agent(data_dir: Path, policy: str, encoder: str | None) -> Any:
    from agent.router import SemanticRouter
    from agent.runner import Agent
    from galen.settings import Settings

    router = SemanticRouter(english_encoder=encoder) if encoder else None
    return Agent(Settings(data_dir=data_dir, routing_policy=policy), router=router)


def router_config(agent: Any) -> dict[str, Any]:
    r = agent.nodes.router
    c = r.cues
    return {"english_encoder": r.english_encoder, "chinese_encoder": "use", "vote": c.vote,
            "top_m" if c.vote == "label_top" else "k": c.top_m if c.vote == "label_top" else r.k,
            "cue_bonus": c.bonus, "combo_penalty": c.combo_penalty, "floors": c.floors,
            "exemplars": len(r.exemplars.texts), "exemplars_digest": r.exemplars.digest}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suites", default=",".join(SPLITS), help="comma-separated suite names")
    p.add_argument("--encoders", default="minilm,use,fusion",
                   help=f"English encoders compared on {COMPARE_ON} ('' to skip)")
    p.add_argument("--policy", default="semantic", choices=["semantic", "hybrid", "llm"])
    p.add_argument("--no-write", action="store_true", help="print only; do not write evals/results/")
    p.add_argument("--show-misses", action="store_true")
    p.add_argument("--source-commit", default=None,
                   help="the commit measured, when running in an exported tree (git archive) that has no .git")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from evals.results import write_result

    suites = [s for s in args.suites.split(",") if s]
    encoders = [e for e in args.encoders.split(",") if e]
    with tempfile.TemporaryDirectory() as d:
        comparison: dict[str, Any] = {}
        if encoders and COMPARE_ON in suites:
            for enc in encoders:
                r = measure(build_agent(Path(d) / enc, args.policy, enc), COMPARE_ON)
                comparison[enc] = {"accuracy": r["accuracy"], "correct": r["correct"], "n": r["n"]}
                print(json.dumps({"compare": enc, "suite": COMPARE_ON, **comparison[enc]}), flush=True)
        agent = build_agent(Path(d) / "configured", args.policy, None)
        config = router_config(agent)
        for suite in suites:
            r = measure(agent, suite)
            split = suite.rsplit(".", 1)[-1] if suite.endswith((".dev", ".test")) else None
            metrics: dict[str, Any] = {"accuracy": r["accuracy"], "correct": r["correct"], "per_group": r["per_group"]}
            if suite == COMPARE_ON and comparison:
                metrics["embedding_comparison"] = comparison
            metrics["misses"] = r["misses"]
            metrics["crashes"] = r["crashes"]
            if r["crashes"]:  # the same figure over the cases that ran, so routing and the crash are told apart
                ran = r["n"] - len(r["crashes"])
                metrics["accuracy_over_cases_that_ran"] = round(r["correct"] / ran, 4) if ran else None
                metrics["n_ran"] = ran
            line = {"suite": suite, "n": r["n"], "accuracy": r["accuracy"], "correct": r["correct"],
                    "crashes": [c["id"] for c in r["crashes"]]}
            print(json.dumps(line), flush=True)
            if args.show_misses:
                for m in r["misses"]:
                    print(f"  {m['id']}: got {m['got'] or 'no tool'}, want {m['want'] or 'no tool'} | {m['question']}")
            if not args.no_write:
                notes = (f"exact tool-set accuracy of planned calls (galen eval --dry-run), policy {args.policy}, "
                         f"English encoder {config['english_encoder']}, Chinese USE v3; python scripts/measure_routing.py")
                if r["crashes"]:
                    notes += (f"; {len(r['crashes'])} case(s) raised outside routing and count as misses: "
                              + ", ".join(c["id"] for c in r["crashes"]))
                path = write_result(suite, metrics, n=r["n"], split=split, suite=r["path"], notes=notes,
                                    extra={"router": config, "policy": args.policy,
                                           **({"git_commit": args.source_commit, "exported_tree": True}
                                              if args.source_commit else {})})
                print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
