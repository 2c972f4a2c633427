"""Threads on a real PostgreSQL server started by the test on 127.0.0.1, surviving a restart."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed: scripts/install_services.sh installs it (make test runs it).")
    return Path(found[-1]).parent


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    bin_dir = _pg_bin()
    base = Path("/tmp") / f"galen-pg-{os.getpid()}-{free_port()}"
    base.mkdir(mode=0o700)
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]), check=True, capture_output=True, timeout=300)
    log = base / "log"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120",
                                 "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"]), check=True, capture_output=True, timeout=300)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        yield url
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def test_thread_survives_restart_on_postgres(tmp_path, postgres_url) -> None:
    env = os.environ | {"GALEN_DATA_DIR": str(tmp_path / "d"), "GALEN_ANSWER_WRITER": "template",
                        "GALEN_CHECKPOINTER": "postgres", "GALEN_POSTGRES_URL": postgres_url}
    first = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "What is the logP of CCO?", "--thread", "pg-1", "--json"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    code = ("import json; from agent.runner import Agent; from galen.settings import Settings;"
            "a = Agent(Settings()); print(json.dumps([a.history('pg-1'), a.list_threads()]))")
    import json

    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    hist, threads = json.loads(second.stdout)
    assert [m["content"] for m in hist if m["role"] == "user"] == ["What is the logP of CCO?"]
    assert [t["thread_id"] for t in threads] == ["pg-1"]
    assert not (tmp_path / "d" / "threads.sqlite").exists()


def test_unreachable_postgres_is_a_clear_error(tmp_path) -> None:
    from agent.runner import Agent
    from galen.errors import BackendUnavailable
    from galen.settings import Settings

    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        Agent(Settings(data_dir=tmp_path, checkpointer="postgres", postgres_url=f"postgresql://x@127.0.0.1:{free_port()}/x"))
