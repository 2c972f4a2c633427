"""Benchmark of the chat UI as a person feels it: a property question typed into a real browser.

Measures, per question, the time from pressing Enter to the first streamed text of the reply
(a draft token, or the answer itself when the writer does not stream) and to the full reply,
and reports p50/p95. Starts its own app on a free port with a temporary data directory, and
drives Debian's Chromium through Playwright (``scripts/install_browser.sh`` installs it).

    python -m ui.bench --n 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Different molecules so no answer comes from a cache of the one before.
QUESTIONS = [f"What is the logP of {s}?" for s in (
    "CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "OC(=O)c1ccccc1O", "CCN(CC)CC", "c1ccc2ccccc2c1", "CCOC(=O)c1ccccc1",
    "O=C(O)CCc1ccccc1")]
_WATCH = """() => {
  window.__galen = {t0: performance.now(), first: null};
  const chat = document.querySelector('#galen-chat');
  const n0 = (chat.innerText.match(/What is the logP/g) || []).length;
  new MutationObserver((_, obs) => {
    const t = chat.innerText;
    const asked = (t.match(/What is the logP/g) || []).length > n0;
    const tail = t.split('What is the logP').pop();
    if (asked && !window.__galen.first && /draft, being checked|MW|logP \\d/.test(tail)) {
      window.__galen.first = performance.now(); obs.disconnect();
    }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""
_DONE = """(q) => {
  const t = document.querySelector('#galen-chat')?.innerText || '';
  const box = document.querySelector('#galen-input textarea');
  return t.includes(q) && !t.includes('Working…') && !t.includes('draft, being checked') && box && !box.disabled;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 3)


def _start_app(data: Path, writer: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GALEN_DATA_DIR": str(data), "GALEN_ANSWER_WRITER": writer, "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(root), "GRADIO_TEMP_DIR": str(data / "gradio-tmp")}
    env.pop("GALEN_UI_USERS_FILE", None)
    log = (data / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "chat", "--port", str(port)], cwd=root, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited; see {data / 'app.log'}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return proc, url
        except OSError:
            time.sleep(1)
    proc.kill()
    raise RuntimeError("the app did not start within 300 s")


def run(n: int = 5, writer: str = "llm", warmup: int = 1) -> dict[str, Any]:
    """Ask ``n`` property questions through the browser; return p50/p95 of first text and full reply.

    Args:
        n: measured questions (after ``warmup`` unmeasured ones that load the models).
        writer: ``GALEN_ANSWER_WRITER`` for the app: ``llm`` streams draft tokens, ``template`` does not.
        warmup: questions asked first and not measured.

    Returns:
        ``{"n", "writer", "first_token_s": {"p50", "p95", "all"}, "full_reply_s": {...}}``.
    """
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="galen-bench-ui-"))
    proc, url = _start_app(data, writer)
    first, full = [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
            page.goto(url)
            page.wait_for_selector("#galen-input textarea", timeout=120_000)
            for i in range(warmup + n):
                q = QUESTIONS[i % len(QUESTIONS)]
                page.evaluate(_WATCH)
                page.fill("#galen-input textarea", q)
                page.keyboard.press("Enter")
                page.wait_for_function(_DONE, arg=q, timeout=300_000, polling=50)
                t = page.evaluate("() => [window.__galen.t0, window.__galen.first, performance.now()]")
                if i >= warmup:
                    done_s = (t[2] - t[0]) / 1000
                    full.append(round(done_s, 3))
                    first.append(round((t[1] - t[0]) / 1000 if t[1] else done_s, 3))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"n": n, "writer": writer,
            "first_token_s": {"p50": _pct(first, 0.5), "p95": _pct(first, 0.95), "all": first},
            "full_reply_s": {"p50": _pct(full, 0.5), "p95": _pct(full, 0.95), "all": full}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--writer", choices=["llm", "template"], default="llm")
    args = p.parse_args(argv)
    print(json.dumps(run(args.n, args.writer), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
