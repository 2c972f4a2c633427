"""The real LLM backends: the embedded llama.cpp model, and a real llama.cpp OpenAI-compatible server."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from agent.llm import build_chat_model, check_backend
from agent.llm.embedded import packaged_model_path
from agent.runner import Agent
from galen.errors import BackendUnavailable
from galen.settings import Settings

pytestmark = pytest.mark.slow
QUESTION = "What is the logP of CC(=O)Oc1ccccc1C(=O)O?"


def _assert_property_turn(r) -> None:
    assert [c.name for c in r.tool_calls] == ["predict_properties"]
    assert r.tool_calls[0].ok
    assert r.answer and "1.31" in r.answer  # aspirin's Crippen logP, from the tool
    assert r.verification["writer"] in ("llm", "template")
    # whatever the writer said, what is shown is grounded
    assert r.verified is True or r.answer.startswith("**Molecule properties**")


def test_embedded_model_answers_a_property_question(tmp_path) -> None:
    agent = Agent(Settings(data_dir=tmp_path / "d", answer_writer="llm"))
    r = agent.ask(QUESTION)
    _assert_property_turn(r)


def test_embedded_structured_output_and_tool_binding(tmp_path) -> None:
    model = build_chat_model(Settings(data_dir=tmp_path, answer_max_tokens=64))

    class Verdict(BaseModel):
        answer: str
        confident: bool

    v = model.with_structured_output(Verdict).invoke([HumanMessage(content="Is water wet? Reply in JSON.")])
    assert isinstance(v, Verdict)

    from tools.langchain import as_langchain_tools

    msg = model.bind_tools(as_langchain_tools(["predict_properties"]), tool_choice="required").invoke(
        [HumanMessage(content=QUESTION)]
    )
    assert msg.tool_calls and msg.tool_calls[0]["name"] == "predict_properties"
    assert isinstance(msg.tool_calls[0]["args"].get("smiles"), list)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    from tests.conftest import free_port

    port = free_port()
    # the server logs a lot: a file, not a pipe (a full pipe would block it before it is ready)
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model_path("smollm2-135m-instruct")),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"llama.cpp server exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        proc.kill()
        raise RuntimeError("llama.cpp server did not start in 180 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_openai_backend_full_turn(tmp_path, llama_server) -> None:
    settings = Settings(data_dir=tmp_path / "d", llm_backend="openai", openai_base_url=llama_server, openai_model="smollm2", answer_writer="llm",
                        openai_timeout_s=300)
    check_backend(settings)
    r = Agent(settings).ask(QUESTION)
    _assert_property_turn(r)


def test_openai_backend_down_is_a_clear_error(tmp_path) -> None:
    from tests.conftest import free_port

    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        check_backend(settings)


def test_llm_server_failure_mid_turn_falls_back_to_template(tmp_path) -> None:
    from tests.conftest import free_port

    settings = Settings(data_dir=tmp_path / "d", llm_backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
                        openai_timeout_s=5, answer_writer="llm")
    r = Agent(settings).ask(QUESTION)
    assert r.tool_calls[0].ok and "1.31" in r.answer
    assert any("did not answer" in w for w in r.warnings)
