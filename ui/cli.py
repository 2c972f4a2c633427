"""The ``galen`` command line: ask, chat, doctor, kb, screen, train, eval, audit.

Expected failures print one clear line on stderr and exit with status 2; nothing prints a
traceback for a person's mistake.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from galen.errors import GalenError

TRAINERS = {
    "imaging-seg": "specialists.imaging.train_seg:main",
    "imaging-cls": "specialists.imaging.train_cls:main",
    "properties": "specialists.molecules.train_properties:main",
    "prior": "specialists.molecules.train_prior:main",
    "clinical": "specialists.clinical.train:main",
}


def _env_defaults() -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _settings(args: argparse.Namespace):
    from galen.settings import Settings

    overrides: dict[str, Any] = {}
    for key in ("llm_backend", "routing_policy"):
        if getattr(args, key, None):
            overrides[key] = getattr(args, key)
    from pydantic import ValidationError

    from galen.errors import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"Setting {field!r} is invalid: {err['msg']}.", hint="See the settings table in the README.") from e


def cmd_ask(args: argparse.Namespace) -> int:
    from agent.llm import check_backend
    from agent.runner import Agent, validate_question
    from galen.files import use_private_tmp

    validate_question(args.question)
    settings = _settings(args)
    use_private_tmp(settings.resolved_data_dir())
    agent = Agent(settings)
    from ui.pacs_panel import after_ask, fetch_for_ask, render_pacs

    attach, fetched = fetch_for_ask(args, settings)  # --study / --accession: the series from the PACS
    if args.dry_run:
        result = agent.plan(args.question, attach, thread_id=args.thread)
        payload = {"tool_calls": [c.model_dump() for c in result.tool_calls], "refusal": result.refusal, "route": result.route, "thread_id": result.thread_id, "latency_s": result.latency_s}
        print(json.dumps(payload, indent=2 if not args.json else None, default=str))
        return 0
    check_backend(settings)
    # The CLI is the one local identity: a named thread it does not know is started under that name.
    result = agent.ask(args.question, attach, thread_id=args.thread, create=True,
                       confirm="accept" if args.yes else "ask")
    pacs = after_ask(args, settings, result, fetched)  # SEG/SR/FHIR downloads; stored on the PACS with --push
    if args.json:
        out = result.model_dump(mode="json", include={"answer", "tool_calls", "citations", "artifacts", "verified", "thread_id", "latency_s", "warnings", "demo_model", "refusal", "verification", "facts", "pending"})
        if pacs is not None:
            out["pacs"] = pacs
        print(json.dumps(out, default=str))
    else:
        from ui.render import render_text

        print(render_text(result) + (f"\n\n{render_pacs(pacs)}" if pacs else ""))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from ui.app import launch

    settings = _settings(args)
    launch(settings, host=args.host or settings.ui_host, port=args.port or settings.ui_port,
           allow_open=bool(getattr(args, "no_login", False)))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import platform

    from agent.llm import describe_backend
    from tools.registry import all_status

    settings = _settings(args)
    report: dict[str, Any] = {"galen": __import__("galen").__version__, "python": platform.python_version(), **describe_backend(settings)}
    report["routing_policy"] = settings.routing_policy
    report["data_dir"] = str(settings.data_dir)
    try:
        from agent.llm import check_backend

        check_backend(settings)
        report["llm"] = "ok"
    except GalenError as e:
        report["llm"] = f"unavailable: {e.user_message()}"
    report["tools"] = [{"name": s.name, "on": s.available, "reason": s.reason, "version": s.version} for s in all_status()]
    versions = {}
    for mod in ("torch", "monai", "rdkit", "torch_geometric", "chromadb", "gradio", "langgraph", "langchain_core", "llama_cpp", "sklearn", "sksurv"):
        try:
            versions[mod] = getattr(importlib.import_module(mod), "__version__", None) or _dist_version(mod)
        except ImportError:
            versions[mod] = "not installed"
    report["versions"] = versions
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Galen {report['galen']} — LLM: {report['backend']} / {report['model']} ({report['llm']})")
    print(f"routing: {report['routing_policy']}   data: {report['data_dir']}")
    for t in report["tools"]:
        print(f"  [{'on ' if t['on'] else 'off'}] {t['name']:<24} {t['reason']}")
    print("  " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return 0


def _dist_version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


def cmd_kb(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from knowledge import admin

    if args.kb_cmd == "ingest":
        reports = admin.ingest_paths([Path(p) for p in args.paths], settings)
        for r in reports:
            print(r.describe() if hasattr(r, "describe") else r)
        return 0
    if args.kb_cmd == "list":
        for s in admin.list_sources(settings):
            print(s.describe() if hasattr(s, "describe") else s)
        return 0
    if args.kb_cmd == "remove":
        print(admin.remove_source(args.source, settings))
        return 0
    from knowledge.retrieval import search

    passages = search(args.query, k=args.k, settings=settings)
    if args.json:
        print(json.dumps([p.model_dump() for p in passages]))
    else:
        for i, p in enumerate(passages, 1):
            print(f"[{i}] {p.citation()} ({p.source_id}, score {p.score:.3f})\n    {p.text[:300]}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    module, func = TRAINERS[args.model].split(":")
    try:
        main = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise GalenError(f"The trainer for {args.model} is not part of this version of Galen.") from e
    return int(main(args.rest) or 0)


def cmd_eval(args: argparse.Namespace) -> int:
    from evals.cli import run_eval_command

    return run_eval_command(args)


def cmd_audit(args: argparse.Namespace) -> int:
    from agent.audit import verify_chain

    settings = _settings(args)
    path = Path(args.log) if args.log else settings.resolved_data_dir() / "audit.jsonl"
    if args.audit_cmd == "verify":
        report = verify_chain(path)
        if report.ok:
            print(f"audit log {path}: {report.lines} lines, chain intact")
            return 0
        print(f"audit log {path}: {len(report.problems)} problem(s)", file=sys.stderr)
        for p in report.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    from agent.audit_export import export

    out = export(path, since=args.since, out=Path(args.out) if args.out else None)
    print(out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="galen", description="Galen: offline, evidence-checked assistant for medicine and drug discovery.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--backend", dest="llm_backend", choices=["embedded", "openai"], help="LLM backend (overrides GALEN_LLM_BACKEND)")
        sp.add_argument("--policy", dest="routing_policy", choices=["llm", "semantic", "hybrid"], help="routing policy")

    a = sub.add_parser("ask", help="ask one question")
    a.add_argument("question")
    a.add_argument("--attach", action="append", default=[], metavar="FILE", help="attach a file (repeatable)")
    a.add_argument("--thread", help="continue this thread id")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--dry-run", action="store_true", help="show the planned tool calls without running them")
    a.add_argument("--yes", action="store_true",
                   help="accept the facts read from the question without pausing to confirm them (scripts, the harness)")
    from ui.pacs_panel import add_ask_arguments, add_pacs_parser

    add_ask_arguments(a)
    common(a)
    a.set_defaults(func=cmd_ask)
    add_pacs_parser(sub)

    c = sub.add_parser("chat", help="start the chat UI")
    c.add_argument("--host")
    c.add_argument("--port", type=int)
    c.add_argument("--no-login-i-understand", dest="no_login", action="store_true",
                   help="serve a non-loopback address without a users file (anyone who reaches it reads every thread)")
    common(c)
    c.set_defaults(func=cmd_chat)

    d = sub.add_parser("doctor", help="backend, model, tools on/off with reasons, versions")
    d.add_argument("--json", action="store_true")
    common(d)
    d.set_defaults(func=cmd_doctor)

    k = sub.add_parser("kb", help="the guideline knowledge base")
    ksub = k.add_subparsers(dest="kb_cmd", required=True)
    ki = ksub.add_parser("ingest", help="add documents (.md .txt .pdf .html)")
    ki.add_argument("paths", nargs="+")
    ksub.add_parser("list", help="list sources")
    ks = ksub.add_parser("search", help="search passages")
    ks.add_argument("query")
    ks.add_argument("-k", type=int, default=5)
    ks.add_argument("--json", action="store_true")
    kr = ksub.add_parser("remove", help="remove a source")
    kr.add_argument("source")
    k.set_defaults(func=cmd_kb)

    from ui.screen_cli import add_screen_parser

    add_screen_parser(sub)

    t = sub.add_parser("train", help="retrain a shipped model")
    t.add_argument("model", choices=sorted(TRAINERS))
    t.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the trainer")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="run an evaluation suite, or compare two runs")
    e.add_argument("eval_args", nargs=argparse.REMAINDER)
    e.set_defaults(func=cmd_eval)

    au = sub.add_parser("audit", help="verify or export the audit log")
    ausub = au.add_subparsers(dest="audit_cmd", required=True)
    av = ausub.add_parser("verify", help="check the hash chain")
    av.add_argument("--log", help="audit log path (default: the data directory's)")
    ae = ausub.add_parser("export", help="write a review report")
    ae.add_argument("--since", help="YYYY-MM-DD")
    ae.add_argument("--out")
    ae.add_argument("--log")
    au.set_defaults(func=cmd_audit)
    return p


def main(argv: list[str] | None = None) -> int:
    _env_defaults()
    os.umask(0o077)  # everything Galen writes (threads, audit, workspace, store) is owner-only
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        # the eval harness parses its own options (argparse's REMAINDER would reject "--suite")
        args = argparse.Namespace(func=cmd_eval, eval_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GalenError as e:
        print(f"galen: {e.user_message()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("galen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
