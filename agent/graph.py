"""Wires Galen's agent graph; the steps live in :mod:`agent.nodes`, the state in :mod:`agent.state`.

::

    intake → policy ─┬─────────────────────────────→ answer → verify → audit
                     └→ route ─┬→ act ─┬→ route (llm policy, bounded)
                               │   ↑   ├→ confirm ⟲ (interrupt: the clinician confirms or corrects)
                               │   └───┘
                               │       └→ ground ─→ answer
                               └→ ground
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import AgentNodes
from agent.state import GalenState


def build(nodes: AgentNodes, checkpointer: BaseCheckpointSaver | None = None) -> CompiledStateGraph:
    """Compile the graph over ``nodes`` with ``checkpointer`` for thread persistence."""
    g = StateGraph(GalenState)
    g.add_node("intake", nodes.intake)
    g.add_node("policy", nodes.policy)
    g.add_node("route", nodes.route)
    g.add_node("act", nodes.act)
    g.add_node("confirm", nodes.confirm)
    g.add_node("ground", nodes.ground)
    g.add_node("answer", nodes.answer)
    g.add_node("verify", nodes.verify)
    g.add_node("audit", nodes.audit)
    g.add_edge(START, "intake")
    g.add_edge("intake", "policy")
    g.add_conditional_edges("policy", nodes.after_policy, ["route", "answer"])
    g.add_conditional_edges("route", nodes.after_route, ["act", "ground"])
    g.add_conditional_edges("act", nodes.after_act, ["confirm", "route", "ground"])
    g.add_conditional_edges("confirm", nodes.after_confirm, ["confirm", "act"])
    g.add_edge("ground", "answer")
    g.add_edge("answer", "verify")
    g.add_edge("verify", "audit")
    g.add_edge("audit", END)
    return g.compile(checkpointer=checkpointer)
