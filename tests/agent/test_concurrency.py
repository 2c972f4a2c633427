"""One process serving several people at once: no shared-state errors, no cross-talk."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel
from tests.conftest import ROOT


@pytest.mark.slow  # several real turns at once (about 15 s of CPU): the full lane only
def test_concurrent_turns_in_one_process(tmp_path) -> None:
    agent = Agent(Settings(data_dir=tmp_path, answer_writer="template"), chat_model=ScriptedChatModel(script=[AIMessage(content="x")]))
    molecules = ["CCO", "c1ccccc1O", "CC(=O)O", "CCN", "OCCO", "CCCl"]

    def turn(i: int) -> tuple[str, str]:
        smi = molecules[i % len(molecules)]
        r = agent.ask(f"What is the TPSA of {smi}?", thread_id=f"t{i}", owner=f"user{i}")
        return smi, r.tool_calls[0].result["data"]["molecules"][0]["smiles"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(turn, range(12)))
    from rdkit import Chem

    assert all(Chem.CanonSmiles(a) == b for a, b in results)
    for i in range(12):
        assert [t["thread_id"] for t in agent.list_threads(f"user{i}")] == [f"t{i}"]


@pytest.mark.slow
def test_first_learned_prediction_from_many_threads() -> None:
    """torch-geometric's first import raced when several users asked at once (found by the load test)."""
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from specialists.molecules.learned import predict_learned\n"
        "with ThreadPoolExecutor(6) as p:\n"
        "    out = list(p.map(lambda s: predict_learned([s])[0].logs, ['CCO', 'CCN', 'CCCl', 'c1ccccc1', 'OCCO', 'CC(=O)O']))\n"
        "print(len(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "6"
