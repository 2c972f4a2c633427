"""The Gradio case workspace: chat with attachments, evidence panels, tool trace, threads.

Wiring only: what each panel shows comes from the pure functions in ``ui/panels.py``; every
interface string from ``ui/i18n.py``. Per-person state lives in the agent's threads (SQLite
checkpointer); the browser (``gr.BrowserState``) remembers only which thread is open, so a reload
resumes it. Nothing per-person is kept on a module-level object.

Nothing a client sends is trusted: the caller is the signed-in user (or, without a users file,
the one local identity); the open thread id is checked against that owner on every event; the
chat history is rebuilt from the thread on the server, never taken from the browser; and a file
entry in a message is read only if it is this server's own upload (:mod:`ui.uploads`). Gradio's
own file-access checks are switched on even though the app is mounted on FastAPI (Gradio skips
them for an app it did not launch itself).
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from galen.errors import ConfigError, GalenError  # noqa: E402
from galen.privacy import scrub, scrub_filename  # noqa: E402
from galen.settings import Settings  # noqa: E402
from ui import panels, uploads  # noqa: E402
from ui.i18n import LANGUAGES, t  # noqa: E402

log = logging.getLogger("galen.ui")
CSS = """
.galen-demo {background:#b45309;color:white;padding:2px 8px;border-radius:4px;font-weight:600}
#galen-header {border-bottom:1px solid #ddd}
"""
NO_SESSION: dict[str, str] = {"thread_id": ""}
LOCAL_OWNER = "local"
PANELS = 11  # evidence panels every turn updates (see Workspace.empty_panels)
#: Not a secret: Gradio's browser state is encrypted in the browser with a key the page itself
#: receives, so it protects nothing. The state holds only the open thread's id, which the server
#: checks against the signed-in owner on every event.
BROWSER_STATE_KEY = "galen-open-thread-v1"
#: The client address of the login request being handled (for the per-address lockout).
_login_client: contextvars.ContextVar[str | None] = contextvars.ContextVar("galen_login_client", default=None)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        self.cache = uploads.cache_root(self.settings.resolved_data_dir())
        self.blocks: Any = None  # set by build_app: Gradio records its uploads there
        from ui.pacs_tab import PacsTab

        tab = PacsTab(self.settings)
        self.pacs: PacsTab | None = tab if tab.enabled else None

    # --- identity -------------------------------------------------------------------------
    def owner(self, request: gr.Request | None) -> str:
        """The signed-in user; without a users file, the one local identity (never the browser's say)."""
        user = getattr(request, "username", None) if request is not None else None
        if self.users:
            if not user:  # Gradio's login guards every route; this is a second lock on the door
                raise ConfigError("Not signed in.")
            return f"user:{user}"
        return LOCAL_OWNER

    def open_thread(self, session: dict[str, str] | None, owner: str) -> str:
        """The browser's open thread if it is ``owner``'s, else '' (an unknown or foreign id is ignored)."""
        thread_id = str((session or {}).get("thread_id") or "")[:64] if isinstance(session, dict) else ""
        if not thread_id:
            return ""
        try:
            self.agent.check_access(thread_id, owner, must_exist=True, action="ui-open")  # audits a refusal
        except GalenError:
            return ""
        return thread_id

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
        except GalenError:  # not found, or someone else's: shown as nothing (and audited)
            return []

    # --- events ---------------------------------------------------------------------------
    def on_load(self, session: dict[str, str] | None, lang: str, request: gr.Request):
        owner = self.owner(request)
        thread_id = self.open_thread(session, owner)
        return ({"thread_id": thread_id}, self.history(thread_id, owner), self.threads_update(owner, thread_id, lang),
                self.header(lang, request))

    def on_select(self, thread_id: str | None, session: dict[str, str], lang: str, request: gr.Request):
        owner = self.owner(request)
        chosen = self.open_thread({"thread_id": thread_id or ""}, owner)
        if thread_id and not chosen:  # a value the server never offered: audited, answered with nothing
            self.history(str(thread_id)[:64], owner)
        return ({"thread_id": chosen}, self.history(chosen, owner), *self.empty_panels(lang))

    def on_new(self, session: dict[str, str], lang: str, request: gr.Request):
        owner = self.owner(request)
        return ({"thread_id": ""}, [], self.threads_update(owner, None, lang), *self.empty_panels(lang))

    def on_language(self, lang: str, session: dict[str, str], request: gr.Request):
        owner = self.owner(request)
        threads = self.threads_update(owner, self.open_thread(session, owner), lang)
        return (self.header(lang, request), gr.update(label=t(lang, "message"), placeholder=t(lang, "placeholder")),
                {**threads, "label": t(lang, "threads")}, gr.update(value=t(lang, "new_thread")),
                gr.update(label=t(lang, "chat")), gr.update(label=t(lang, "molecule_table")),
                gr.update(label=t(lang, "downloads")), gr.update(label=t(lang, "slice")),
                gr.update(label=t(lang, "tab_steps")),
                *(gr.update(label=t(lang, f"tab_{k}")) for k in ("images", "molecules", "citations", "downloads")))

    @staticmethod
    def on_pick_language(lang: str, session: dict[str, str]) -> dict[str, str]:
        """The person picked the interface language: it no longer follows the questions'."""
        return {**(session or {}), "lang": lang}

    @staticmethod
    def turn_language(text: str, lang: str, session: dict[str, str] | None) -> str:
        """The interface language for a turn: the person's pick, else the question's (answers always
        follow the question's language; see agent.i18n)."""
        from agent.i18n import answer_language

        picked = (session or {}).get("lang")
        if picked in ("en", "zh"):
            return str(picked)
        return answer_language(text) if text else lang

    def on_slice(self, index: float, shown: list[list[str]]):
        if not shown:
            return gr.update(value=None, label=None)
        path, label = shown[max(0, min(int(index) - 1, len(shown) - 1))]
        return gr.update(value=path, label=label)

    def empty_panels(self, lang: str) -> tuple[Any, ...]:
        """Panel values for a turn with no evidence: steps, slider, image, grid, table, citations, files, badge,
        shown, confirmation card, card table."""
        return (t(lang, "no_steps"), gr.update(visible=False, value=1, maximum=2), gr.update(value=None, label=None),
                gr.update(value=None, visible=False), gr.update(value=None, visible=False), t(lang, "no_citations"),
                None, "", [], gr.update(visible=False), gr.update(value=None))

    def card(self, result: Any, lang: str) -> tuple[Any, Any]:
        """The confirmation card: shown with the facts to check when the turn paused, hidden otherwise."""
        pending = getattr(result, "pending", None)
        if not pending:
            return gr.update(visible=False), gr.update(value=None)
        headers, rows = panels.confirmation_rows(pending, lang)
        return gr.update(visible=True), gr.update(value={"headers": headers, "data": rows})

    def result_panels(self, result: Any, question: str, names: list[str], lang: str) -> tuple[Any, ...]:
        vol = panels.volume_images(result)
        shown = [[p, lab] for p, (_, lab) in zip(uploads.publish([p for p, _ in vol]), vol, strict=True)]
        grid = panels.molecule_grid(result)
        headers, rows = panels.molecule_table(result)
        # The report holds what the thread store holds: scrubbed text unless the settings keep raw text.
        text = question if self.settings.keep_raw_text else scrub(question)
        report = Path(uploads.publish_text(panels.case_report(text, names, result, lang), "case_report.md"))
        files = uploads.publish(panels.downloads(result)) + [str(report)]
        return (panels.steps_markdown(result.tool_calls, lang),
                gr.update(visible=len(shown) > 1, value=1, minimum=1, maximum=max(2, len(shown)), step=1),
                gr.update(value=shown[0][0] if shown else None, label=shown[0][1] if shown else None),
                gr.update(value=uploads.publish([grid])[0] if grid else None, visible=bool(grid)),
                gr.update(value={"headers": headers, "data": rows} if rows else None, visible=bool(rows)),
                panels.citations_markdown(result, lang), files, panels.demo_badge(result, lang), shown,
                *self.card(result, lang))

    def on_submit(self, message: dict[str, Any] | None, session: dict[str, str], lang: str, fetched: Any,
                  request: gr.Request) -> Iterator[tuple[Any, ...]]:
        message = message if isinstance(message, dict) else {}
        text = str(message.get("text") or "").strip()
        owner = self.owner(request)
        lang = self.turn_language(text, lang, session)
        pick = {"lang": session["lang"]} if isinstance(session, dict) and session.get("lang") in ("en", "zh") else {}
        thread_id = self.open_thread(session, owner)
        new_thread = not thread_id
        thread_id = thread_id or uuid.uuid4().hex[:12]
        # The history shown is the thread's own, read on the server; the browser's copy is never used.
        chat = [] if new_thread else self.history(thread_id, owner)
        files, refused = self._accept(message.get("files") or [])
        from agent.workspace import safe_name

        names = [safe_name(f) for f in files]
        study = [str(fetched.folder)] if fetched is not None and getattr(fetched, "folder", None) else []
        # The message is shown as the thread stores it (scrubbed unless raw text is kept), as a reload would.
        shown = text if self.settings.keep_raw_text else scrub(text)
        chat.append({"role": "user", "content": shown + (f"\n\n📎 {t(lang, 'attached')}: {', '.join(names)}" if names else "")})
        keep = (gr.update(), gr.update(), *(gr.update() for _ in range(PANELS)))
        session = {"thread_id": "" if new_thread else thread_id, **pick}

        def emit(msg_box: Any, new_session: dict[str, str], threads: Any, panel_values: tuple[Any, ...]):
            # the last output is the language switch: it follows the question unless the person picked one
            return (msg_box, chat, new_session, threads, *panel_values, gr.update(value=lang))

        try:
            problem = (t(lang, "upload_refused") if refused else None) or self._check_files(files, lang) or (
                None if text else t(lang, "empty_question"))
            if problem:
                chat.append({"role": "assistant", "content": panels.error_markdown(problem, lang)})
                yield emit(gr.update(value=None), session, gr.update(), self.empty_panels(lang))
                return
            chat.append({"role": "assistant", "content": f"_{t(lang, 'working')}_"})
            yield emit(gr.update(value=None, interactive=False), session, gr.update(), keep[2:])
            events = self.agent.stream(text, attachments=files + study, thread_id=thread_id, owner=owner,
                                       create=new_thread)
            yield from self._run_turn(events, text, files, names, thread_id, owner, session, chat, lang, emit, keep)
        finally:
            self._discard(files)
            uploads.sweep(self.cache, self.settings.ui_cache_max_age_h * 3600)

    def _run_turn(self, events: Iterator[tuple[str, Any]], text: str, files: list[str], names: list[str],
                  thread_id: str, owner: str, session: dict[str, str], chat: list[dict[str, Any]], lang: str,
                  emit: Any, keep: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        draft, calls = "", []
        try:
            for kind, payload in events:
                if kind == "step" and not draft:
                    chat[-1]["content"] = f"_{t(lang, 'working')}_ ({payload})"
                    yield emit(gr.update(), session, gr.update(), keep[2:])
                elif kind == "call":
                    calls.append(payload)
                    chat[-1]["content"] = f"_{t(lang, 'working')}_ ({payload['name']})"
                    yield emit(gr.update(), session, gr.update(),
                               (panels.steps_markdown(calls, lang), *(gr.update() for _ in range(PANELS - 1))))
                elif kind == "token":
                    draft += payload
                    chat[-1]["content"] = f"{draft}\n\n_({t(lang, 'draft')})_"
                    yield emit(gr.update(), session, gr.update(), keep[2:])
                elif kind == "result":
                    new_session = {**session, "thread_id": payload.thread_id}
                    if files:  # the stored study, summarised under the question ("CT, 1 series, 64 slices…")
                        chat[-2]["content"] = (text if self.settings.keep_raw_text else scrub(text)) + "\n\n" + "\n".join(
                            f"📎 {s}" for s in self._summaries(files))
                    chat[-1]["content"] = panels.answer_markdown(payload, lang)
                    yield emit(gr.update(value=None, interactive=True), new_session,
                               self.threads_update(owner, payload.thread_id, lang),
                               self.result_panels(payload, text, names, lang))
        except Exception as e:  # noqa: BLE001 - the UI boundary: the person gets a sentence, the log the traceback
            if isinstance(e, GalenError):
                message = e.user_message()
            else:
                log.exception("turn failed in thread %s", thread_id)
                message = t(lang, "internal_error")
            chat[-1]["content"] = panels.error_markdown(message, lang)
            yield emit(gr.update(value=None, interactive=True), session,
                       self.threads_update(owner, session.get("thread_id"), lang), self.empty_panels(lang))

    def on_card(self, action: str, table: Any, session: dict[str, str], lang: str,
                request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """The card's buttons: run on the (edited) facts, or leave the model unrun."""
        owner = self.owner(request)
        thread_id = self.open_thread(session, owner)
        chat = self.history(thread_id, owner)
        keep = (gr.update(), gr.update(), *(gr.update() for _ in range(PANELS)))
        session = {"thread_id": thread_id}

        def emit(msg_box: Any, new_session: dict[str, str], threads: Any, panel_values: tuple[Any, ...]):
            return (msg_box, chat, new_session, threads, *panel_values)

        pending = self.agent.pending(thread_id) if thread_id else None
        if pending is None:
            chat.append({"role": "assistant", "content": panels.error_markdown(t(lang, "nothing_to_confirm"), lang)})
            yield emit(gr.update(), session, gr.update(), self.empty_panels(lang))
            return
        if action == "cancel":
            reply: dict[str, Any] = {"abandon": True}
            said = t(lang, "card_cancelled")
        else:
            values = panels.edited_values(pending, table)
            reply = {"values": values} if values else {"accept": True}
            said = t(lang, "card_confirmed") + (": " + ", ".join(f"{k} = {v}" for k, v in values.items()) if values else "")
        chat.append({"role": "user", "content": said})
        chat.append({"role": "assistant", "content": f"_{t(lang, 'working')}_"})
        yield emit(gr.update(interactive=False), session, gr.update(), (*keep[2:-2], gr.update(visible=False), gr.update()))
        yield from self._run_turn(self.agent.respond(thread_id, reply, owner=owner), said, [], [], thread_id, owner,
                                  session, chat, lang, emit, keep)

    def after_pacs_turn(self, fetched: Any, session: dict[str, str], lang: str, request: gr.Request):
        """After a turn on a study from the PACS: SEG, SR and FHIR prepared and shown, not yet sent."""
        owner = self.owner(request)
        thread_id = self.open_thread(session, owner)
        if fetched is None or not thread_id or self.pacs is None:
            return fetched, None, gr.update(), gr.update(), gr.update()
        calls = self.agent.graph.get_state({"configurable": {"thread_id": thread_id}}).values.get("calls") or []
        prepared, summary, files, send = self.pacs.after_turn(fetched, {"tool_calls": calls}, lang)
        return None, prepared, summary, files, send  # the study is used once; the next turn needs a new pick

    def on_card_ok(self, table: Any, session: dict[str, str], lang: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        yield from self.on_card("ok", table, session, lang, request)

    def on_card_cancel(self, table: Any, session: dict[str, str], lang: str,
                       request: gr.Request) -> Iterator[tuple[Any, ...]]:
        yield from self.on_card("cancel", table, session, lang, request)

    def _accept(self, entries: list[Any]) -> tuple[list[str], list[str]]:
        """The message's files that are this server's own uploads, and the entries refused (logged)."""
        accepted, refused = [], []
        for raw in list(entries)[:64]:
            try:
                accepted.append(str(uploads.accept_upload(raw, self.blocks)))
            except uploads.UploadRefused as e:
                log.warning("refused a file entry in a message: %s", e)
                refused.append(str(e))
        return accepted, refused

    def _discard(self, files: list[str]) -> None:
        for f in files:
            uploads.discard_upload(Path(f))

    def _summaries(self, files: list[str]) -> list[str]:
        """One line per attachment as the workspace stored it (already stored: content-addressed, cheap)."""
        from agent.workspace import store_attachment

        out = []
        for f in files:
            try:
                stored = store_attachment(Path(f), self.settings)
                out.append(f"{stored.name}: {stored.summary}")
            except GalenError:
                out.append(scrub_filename(Path(f).name))
        return out

    def _check_files(self, files: list[str], lang: str) -> str | None:
        limit = self.settings.max_attachment_mb
        for f in files:
            size = Path(f).stat().st_size / 1e6 if Path(f).is_file() else 0.0
            if size > limit:
                return t(lang, "too_large", name=scrub_filename(Path(f).name), size=size, limit=limit)
        return None


def build_app(agent_or_settings: Any = None) -> gr.Blocks:
    """The case workspace as a ``gr.Blocks`` (not launched).

    Args:
        agent_or_settings: an ``agent.runner.Agent`` to share, or ``Settings`` to build one from
            (the default settings when ``None``).
    """
    from agent.runner import Agent

    agent = agent_or_settings if isinstance(agent_or_settings, Agent) else Agent(agent_or_settings)
    uploads.use_cache(agent.settings.resolved_data_dir())  # before the Blocks: it reads the folder once
    ws = Workspace(agent, users=agent.settings.ui_users_file is not None)
    lang0 = "en"
    with gr.Blocks(title="Galen", analytics_enabled=False) as app:
        session = gr.BrowserState(dict(NO_SESSION), storage_key="galen-session", secret=BROWSER_STATE_KEY)
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
                with gr.Group(visible=False, elem_id="galen-confirm") as card_box:
                    gr.Markdown(t(lang0, "card_title"), elem_id="galen-confirm-title")
                    card_table = gr.Dataframe(interactive=True, elem_id="galen-confirm-table", wrap=True)
                    with gr.Row():
                        card_ok = gr.Button(t(lang0, "card_ok"), variant="primary", elem_id="galen-confirm-ok")
                        card_no = gr.Button(t(lang0, "card_cancel"), elem_id="galen-confirm-cancel")
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
                with gr.Tab("Screening", elem_id="tab-screen"):  # a file of molecules, screened (ui/screen_tab.py)
                    from ui.screen_tab import ScreenTab

                    ScreenTab(agent.settings).build(app)
                pacs = None
                if ws.pacs is not None:
                    with gr.Tab("PACS", elem_id="tab-pacs"):
                        pacs = ws.pacs.build(lang0)
        fetched = gr.State(None)  # the study picked from the PACS for the next turn (server-side only)
        panel_outputs = [steps, slider, image, grid, table, cites, files, badge, shown, card_box, card_table]
        assert len(panel_outputs) == PANELS
        app.load(ws.on_load, [session, lang], [session, chatbot, threads, header])
        # The chatbot is an output only: a history sent by the client is never read.
        submitted = box.submit(ws.on_submit, [box, session, lang, fetched],
                               [box, chatbot, session, threads, *panel_outputs, lang])
        if pacs is not None:
            pacs["find"].click(ws.pacs.on_find, [pacs["patient"], pacs["accession"], pacs["modality"], pacs["date"], lang],
                               [pacs["table"], pacs["rows"], pacs["note"]])
            pacs["table"].select(ws.pacs.on_pick, [pacs["rows"], lang], [fetched, pacs["note"]])
            submitted.then(ws.after_pacs_turn, [fetched, session, lang],
                           [fetched, pacs["prepared"], pacs["results"], pacs["files"], pacs["send"]])
            pacs["send"].click(ws.pacs.on_send, [pacs["prepared"], lang], [pacs["results"], pacs["send"]])
        threads.input(ws.on_select, [threads, session, lang], [session, chatbot, *panel_outputs])
        new_btn.click(ws.on_new, [session, lang], [session, chatbot, threads, *panel_outputs])
        lang.input(ws.on_pick_language, [lang, session], [session])
        lang.change(ws.on_language, [lang, session], [header, box, threads, new_btn, chatbot, table, files, slider,
                                                 steps_box, tab_images, tab_molecules, tab_citations, tab_downloads])
        slider.change(ws.on_slice, [slider, shown], [image])
        card_ok.click(ws.on_card_ok, [card_table, session, lang], [box, chatbot, session, threads, *panel_outputs])
        card_no.click(ws.on_card_cancel, [card_table, session, lang], [box, chatbot, session, threads, *panel_outputs])
    ws.blocks = app
    return app


def blocked_paths(settings: Settings) -> list[str]:
    """Everything in the data folder except the UI's own cache, plus the users file: never served."""
    data = settings.resolved_data_dir().resolve()
    cache = uploads.cache_root(data).resolve()
    out = [str(p.resolve()) for p in data.iterdir() if p.resolve() != cache]
    # Files that do not exist yet still must never be served once they do.
    out += [str(data / n) for n in ("threads.sqlite", "threads.sqlite-wal", "threads.sqlite-shm", "audit.jsonl",
                                    "workspace", "kb", "tmp")]
    if settings.ui_users_file:
        out.append(str(Path(settings.ui_users_file).expanduser().resolve()))
    return sorted(set(out))


class _LoginClient:
    """ASGI middleware: remembers the client address of a login request for the lockout."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and str(scope.get("path", "")).rstrip("/").endswith("/login"):
            client = scope.get("client")
            token = _login_client.set(client[0] if client else None)
            try:
                await self.app(scope, receive, send)
            finally:
                _login_client.reset(token)
            return
        await self.app(scope, receive, send)


def check_host(host: str, settings: Settings, allow_open: bool = False) -> None:
    """Refuse to serve a non-loopback address without a users file (unless explicitly allowed)."""
    if is_loopback(host) or settings.ui_users_file:
        return
    if not allow_open:
        raise ConfigError(
            f"Galen will not serve {host} without a users file: anyone who can reach that address would "
            "read every conversation.",
            hint="Set GALEN_UI_USERS_FILE (make lines with `python -m ui.auth NAME`), bind to 127.0.0.1, "
                 "or pass --no-login-i-understand to accept the risk.")
    log.warning("SERVING %s WITHOUT A USERS FILE: anyone who can reach it can read and write every "
                "conversation (--no-login-i-understand).", host)


def build_server(settings: Settings, host: str, port: int) -> Any:
    """The FastAPI app: the JSON API and the mounted workspace, with Gradio's file checks on."""
    from fastapi import FastAPI

    from agent.runner import Agent
    from galen.files import use_private_tmp
    from ui.api import build_router
    from ui.auth import Authenticator, LoginGuard

    data = settings.resolved_data_dir()
    use_private_tmp(data)
    uploads.sweep(uploads.use_cache(data), settings.ui_cache_max_age_h * 3600, force=True)
    auth = None
    if settings.ui_users_file:
        try:
            auth = Authenticator(settings.ui_users_file,
                                 LoginGuard(lock_after=settings.login_max_failures, lock_s=settings.login_lockout_s))
        except (OSError, ValueError) as e:
            raise ConfigError(f"The users file {settings.ui_users_file} cannot be used: {e}") from e
    agent = Agent(settings)
    blocks = build_app(agent)
    blocks.queue(default_concurrency_limit=2)
    server = FastAPI(title="Galen", docs_url=None, redoc_url=None, openapi_url=None)
    server.include_router(build_router(agent, settings, checker=auth))
    ui_auth = (lambda u, p: auth.check(u, p, client=_login_client.get())) if auth else None
    server = gr.mount_gradio_app(server, blocks, path="", server_name=host, server_port=port, auth=ui_auth,
                                 max_file_size=f"{settings.max_attachment_mb:g}mb", show_error=False, css=CSS,
                                 footer_links=[], allowed_paths=[], blocked_paths=blocked_paths(settings))
    # Gradio only checks client-named paths for an app it launched itself; this one it mounted.
    blocks.has_launched = True
    server.add_middleware(_LoginClient)
    return server


def launch(settings: Settings | None = None, host: str | None = None, port: int | None = None,
           allow_open: bool = False) -> None:
    """Serve the workspace and its JSON API (blocking). Offline: no analytics, never shared;
    127.0.0.1 by default; a non-loopback address needs a users file (or ``allow_open``)."""
    import uvicorn

    from galen.settings import get_settings

    settings = settings or get_settings()
    host = host or settings.ui_host
    port = port or settings.ui_port
    check_host(host, settings, allow_open)
    server = build_server(settings, host, port)
    print(f"Galen is running at http://{host}:{port}", flush=True)
    uvicorn.run(server, host=host, port=port, log_level="warning")
