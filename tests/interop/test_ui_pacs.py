"""The workspace's PACS tab against a real Orthanc: find, pick a row, ask, see SEG/SR prepared, send only on the button."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from langchain_core.messages import AIMessage


def _drain(gen):
    last = None
    for item in gen:
        last = item
    return last


@pytest.mark.slow
def test_pick_ask_and_send_from_the_ui(pacs_settings, stored_patients):
    from agent.runner import Agent
    from interop.dicomweb import Pacs
    from tests.agent.fakes import ScriptedChatModel
    from ui.app import Workspace

    agent = Agent(pacs_settings.model_copy(update={"answer_writer": "template", "confirm_facts": False}),
                  chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))
    ws = Workspace(agent, users=False)
    assert ws.pacs is not None
    request = SimpleNamespace(username=None)
    table, rows, note = ws.pacs.on_find("galen-synth-001", "", "CT", "", "en")
    assert len(rows) == 1 and "1 studies found" in note
    study_uid = rows[0][-1]
    # The browser names a row it was shown, never a UID or a folder.
    fetched, note = ws.pacs.on_pick(rows, "en", SimpleNamespace(index=[0, 2]))
    assert fetched is not None and fetched.study_uid == study_uid, note
    bad, why = ws.pacs.on_pick(rows, "en", SimpleNamespace(index=[7, 0]))
    assert bad is None and "Click a study" in why

    out = _drain(ws.on_submit({"text": "Outline the nodule and give its diameter.", "files": []}, {"thread_id": ""},
                              "en", fetched, request))
    chat, session = out[1], out[2]
    assert "mm" in chat[-1]["content"], chat[-1]["content"]
    cleared, prepared, summary, files, send = ws.after_pacs_turn(fetched, session, "en", request)
    assert cleared is None and prepared is not None and "Not sent to the PACS yet" in summary
    pacs = Pacs.from_settings(pacs_settings)
    before = len(pacs.find_instances(study_uid, modality="SR"))  # (other tests may have sent reports already)
    assert len(pacs.find_instances(study_uid, modality="SR")) == before  # nothing sent before the button
    message, _ = ws.pacs.on_send(prepared, "en")
    assert "found again by QIDO-RS" in message
    assert len(pacs.find_instances(study_uid, modality="SR")) == before + 1
    nothing, _ = ws.pacs.on_send(None, "en")
    assert "no results to send" in nothing
