"""Browser-test fixtures: the app in a subprocess on a free port, Debian's Chromium via Playwright.

One app process per test module (startup imports every tool, which is slow on a loaded box).
Screenshots land in ``test-artifacts/ui/``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 240


def _ensure_chromium() -> None:
    """Install the browser through the project's own script when it is missing (idempotent)."""
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "install_browser.sh")], check=False, timeout=900)


class AppServer:
    """A running ``galen chat`` subprocess."""

    def __init__(self, data_dir: Path, env_extra: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "GALEN_DATA_DIR": str(data_dir), "GALEN_ANSWER_WRITER": "template",
               "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT),
               **(env_extra or {})}
        self.log = data_dir / "app.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "chat", "--port", str(self.port)],
                                     cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(1.0)
        raise RuntimeError(f"the app did not answer within {START_TIMEOUT_S} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_app(env_extra: dict[str, str] | None = None) -> tuple[AppServer, Path]:
    data = Path(tempfile.mkdtemp(prefix="galen-ui-"))
    return AppServer(data, env_extra), data


LOGIN_PASSWORDS = {"alice": secrets.token_urlsafe(12), "bob": secrets.token_urlsafe(12)}


@pytest.fixture(scope="session")
def app_servers() -> Iterator[dict[str, AppServer]]:
    """Both apps (open, and with a users file) started at once, so their slow start-ups overlap."""
    from ui.auth import hash_password

    users = Path(tempfile.mkdtemp(prefix="galen-ui-users-")) / "users.txt"
    users.write_text("".join(f"{u}:{hash_password(p)}\n" for u, p in LOGIN_PASSWORDS.items()))
    users.chmod(0o600)
    servers = {"open": start_app()[0], "login": start_app({"GALEN_UI_USERS_FILE": str(users)})[0]}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _ensure_chromium()
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed and scripts/install_browser.sh could not install it (needs root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # Playwright gives every launch a fresh temporary user-data dir, and every new_context()
        # its own storage, which the isolation scenarios rely on.
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


WORKING = ("Working…", "draft, being checked")


def open_page(browser, url: str, **context_kw):
    """A page in a fresh browser context (own storage), with the app loaded."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1100}, **context_kw)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("#galen-input textarea", timeout=60_000)
    page.wait_for_timeout(500)  # let the load event restore the thread before typing
    return page


def chat_text(page) -> str:
    return page.inner_text("#galen-chat")


def ask(page, question: str, files: list[Path] | None = None, timeout_s: float = 150.0) -> str:
    """Type ``question`` (attaching ``files``), send it, and wait for the final reply; returns the chat text."""
    if files:
        page.set_input_files("#galen-input input[type=file]", [str(f) for f in files])
        page.wait_for_timeout(1500)  # the upload finishes before submit is accepted
    before = chat_text(page).count(question)
    page.fill("#galen-input textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """([q, n, working]) => {
            const t = document.querySelector('#galen-chat')?.innerText || '';
            const box = document.querySelector('#galen-input textarea');
            return t.split(q).length - 1 > n && !working.some(w => t.includes(w)) && box && !box.disabled;
        }""",
        arg=[question, before, list(WORKING)], timeout=timeout_s * 1000)
    page.wait_for_timeout(700)  # the panels update in the same event; give the DOM a moment
    return chat_text(page)


def show_tab(page, key: str) -> None:
    """Open an evidence tab, through Gradio's overflow menu when the tab bar is too narrow."""
    button = page.locator(f"#tab-{key}-button")
    if button.count() and button.first.is_visible():
        button.first.click()
    else:
        page.locator(".overflow-menu button, button.overflow-dropdown").first.click()
        page.locator(f"#tab-{key}-button").last.click()
    page.wait_for_timeout(400)
