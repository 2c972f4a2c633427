"""``galen screen FILE``: screen a CSV/TSV/SMI table or an SDF of molecules from the command line.

Writes ``<out>.csv`` and ``<out>.sdf`` (every column), and ``<out>.invalid.csv`` listing each
skipped row by line with the reason; prints a summary and the first invalid rows on stderr.
A progress bar runs on stderr while it works. ``--ray ADDRESS`` runs the chunks on a Ray
cluster instead of local worker processes (same output).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHOWN_INVALID = 10


def add_screen_parser(sub) -> None:
    """Register ``galen screen`` on the CLI's subparsers."""
    s = sub.add_parser("screen", help="screen a CSV/SDF file of molecules (descriptors, rules, alerts, logS, BBB)")
    s.add_argument("file", help="a .csv/.tsv/.smi table with a SMILES column, or an .sdf (up to 100,000 molecules)")
    s.add_argument("--out", help="output path without suffix (default: beside the input, <name>.screened)")
    s.add_argument("--no-learned", dest="learned", action="store_false", help="skip the learned logS/BBB predictions")
    s.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    s.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (e.g. ray://head:10001 or 127.0.0.1:6379)")
    s.add_argument("--no-sdf", dest="sdf", action="store_false", help="write the CSV only")
    s.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_screen)


def cmd_screen(args: argparse.Namespace) -> int:
    from galen.errors import InvalidInput
    from specialists.molecules.screen import screen_file

    src = Path(args.file).expanduser()
    if args.workers is not None and args.workers < 1:
        raise InvalidInput(f"--workers must be at least 1 (got {args.workers}).")
    out = Path(args.out).expanduser() if args.out else src.with_name(src.name.rsplit(".", 1)[0] + ".screened")
    if not out.parent.is_dir():
        raise InvalidInput(f"The output folder {out.parent} does not exist.", hint="Create it or give another --out.")
    map_chunks = None
    if args.ray:
        from evals.ray_runner import ray_map

        map_chunks = ray_map(args.ray)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="mol", desc=f"screening {src.name}", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        result = screen_file(src, learned=args.learned, map_chunks=map_chunks, workers=args.workers, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    paths = {"csv": str(result.write_csv(out.with_name(out.name + ".csv")))}
    if args.sdf:
        paths["sdf"] = str(result.write_sdf(out.with_name(out.name + ".sdf")))
    if result.invalid:
        paths["invalid"] = str(result.write_invalid(out.with_name(out.name + ".invalid.csv")))
    print(result.summary() + (f"; SMILES column '{result.smiles_column}' (found by {result.found_by})"
                              if result.smiles_column else ""), file=sys.stderr)
    for r in result.invalid[:SHOWN_INVALID]:
        print(f"  line {r['line']}: {r['reason']}", file=sys.stderr)
    if len(result.invalid) > SHOWN_INVALID:
        print(f"  ... {len(result.invalid) - SHOWN_INVALID} more in {paths['invalid']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"screened": len(result.rows), "invalid": len(result.invalid), "seconds": result.seconds,
                          "files": paths, "invalid_rows": result.invalid[:100], "versions": result.versions}))
    else:
        for kind, p in paths.items():
            print(f"{kind}: {p}")
    return 0
