"""Does a login for an unknown username answer faster than one for a known username? (a timing oracle)

Times :class:`ui.auth.Authenticator` on wrong passwords for a known and an unknown name, interleaved,
``--n`` samples each (the lockout is disabled for the measurement), and writes
``evals/results/bench.login_timing.json``: p50 / p95 per kind and the ratio unknown ÷ known (1.0 means
no oracle; before the fix it was about 1/40).

    .venv/bin/python scripts/measure_login_timing.py [--n 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args()
    from evals.results import write_result
    from ui.auth import Authenticator, LoginGuard, hash_password

    users = Path(tempfile.mkdtemp()) / "users"
    users.write_text(f"alice:{hash_password('correct horse battery')}\n")
    never = LoginGuard(free=10**9, lock_after=10**9)
    auth = Authenticator(users, never, LoginGuard(free=10**9, lock_after=10**9))
    auth.check("warm-up", "x")
    known, unknown = [], []
    for i in range(args.n):
        for name, out in (("alice", known), (f"nobody{i}", unknown)) if i % 2 else ((f"nobody{i}", unknown), ("alice", known)):
            t = time.perf_counter()
            auth.check(name, "wrong password")
            out.append(time.perf_counter() - t)

    def q(xs: list[float], p: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]

    metrics = {"known_p50_ms": round(statistics.median(known) * 1e3, 2), "known_p95_ms": round(q(known, 0.95) * 1e3, 2),
               "unknown_p50_ms": round(statistics.median(unknown) * 1e3, 2),
               "unknown_p95_ms": round(q(unknown, 0.95) * 1e3, 2),
               "ratio_unknown_to_known_p50": round(statistics.median(unknown) / statistics.median(known), 3)}
    path = write_result("bench.login_timing", metrics, n=args.n, kind="bench",
                        notes="ui.auth.Authenticator.check, wrong password, known vs unknown username, interleaved; "
                              "lockout off for the measurement")
    print(metrics, "->", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
