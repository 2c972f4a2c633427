"""Load test: N simulated users against one app process on loopback, for a bounded time.

Starts `galen chat` on a free 127.0.0.1 port (template writer unless --llm), then N users each
ask property questions in their own thread through the JSON API, each question carrying a
marker unique to that user. Reports p50/p95 latency, errors, the app's peak memory, and
whether any user ever saw another user's marker (cross-user leakage).

Usage: python scripts/loadtest.py [--users 8] [--seconds 300] [--llm]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from galen.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)O", "CCN(CC)CC", "c1ccncc1", "CC(C)O", "OCCO", "CCCCl"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--llm", action="store_true", help="let the embedded LLM write answers (slower)")
    args = p.parse_args(argv)
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="galen-load-"))
    env = os.environ | {"GALEN_DATA_DIR": str(data), "GALEN_ANSWER_WRITER": "llm" if args.llm else "template",
                        "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    (ROOT / "runs" / "bench").mkdir(parents=True, exist_ok=True)
    app_log = (ROOT / "runs" / "bench" / "load-app.log").open("wb")
    app = subprocess.Popen([sys.executable, "-m", "ui.cli", "chat", "--port", str(port)], env=env, cwd=ROOT,
                           stdout=app_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise SystemExit("the app did not start")
        proc = psutil.Process(app.pid)
        latencies: list[float] = []
        errors: list[str] = []
        leaks: list[str] = []
        peak = [0.0]
        stop = time.time() + args.seconds
        lock = threading.Lock()

        def user(i: int) -> None:
            thread = f"user{i}-{os.getpid()}"
            headers = {"X-Galen-User": f"user{i}"}
            n = 0
            with httpx.Client(base_url=base, timeout=300) as client:
                while time.time() < stop:
                    marker = f"u{i}q{n}"
                    smi = MOLECULES[(i + n) % len(MOLECULES)]
                    t = time.perf_counter()
                    try:
                        r = client.post("/api/ask", json={"question": f"[{marker}] What is the logP of {smi}?", "thread_id": thread}, headers=headers)
                        ok = r.status_code == 200 and smi in r.text
                        if not ok:
                            with lock:
                                errors.append(f"user{i}: HTTP {r.status_code}")
                        hist = client.get(f"/api/threads/{thread}", headers=headers).json()
                        foreign = [m["content"] for m in hist if m["role"] == "user" and f"[u{i}q" not in m["content"]]
                        if foreign:
                            with lock:
                                leaks.append(f"user{i} saw {foreign[:1]}")
                    except httpx.HTTPError as e:
                        with lock:
                            errors.append(f"user{i}: {type(e).__name__}")
                    with lock:
                        latencies.append(time.perf_counter() - t)
                    n += 1

        def sample() -> None:
            while time.time() < stop:
                try:
                    rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                    peak[0] = max(peak[0], rss / 1e6)
                except psutil.Error:
                    pass
                time.sleep(1)

        workers = [threading.Thread(target=user, args=(i,)) for i in range(args.users)] + [threading.Thread(target=sample)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        lat = sorted(latencies)
        out = {"users": args.users, "seconds": args.seconds, "turns": len(lat),
               "p50_s": round(statistics.median(lat), 3) if lat else None,
               "p95_s": round(lat[int(0.95 * (len(lat) - 1))], 3) if lat else None,
               "errors": len(errors), "error_samples": errors[:5], "cross_user_leaks": leaks[:5],
               "peak_rss_mb": round(peak[0], 1)}
        print(json.dumps(out, indent=2))
        (ROOT / "runs" / "bench").mkdir(parents=True, exist_ok=True)
        (ROOT / "runs" / "bench" / "load.json").write_text(json.dumps(out, indent=2))
        return 0 if not errors and not leaks else 1
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()


if __name__ == "__main__":
    sys.exit(main())
