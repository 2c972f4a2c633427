"""The Gradio case workspace: chat with attachments, evidence panels, tool trace, threads.

Wiring only: what each panel shows comes from the pure functions in ``ui/panels.py``; every
interface string from ``ui/i18n.py``. Per-person state lives in the agent's threads (SQLite
checkpointer) and in the browser (``gr.BrowserState`` keeps the owner id and the open thread, so a
reload resumes it); nothing per-person is kept on a module-level object.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from galen.errors import ConfigError, GalenError  # noqa: E402
from galen.settings import Settings  # noqa: E402
from ui import panels  # noqa: E402
from ui.i18n import LANGUAGES, t  # noqa: E402

log = logging.getLogger("galen.ui")
CSS = """
.galen-demo {background:#b45309;color:white;padding:2px 8px;border-radius:4px;font-weight:600}
#galen-header {border-bottom:1px solid #ddd}
"""
NO_SESSION: dict[str, str] = {"owner": "", "thread_id": ""}


def _browser_secret(settings: Settings) -> str:
    """A stable secret for encrypting the browser-side session (kept 0600 in the data dir)."""
    path = settings.resolved_data_dir() / "ui_browser_secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _publish(paths: list[str]) -> list[str]:
    """Copy files into a fresh folder Gradio may serve; one folder per turn, never shared."""
    if not paths:
        return []
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / "galen" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in paths:
        dest = folder / Path(p).name
        shutil.copyfile(p, dest)
        out.append(str(dest))
    return out


class Workspace:
    """The app's handlers, bound to one agent (shared resources only)."""

    def __init__(self, agent: Any, users: bool) -> None:
        from agent.llm import describe_backend
        from agent.prompts import INTENDED_USE
        from tools.registry import all_status

        self.agent, self.users = agent, users
        self.settings: Settings = agent.settings
        self.backend = describe_backend(self.settings)
        self.statuses = all_status()
        self.intended_use = INTENDED_USE

    # --- identity -------------------------------------------------------------------------
    def owner(self, session: dict[str, str], request: gr.Request | None) -> str:
        """The logged-in user, else the browser's random id (made on first visit)."""
        user = getattr(request, "username", None) if request is not None else None
        if user:
            return f"user:{user}"
        return session.get("owner") or f"browser:{uuid.uuid4().hex}"

    def header(self, lang: str, request: gr.Request | None = None) -> str:
        user = getattr(request, "username", None) if request is not None else None
        return panels.header_markdown(self.backend, self.statuses, self.intended_use, lang, user)

    def threads_update(self, owner: str, selected: str | None, lang: str) -> dict[str, Any]:
        choices = panels.thread_choices(self.agent.list_threads(owner))
        ids = {c[1] for c in choices}
        return gr.update(choices=choices, value=selected if selected in ids else None,
                         info="" if choices else t(lang, "no_threads"))

    def history(self, thread_id: str, owner: str) -> list[dict[str, str]]:
        if not thread_id:
            return []
        try:
            return self.agent.history(thread_id, owner)
        except GalenError:
            return []

    # --- events ---------------------------------------------------------------------------
    def on_load(self, session: dict[str, str] | None, lang: str, request: gr.Request):
        session = dict(session or NO_SESSION)
        owner = self.owner(session, request)
        thread_id = session.get("thread_id") or ""
        if thread_id and self.agent.threads.owner(thread_id) not in (None, owner):
            thread_id = ""  # a thread id from someone else's browser state: never show it
        session = {"owner": owner, "thread_id": thread_id}
        return (session, self.history(thread_id, owner), self.threads_update(owner, thread_id, lang),
                self.header(lang, request))

    def on_select(self, thread_id: str | None, session: dict[str, str], lang: str, request: gr.Request):
        owner = self.owner(session, request)
        session = {"owner": owner, "thread_id": thread_id or ""}
        return (session, self.history(thread_id or "", owner), *self.empty_panels(lang))

    def on_new(self, session: dict[str, str], lang: str, request: gr.Request):
        owner = self.owner(session, request)
        return ({"owner": owner, "thread_id": ""}, [], self.threads_update(owner, None, lang), *self.empty_panels(lang))

    def on_language(self, lang: str, session: dict[str, str], request: gr.Request):
        owner = self.owner(session, request)
        threads = self.threads_update(owner, session.get("thread_id"), lang)
        return (self.header(lang, request), gr.update(label=t(lang, "message"), placeholder=t(lang, "placeholder")),
                {**threads, "label": t(lang, "threads")}, gr.update(value=t(lang, "new_thread")),
                gr.update(label=t(lang, "chat")), gr.update(label=t(lang, "molecule_table")),
                gr.update(label=t(lang, "downloads")), gr.update(label=t(lang, "slice")),
                gr.update(label=t(lang, "tab_steps")),
                *(gr.update(label=t(lang, f"tab_{k}")) for k in ("images", "molecules", "citations", "downloads")))

    def on_slice(self, index: float, shown: list[list[str]]):
        if not shown:
            return gr.update(value=None, label=None)
        path, label = shown[max(0, min(int(index) - 1, len(shown) - 1))]
        return gr.update(value=path, label=label)

    def empty_panels(self, lang: str) -> tuple[Any, ...]:
        """Panel values for a turn with no evidence: steps, slider, image, grid, table, citations, files, badge, shown."""
        return (t(lang, "no_steps"), gr.update(visible=False, value=1, maximum=2), gr.update(value=None, label=None),
                gr.update(value=None, visible=False), gr.update(value=None, visible=False), t(lang, "no_citations"),
                None, "", [])

    def result_panels(self, result: Any, question: str, attachments: list[str], lang: str) -> tuple[Any, ...]:
        vol = panels.volume_images(result)
        shown = [[p, lab] for p, (_, lab) in zip(_publish([p for p, _ in vol]), vol, strict=True)]
        grid = panels.molecule_grid(result)
        headers, rows = panels.molecule_table(result)
        report = Path(_publish_text(panels.case_report(question, attachments, result, lang), "case_report.md"))
        files = _publish(panels.downloads(result)) + [str(report)]
        return (panels.steps_markdown(result.tool_calls, lang),
                gr.update(visible=len(shown) > 1, value=1, minimum=1, maximum=max(2, len(shown)), step=1),
                gr.update(value=shown[0][0] if shown else None, label=shown[0][1] if shown else None),
                gr.update(value=_publish([grid])[0] if grid else None, visible=bool(grid)),
                gr.update(value={"headers": headers, "data": rows} if rows else None, visible=bool(rows)),
                panels.citations_markdown(result, lang), files, panels.demo_badge(result, lang), shown)

    def on_submit(self, message: dict[str, Any] | None, chat: list[dict[str, Any]], session: dict[str, str],
                  lang: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        message = message or {}
        text = (message.get("text") or "").strip()
        files = [f if isinstance(f, str) else f.get("path", "") for f in message.get("files") or []]
        owner = self.owner(session, request)
        thread_id = session.get("thread_id") or uuid.uuid4().hex[:12]
        chat = list(chat or [])
        names = ", ".join(Path(f).name for f in files)
        chat.append({"role": "user", "content": text + (f"\n\n📎 {t(lang, 'attached')}: {names}" if names else "")})
        keep = (gr.update(), gr.update(), *(gr.update() for _ in range(9)))

        def emit(msg_box: Any, new_session: dict[str, str], threads: Any, panel_values: tuple[Any, ...]):
            return (msg_box, chat, new_session, threads, *panel_values)

        problem = self._check_files(files, lang) or (None if text else t(lang, "empty_question"))
        if problem:
            chat.append({"role": "assistant", "content": panels.error_markdown(problem, lang)})
            yield emit(gr.update(value=None), session, gr.update(), self.empty_panels(lang))
            return
        chat.append({"role": "assistant", "content": f"_{t(lang, 'working')}_"})
        yield emit(gr.update(value=None, interactive=False), session, gr.update(), keep[2:])
        draft, calls = "", []
        try:
            for kind, payload in self.agent.stream(text, attachments=files, thread_id=thread_id, owner=owner):
                if kind == "step" and not draft:
                    chat[-1]["content"] = f"_{t(lang, 'working')}_ ({payload})"
                    yield emit(gr.update(), session, gr.update(), keep[2:])
                elif kind == "call":
                    calls.append(payload)
                    chat[-1]["content"] = f"_{t(lang, 'working')}_ ({payload['name']})"
                    yield emit(gr.update(), session, gr.update(),
                               (panels.steps_markdown(calls, lang), *(gr.update() for _ in range(8))))
                elif kind == "token":
                    draft += payload
                    chat[-1]["content"] = f"{draft}\n\n_({t(lang, 'draft')})_"
                    yield emit(gr.update(), session, gr.update(), keep[2:])
                elif kind == "result":
                    new_session = {"owner": owner, "thread_id": payload.thread_id}
                    if files:  # the stored study, summarised under the question ("CT, 1 series, 64 slices…")
                        chat[-2]["content"] = text + "\n\n" + "\n".join(f"📎 {s}" for s in self._summaries(files))
                    chat[-1]["content"] = panels.answer_markdown(payload, lang)
                    yield emit(gr.update(value=None, interactive=True), new_session,
                               self.threads_update(owner, payload.thread_id, lang),
                               self.result_panels(payload, text, files, lang))
        except Exception as e:  # noqa: BLE001 - the UI boundary: the person gets a sentence, the log the traceback
            if isinstance(e, GalenError):
                message = e.user_message()
            else:
                log.exception("turn failed in thread %s", thread_id)
                message = t(lang, "internal_error")
            chat[-1]["content"] = panels.error_markdown(message, lang)
            yield emit(gr.update(value=None, interactive=True), session,
                       self.threads_update(owner, session.get("thread_id"), lang), self.empty_panels(lang))

    def _summaries(self, files: list[str]) -> list[str]:
        """One line per attachment as the workspace stored it (already stored: content-addressed, cheap)."""
        from agent.workspace import store_attachment

        out = []
        for f in files:
            try:
                out.append(f"{Path(f).name}: {store_attachment(Path(f), self.settings).summary}")
            except GalenError:
                out.append(Path(f).name)
        return out

    def _check_files(self, files: list[str], lang: str) -> str | None:
        limit = self.settings.max_attachment_mb
        for f in files:
            size = Path(f).stat().st_size / 1e6 if Path(f).is_file() else 0.0
            if size > limit:
                return t(lang, "too_large", name=Path(f).name, size=size, limit=limit)
        return None


def _publish_text(text: str, name: str) -> str:
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()) / "galen" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return str(folder / name)


def build_app(agent_or_settings: Any = None) -> gr.Blocks:
    """The case workspace as a ``gr.Blocks`` (not launched).

    Args:
        agent_or_settings: an ``agent.runner.Agent`` to share, or ``Settings`` to build one from
            (the default settings when ``None``).
    """
    from agent.runner import Agent

    agent = agent_or_settings if isinstance(agent_or_settings, Agent) else Agent(agent_or_settings)
    ws = Workspace(agent, users=agent.settings.ui_users_file is not None)
    lang0 = "en"
    with gr.Blocks(title="Galen", analytics_enabled=False) as app:
        session = gr.BrowserState(dict(NO_SESSION), storage_key="galen-session", secret=_browser_secret(agent.settings))
        shown = gr.State([])
        with gr.Row():
            header = gr.Markdown(ws.header(lang0), elem_id="galen-header")
            lang = gr.Radio(LANGUAGES, value=lang0, label="Language / 语言", scale=0, min_width=200, elem_id="galen-lang")
        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                new_btn = gr.Button(t(lang0, "new_thread"), elem_id="galen-new")
                threads = gr.Radio([], label=t(lang0, "threads"), elem_id="galen-threads")
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label=t(lang0, "chat"), height=520, elem_id="galen-chat")
                badge = gr.Markdown("", elem_id="galen-badge")
                box = gr.MultimodalTextbox(label=t(lang0, "message"), placeholder=t(lang0, "placeholder"),
                                           file_count="multiple", elem_id="galen-input")
                with gr.Accordion(t(lang0, "tab_steps"), open=True, elem_id="galen-steps-box") as steps_box:
                    steps = gr.Markdown(t(lang0, "no_steps"), elem_id="galen-steps")
            with gr.Column(scale=3):
                with gr.Tab(t(lang0, "tab_images"), elem_id="tab-images") as tab_images:
                    image = gr.Image(interactive=False, elem_id="galen-image", buttons=["download", "fullscreen"])
                    slider = gr.Slider(1, 2, value=1, step=1, label=t(lang0, "slice"), visible=False, elem_id="galen-slice")
                with gr.Tab(t(lang0, "tab_molecules"), elem_id="tab-molecules") as tab_molecules:
                    grid = gr.Image(interactive=False, label=t(lang0, "grid"), elem_id="galen-grid", visible=False)
                    table = gr.Dataframe(label=t(lang0, "molecule_table"), interactive=False, visible=False,
                                         elem_id="galen-table", wrap=True)
                with gr.Tab(t(lang0, "tab_citations"), elem_id="tab-citations") as tab_citations:
                    cites = gr.Markdown(t(lang0, "no_citations"), elem_id="galen-citations")
                with gr.Tab(t(lang0, "tab_downloads"), elem_id="tab-downloads") as tab_downloads:
                    files = gr.File(label=t(lang0, "downloads"), file_count="multiple", interactive=False,
                                    elem_id="galen-files")
        panel_outputs = [steps, slider, image, grid, table, cites, files, badge, shown]
        app.load(ws.on_load, [session, lang], [session, chatbot, threads, header])
        box.submit(ws.on_submit, [box, chatbot, session, lang], [box, chatbot, session, threads, *panel_outputs])
        threads.input(ws.on_select, [threads, session, lang], [session, chatbot, *panel_outputs])
        new_btn.click(ws.on_new, [session, lang], [session, chatbot, threads, *panel_outputs])
        lang.change(ws.on_language, [lang, session], [header, box, threads, new_btn, chatbot, table, files, slider,
                                                 steps_box, tab_images, tab_molecules, tab_citations, tab_downloads])
        slider.change(ws.on_slice, [slider, shown], [image])
    return app


