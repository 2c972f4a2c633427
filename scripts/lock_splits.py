"""Write ``evals/suites/SPLITS.json``: the SHA-256 of every dev and test split, the lock the tests check.

Run it only when a split is deliberately added; changing a test split after seeing its result
is what the lock exists to catch (``tests/test_split_lock.py``), and the commit that changes this
file says why.

    python scripts/lock_splits.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "evals" / "suites"
MANIFEST = SUITES / "SPLITS.json"


def current() -> dict[str, str]:
    """``{file name: sha256}`` of every ``*.dev.jsonl`` and ``*.test.jsonl`` split."""
    files = sorted(p for p in SUITES.glob("*.jsonl") if p.name.endswith((".dev.jsonl", ".test.jsonl")))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a split differs from the manifest")
    a = ap.parse_args(argv)
    now = current()
    if a.check:
        locked = json.loads(MANIFEST.read_text())["splits"]
        if locked != now:
            print("splits differ from evals/suites/SPLITS.json", file=sys.stderr)
            return 1
        return 0
    MANIFEST.write_text(json.dumps({"about": "SHA-256 of every dev/test split; see scripts/lock_splits.py",
                                    "splits": now}, indent=2) + "\n")
    print(f"locked {len(now)} splits in {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
