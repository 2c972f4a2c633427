"""The agent's steps: intake → policy → route → act → ground → answer → verify → audit.

Each step is a method of :class:`AgentNodes`, which holds the process-wide resources (settings,
chat model, router, audit log). Per-conversation data lives only in the graph state.
"""

from __future__ import annotations

import time
import uuid
from functools import cached_property
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from agent import prompts
from agent.audit import AuditLog
from agent.compose import grounding_text, template_answer, writer_prompt
from agent.confirm import ASK_IN_THREAD, CONFIRMABLE, apply_reply, needs_confirmation, not_run_record, payload
from agent.policy import check_request
from agent.routing import (
    add_image_measurements,
    error_record,
    feasible_alternative,
    hybrid_choice,
    order,
)
from agent.state import GalenState
from agent.verify import incompleteness, verify_answer
from galen import __version__
from galen.errors import GalenError, MissingFacts
from galen.settings import Settings
from tools.base import Attachment, ToolContext
from tools.registry import CATALOGUE, get_tool, tool_status


class AgentNodes:
    """The graph's node functions, bound to one process's resources."""

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None, router: Any = None) -> None:
        self.settings = settings
        self._chat_model = chat_model
        self._router = router
        self.audit_log = AuditLog(settings.resolved_data_dir() / "audit.jsonl")

    @cached_property
    def chat_model(self) -> BaseChatModel:
        if self._chat_model is not None:
            return self._chat_model
        from agent.llm import build_chat_model

        return build_chat_model(self.settings)

    @cached_property
    def router(self) -> Any:
        if self._router is not None:
            return self._router
        from agent.router import default_router

        return default_router()

    # --- helpers ----------------------------------------------------------------------------
    def _context(self, state: GalenState) -> ToolContext:
        workdir = self.settings.resolved_data_dir() / "workspace" / "turns" / state["turn_id"]
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atts = [Attachment.from_dict(a) for a in state.get("attachments") or []]
        return ToolContext(
            settings=self.settings,
            workdir=workdir,
            attachments=atts,
            findings=list(state.get("findings") or []),
            question=state.get("facts_text") or state.get("question", ""),
            fill=self._fill,
        )

    def _fill(self, prompt: str, schema: dict[str, Any]) -> Any:
        """A schema-constrained LLM call for tools that let the model read what their rules could not."""
        return self.chat_model.with_structured_output(schema).invoke([HumanMessage(content=prompt)])

    # --- steps ------------------------------------------------------------------------------
    def intake(self, state: GalenState) -> dict[str, Any]:
        """Start a turn: take the question and attachments, reset per-turn fields."""
        question = state.get("question") or str(state["messages"][-1].content)
        new = list(state.get("new_attachments") or [])
        earlier = [a for a in state.get("attachments") or [] if a["sha256"] not in {n["sha256"] for n in new}]
        return {
            "turn_id": uuid.uuid4().hex[:16],
            "turn": int(state.get("turn") or 0) + 1,
            "question": question,
            "attachments": new + earlier,  # newest first; follow-ups reuse earlier files
            "fresh_attachments": len(new),
            "new_attachments": [],
            "facts_text": "",
            "refusal": None,
            "planned": [],
            "calls": [],
            "route_info": {},
            "tool_rounds": 0,
            "passages": [],
            "draft": "",
            "template": "",
            "answer": "",
            "verified": None,
            "verification": {},
            "warnings": [],
            "pending": None,
            "started_at": time.time(),
        }

    def policy(self, state: GalenState) -> dict[str, Any]:
        """Decline out-of-scope requests before any tool runs, judging the molecules of attached files
        (CSV/SDF/SMI anywhere in the thread) with the request's own words as if they were typed in."""
        question = state["question"]
        refusal = check_request(question)
        if refusal is None:
            files = [a["path"] for a in state.get("attachments") or [] if a.get("kind") in ("csv", "sdf", "text")]
            if files:
                from tools.molecule_screen import attachment_smiles

                smiles = attachment_smiles(files)
                if smiles:
                    refusal = check_request(f"{question} Attached molecules: {', '.join(smiles)}")
                    if refusal is not None:
                        refusal = refusal | {"why": (refusal.get("why") or "") + " (a molecule in an attached file)"}
        return {"refusal": refusal}

    def route(self, state: GalenState) -> dict[str, Any]:
        """Decide which tools to call with which arguments, per the routing policy."""
        if state.get("refusal"):
            return {"planned": []}
        if self.settings.routing_policy == "llm":
            return self._route_llm(state)
        if state.get("tool_rounds"):
            return {"planned": []}  # semantic and hybrid plan once per turn
        kinds = [a.get("kind", "unknown") for a in state.get("attachments") or []]
        decision = self.router.route(state["question"], attachment_kinds=kinds)
        floor = self.settings.routing_min_similarity
        floor = getattr(decision, "floor", 0.0) if floor is None else floor  # the encoder's own, tuned on dev
        info: dict[str, Any] = {
            "policy": self.settings.routing_policy,
            "nearest": decision.nearest,
            "score": round(decision.score, 3),
            "margin": round(decision.margin, 3),
            "candidates": [[list(t), round(s, 3)] for t, s in decision.candidates[:4]],
            "encoder": getattr(decision, "encoder", None),
        }
        names = list(decision.tools) if decision.score >= floor else []
        feasible = feasible_alternative(state, decision) if names else None
        if feasible is not None:
            info["replaced"] = {"tools": names, "why": feasible[1]}
            names = list(feasible[0])
        if decision.score < floor:
            info["note"] = "I could not tell which of my tools fits this request."
        if self.settings.routing_policy == "hybrid" and names:
            names = hybrid_choice(self.chat_model, self.settings.routing_top_k, state["question"], decision, names)
        elif names and decision.margin < self.settings.routing_confirm_margin:
            alt = decision.candidates[1][0] if len(decision.candidates) > 1 else ()
            if alt:
                info["note"] = (f"I read this as a request for {', '.join(names)}; if you meant "
                                f"{', '.join(alt) or 'a general question'}, say so.")
        from agent.follow_up import follow_up
        from agent.routing import IMAGING_KINDS

        fresh = (state.get("attachments") or [])[: int(state.get("fresh_attachments") or 0)]
        changed, why = follow_up(state["question"], list(state.get("findings") or []), names,
                                 any(a.get("kind") in IMAGING_KINDS for a in fresh))
        if why:
            info["follow_up"] = {"router_chose": names, "why": why}
            names = changed
        info["tools"] = names
        return self._plan_calls(state, order(names), info)

    def _plan_calls(self, state: GalenState, names: list[str], info: dict[str, Any]) -> dict[str, Any]:
        ctx = self._context(state)
        names = add_image_measurements(names, ctx)
        planned, failed = [], []
        for i, name in enumerate(names):
            status = tool_status(name)
            call = {"id": f"call_{uuid.uuid4().hex[:12]}", "name": name, "arguments": {}}
            if not status.available:
                failed.append(call | {"ok": False, "error": {"type": "ModelUnavailable", "message": status.reason, "kind": "model_unavailable"}, "result": None, "duration_s": 0.0})
                continue
            try:
                call["arguments"] = get_tool(name).extract_arguments(ctx.question, ctx)
            except MissingFacts as e:
                # An earlier tool in this plan may supply them (size from segmentation), or the
                # clinician will be asked for them when the call's turn comes (a risk model).
                if i > 0 or name in CONFIRMABLE:
                    call["deferred"] = True
                else:
                    failed.append(call | {"ok": False, "error": error_record(e), "result": None, "duration_s": 0.0})
                    continue
            except GalenError as e:
                failed.append(call | {"ok": False, "error": error_record(e), "result": None, "duration_s": 0.0})
                continue
            planned.append(call)
        calls = list(state.get("calls") or []) + failed
        update: dict[str, Any] = {"planned": planned, "calls": calls, "route_info": info}
        if planned:
            update["messages"] = [AIMessage(content="", tool_calls=[{"name": c["name"], "args": c["arguments"], "id": c["id"], "type": "tool_call"} for c in planned])]
        return update

    def _route_llm(self, state: GalenState) -> dict[str, Any]:
        from tools.langchain import as_langchain_tools

        lc_tools = as_langchain_tools()
        model = self.chat_model.bind_tools(lc_tools)
        history = [SystemMessage(content=prompts.ROUTER_SYSTEM)] + list(state["messages"])[-12:]
        msg = model.invoke(history)
        calls = [c for c in getattr(msg, "tool_calls", []) or [] if c["name"] in CATALOGUE]
        budget = self.settings.max_tool_calls - int(state.get("tool_rounds") or 0)
        warnings = list(state.get("warnings") or [])
        if len(calls) > budget:
            warnings.append(f"The limit of {self.settings.max_tool_calls} tool calls per turn was reached; "
                            "further calls were not made.")
            calls = calls[:budget]
        planned = [{"id": c.get("id") or f"call_{uuid.uuid4().hex[:12]}", "name": c["name"], "arguments": c.get("args") or {}} for c in calls]
        info = dict(state.get("route_info") or {}) | {"policy": "llm", "tools": [c["name"] for c in planned]}
        update: dict[str, Any] = {"planned": planned, "route_info": info, "warnings": warnings}
        if planned:
            update["messages"] = [AIMessage(content="", tool_calls=[{"name": c["name"], "args": c["arguments"], "id": c["id"], "type": "tool_call"} for c in planned])]
        return update

    def act(self, state: GalenState) -> dict[str, Any]:
        """Run the planned calls in order; expected failures become messages, bugs propagate.

        A risk model about to run on facts nobody has confirmed, or missing facts it cannot do
        without, stops the run there: the call (and those after it) stay planned and ``pending``
        says what to ask; the ``confirm`` step pauses the graph for the clinician.
        """
        ctx = self._context(state)
        calls = list(state.get("calls") or [])
        findings: list[dict[str, Any]] = []
        messages: list[Any] = []
        planned = list(state.get("planned") or [])
        ran = 0
        update: dict[str, Any] = {}
        for idx, call in enumerate(planned):
            name = call["name"]
            started = time.perf_counter()
            record = {"id": call["id"], "name": name, "arguments": call.get("arguments") or {}}
            try:
                tool = get_tool(name)
                raw = call.get("arguments") or {}
                if not call.get("confirmed") and (call.get("deferred") or (not raw and self.settings.routing_policy != "llm")):
                    try:
                        raw = tool.extract_arguments(ctx.question, ctx)
                    except MissingFacts as e:
                        if name in CONFIRMABLE and self.confirms(state):
                            ask = payload("missing", call, list(getattr(e, "inputs", None) or []), ctx.question,
                                          missing=list(e.missing), message=e.hint)
                            update = {"pending": ask, "planned": [call | {"deferred": True}] + planned[idx + 1:]}
                            messages.append(AIMessage(content=ask["text"]))
                            break
                        raise
                    record["arguments"] = raw
                if not call.get("confirmed") and self.confirms(state) and needs_confirmation(name, raw):
                    ask = payload("confirm", call | {"arguments": raw}, list(raw.get("inputs") or []), ctx.question)
                    update = {"pending": ask, "planned": [call | {"arguments": raw, "deferred": False}] + planned[idx + 1:]}
                    messages.append(AIMessage(content=ask["text"]))
                    break
                try:
                    result = tool.run(tool.validate_arguments(raw), ctx)
                except MissingFacts as e:
                    if name in ASK_IN_THREAD and self.confirms(state) and int(call.get("asked") or 0) < 2:
                        ask = payload("missing", call | {"arguments": raw}, [], ctx.question, missing=list(e.missing),
                                      message=e.hint, attempts=int(call.get("asked") or 0))
                        update = {"pending": ask, "planned": [call | {"arguments": raw}] + planned[idx + 1:]}
                        messages.append(AIMessage(content=ask["text"]))
                        break
                    raise
                record |= {"ok": True, "error": None, "result": result.model_dump(mode="json")}
                if call.get("confirmation"):
                    record["confirmation"] = call["confirmation"]
                # the turn's words go with its finding: "baseline LDCT, measure the nodule" states case facts
                # (setting, exam, risk) that a later guideline question about the measured nodule reads
                finding = {"tool": name, "data": result.data, "turn": state.get("turn"),
                           "question": str(state.get("question") or "")[:2000]}
                findings.append(finding)
                ctx.findings.append(finding)
                content = result.summary[:2000]
            except GalenError as e:
                record |= {"ok": False, "error": error_record(e), "result": None}
                content = f"Error ({e.kind}): {e.user_message()}"
            record["duration_s"] = round(time.perf_counter() - started, 3)
            calls.append(record)
            ran += 1
            messages.append(ToolMessage(content=content, tool_call_id=call["id"], name=name, status="success" if record["ok"] else "error"))
        return {
            "calls": calls,
            "planned": [],
            "pending": None,
            "findings": findings,
            "messages": messages,
            "tool_rounds": int(state.get("tool_rounds") or 0) + ran,
        } | update

    def confirms(self, state: GalenState) -> bool:
        """Whether this turn pauses for the clinician (``confirm_facts`` setting; the harness may accept)."""
        return self.settings.confirm_facts

    def confirm(self, state: GalenState) -> dict[str, Any]:
        """Pause for the clinician (``interrupt``), then apply the reply to the paused call.

        The reply arrives as ``Command(resume=...)``: text ("yes", "actually she is 65"), or
        ``{"accept": True}``, ``{"values": {...}}`` (the UI's card), ``{"abandon": True}``.
        """
        pending = dict(state.get("pending") or {})
        reply = interrupt(pending)
        planned = list(state.get("planned") or [])
        if not planned:
            return {"pending": None}
        call = planned[0]
        said = reply if isinstance(reply, str) else str((reply or {}).get("text") or "") if isinstance(reply, dict) else ""
        human = [HumanMessage(content=said)] if said else []
        out = apply_reply(pending, call, reply)
        if call["name"] not in CONFIRMABLE and out["outcome"] != "abandoned":
            # more words for the tool's question: it runs again on the question and the reply together
            base = state.get("facts_text") or state.get("question") or ""
            again = call | {"asked": int(call.get("asked") or 0) + 1, "confirmed": True, "deferred": False}
            return {"planned": [again] + planned[1:], "pending": None, "messages": human,
                    "facts_text": f"{base} {out.get('text') or ''}".strip()}
        if out["outcome"] in ("accepted", "corrected"):
            confirmed = call | {"arguments": out["arguments"], "confirmed": True, "deferred": False,
                                "confirmation": {"outcome": out["outcome"], "changed": out["changed"], "kind": pending.get("kind")}}
            return {"planned": [confirmed] + planned[1:], "pending": None, "messages": human}
        if out["outcome"] == "unrecognised" and int(pending.get("attempts") or 0) < 1:
            kind = "missing" if out.get("missing") else pending.get("kind", "confirm")
            again = payload(kind, call, list(out.get("inputs") or pending.get("inputs") or []),
                            str(state.get("question") or ""), missing=out.get("missing") or pending.get("missing"),
                            message=out.get("message"), attempts=int(pending.get("attempts") or 0) + 1)
            return {"pending": again, "messages": human + [AIMessage(content=again["text"])]}
        # Cancelled, or a second reply that corrects nothing recognisable: the model is not run.
        record = not_run_record({"id": call["id"], "name": call["name"], "arguments": call.get("arguments") or {}},
                                pending.get("language", "en"))
        return {"planned": planned[1:], "pending": None, "calls": list(state.get("calls") or []) + [record],
                "messages": human}

    def ground(self, state: GalenState) -> dict[str, Any]:
        """Retrieve guideline passages for the question and the tool findings."""
        if state.get("refusal"):
            return {"passages": []}
        calls = state.get("calls") or []
        ok = [c for c in calls if c.get("ok")]
        tool_passages = [p for c in ok for p in (c["result"].get("passages") or [])]
        if tool_passages:
            return {"passages": tool_passages[: max(self.settings.kb_top_k, 4)]}
        if not calls:
            return {"passages": []}  # greetings and questions about Galen need no guideline
        if not any(c["result"].get("grounding_query") for c in ok):
            return {"passages": []}
        query = grounding_text(state)
        try:
            from knowledge.retrieval import search
        except ImportError:
            return {"passages": []}
        try:
            passages = search(query, k=self.settings.kb_top_k, settings=self.settings)
        except GalenError as e:
            return {"passages": [], "warnings": list(state.get("warnings") or []) + [f"Guidelines could not be searched: {e.user_message()}"]}
        return {"passages": [p.model_dump() for p in passages]}

    def answer(self, state: GalenState) -> dict[str, Any]:
        """Write the reply: the LLM phrases the facts (checked next), the template is the fallback."""
        template = template_answer(state)
        draft = template
        prompt = writer_prompt(state) if self.settings.writes_with_llm() else None
        update: dict[str, Any] = {}
        if prompt:
            try:
                msg = self.chat_model.invoke([SystemMessage(content=prompts.SYSTEM), HumanMessage(content=prompt)])
                draft = str(msg.content).strip() or template
            except self._backend_errors() as e:
                # the facts are already in hand: a slow or failed LLM server costs the phrasing only
                update["warnings"] = list(state.get("warnings") or []) + [
                    f"The language model did not answer ({type(e).__name__}); the templated answer is shown."]
        return update | {"template": template, "draft": draft}

    def _backend_errors(self) -> tuple[type[BaseException], ...]:
        """Failures of a remote LLM server (timeouts, refused connections, HTTP errors)."""
        if self.settings.llm_backend != "openai":
            return ()
        import httpx
        import openai

        return (openai.APIError, httpx.HTTPError)

    def verify(self, state: GalenState) -> dict[str, Any]:
        """Keep an LLM draft only if every number is a quantity of this turn's evidence, every citation
        exists and it states the findings; otherwise show the template. Three outcomes, named in
        ``verification.method``: ``draft-verified``, ``draft-rejected`` and ``template`` (no LLM
        text: grounded by construction, which is not the same as verified, so ``verified`` is None)."""
        calls = state.get("calls") or []
        # This turn's evidence only: its tools' results (which carry any earlier finding they used)
        # and error records; not every field of every result in the thread.
        evidence = [c.get("result") for c in calls if c.get("ok")] + [c.get("error") for c in calls if not c.get("ok")]
        passages = state.get("passages") or []
        template = state.get("template") or ""
        draft = state.get("draft") or ""
        question = state["question"]
        if not draft or draft == template:
            # A self-check, not a verification: a template that fails it is a bug, kept for review.
            t = verify_answer(template, question=question, tool_evidence=evidence, passages=passages)
            result = {"method": "template", "ok": None, "writer": "template", "template_check": t.ok}
            if not t.ok:
                result["template_problem"] = t.reason
            return {"answer": template, "verified": None, "verification": result,
                    "messages": [AIMessage(content=template)]}
        check = verify_answer(draft, question=question, tool_evidence=evidence, passages=passages)
        result = check.to_dict() | {"writer": "llm"}
        if check.ok:
            problem = incompleteness(draft, state)
            if problem:
                result |= {"ok": False, "reason": problem}
        if result["ok"]:
            return {"answer": draft, "verified": True, "verification": result | {"method": "draft-verified"},
                    "messages": [AIMessage(content=draft)]}
        t = verify_answer(template, question=question, tool_evidence=evidence, passages=passages)
        result |= {"method": "draft-rejected", "template_check": t.ok}
        if not t.ok:
            result["template_problem"] = t.reason
        return {"answer": template, "verified": False, "verification": result, "messages": [AIMessage(content=template)]}

    def audit(self, state: GalenState, config: RunnableConfig) -> dict[str, Any]:
        """Append one line for the turn (scrubbed of identifiers)."""
        from agent.audit import turn_record
        from agent.llm import describe_backend

        thread = (config.get("configurable") or {}).get("thread_id", "")
        versions = {"galen": __version__, **describe_backend(self.settings), "routing": self.settings.routing_policy}
        self.audit_log.append(turn_record(state, thread, versions))
        return {}

    # --- routing functions --------------------------------------------------------------------
    @staticmethod
    def after_policy(state: GalenState) -> Literal["route", "answer"]:
        return "answer" if state.get("refusal") else "route"

    @staticmethod
    def after_route(state: GalenState) -> Literal["act", "ground"]:
        return "act" if state.get("planned") else "ground"

    def after_act(self, state: GalenState) -> Literal["confirm", "route", "ground"]:
        if state.get("pending"):
            return "confirm"
        # The llm policy goes back to the model, which may ask for more (bounded in route).
        return "route" if self.settings.routing_policy == "llm" else "ground"

    @staticmethod
    def after_confirm(state: GalenState) -> Literal["confirm", "act"]:
        return "confirm" if state.get("pending") else "act"