def launch(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Serve the workspace and its JSON API (blocking). Offline: no analytics, never shared;
    127.0.0.1 by default."""
    import uvicorn
    from fastapi import FastAPI

    from agent.runner import Agent
    from galen.settings import get_settings
    from ui.api import build_router
    from ui.auth import make_checker

    settings = settings or get_settings()
    try:
        auth = make_checker(settings.ui_users_file) if settings.ui_users_file else None
    except (OSError, ValueError) as e:
        raise ConfigError(f"The users file {settings.ui_users_file} cannot be used: {e}") from e
    host = host or settings.ui_host
    port = port or settings.ui_port
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        logging.getLogger(__name__).warning("Serving on %s without a users file: anyone who can reach it can use Galen.", host)
    agent = Agent(settings)
    blocks = build_app(agent)
    blocks.queue(default_concurrency_limit=2)
    server = FastAPI(title="Galen", docs_url=None, redoc_url=None, openapi_url=None)
    server.include_router(build_router(agent, settings))
    server = gr.mount_gradio_app(server, blocks, path="", server_name=host, server_port=port, auth=auth,
                                 max_file_size=f"{settings.max_attachment_mb:g}mb", show_error=False, css=CSS,
                                 footer_links=[])
    print(f"Galen is running at http://{host}:{port}", flush=True)
    uvicorn.run(server, host=host, port=port, log_level="warning")
