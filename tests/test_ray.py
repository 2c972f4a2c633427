"""A real Ray head on 127.0.0.1, started by the test: `galen screen` and `galen eval` on it give the
same results as the local run."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Before Ray is imported (it reads these once): token authentication with this test's own token, shared by
# the head and this driver; and loopback kept as loopback (Ray otherwise swaps 127.0.0.1 for the machine's
# own address), so that no traffic leaves 127.0.0.1.
_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0"}
_SAVED = {k: os.environ.get(k) for k in _ENV}
if "ray" not in sys.modules:
    os.environ.update(_ENV)
pytest.importorskip("ray")

pytestmark = [pytest.mark.slow, pytest.mark.server]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_head():
    from galen.ports import free_port

    port = free_port()
    tmp = tempfile.mkdtemp(prefix="rayt", dir="/tmp")  # Ray's socket paths must stay short
    if os.environ.get("RAY_AUTH_TOKEN") != _ENV["RAY_AUTH_TOKEN"]:
        pytest.skip("Ray was imported before this module could set its environment (run this file on its own)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    ray_bin = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
         "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", tmp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        import ray

        deadline = time.time() + 180
        while True:
            try:
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
                ray.shutdown()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(2)
        yield address
    finally:
        try:
            import ray

            ray.shutdown()
        except Exception:  # noqa: BLE001
            pass
        os.killpg(proc.pid, signal.SIGTERM)  # the head and the processes it started (its own session)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
        for k, v in _SAVED.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_screen_on_ray_equals_the_local_run(ray_head, tmp_path) -> None:
    from evals.ray_runner import ray_map
    from specialists.molecules.screen import screen_records
    from specialists.molecules.screen_io import read_molecules
    from tests.molecules.screen_data import write_screen_csv

    path, bad = write_screen_csv(tmp_path / "lib.csv")
    local = screen_records(read_molecules(path), learned=True, workers=1, chunk_size=64)
    remote = screen_records(read_molecules(path), learned=True, map_chunks=ray_map(ray_head), chunk_size=64)
    assert local.write_csv(tmp_path / "a.csv").read_bytes() == remote.write_csv(tmp_path / "b.csv").read_bytes()
    assert remote.invalid == local.invalid and [r["line"] for r in remote.invalid] == bad


def test_screen_cli_with_ray_address(ray_head, tmp_path, capsys) -> None:
    from tests.molecules.screen_data import write_screen_csv
    from ui.cli import main

    path, _ = write_screen_csv(tmp_path / "lib.csv", n_valid=40)
    assert main(["screen", str(path), "--ray", ray_head, "--no-learned", "--quiet", "--json", "--no-sdf"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["screened"] == 40 and summary["invalid"] == 10


def test_eval_on_ray_equals_the_local_run(ray_head, tmp_path) -> None:
    from evals.runner import run_cases
    from evals.suite import load_suite, resolve_suite
    from galen.settings import Settings

    cases = load_suite(resolve_suite("routing.dev"), 6)
    settings = Settings(data_dir=tmp_path / "data")
    local = run_cases(cases, settings, dry_run=True, progress=False)
    remote = run_cases(cases, settings, dry_run=True, progress=False, workers=2, ray_address=ray_head)

    def essentials(o: dict) -> tuple:
        return (o["id"], o["passed"], json.dumps(o["tool_calls"], sort_keys=True, default=str),
                json.dumps({k: v["passed"] for k, v in o["checks"].items()}, sort_keys=True))

    assert [essentials(o) for o in remote] == [essentials(o) for o in local]


def test_an_unreachable_cluster_is_a_clear_error(tmp_path) -> None:
    from evals.ray_runner import connect
    from galen.errors import BackendUnavailable
    from galen.ports import free_port

    with pytest.raises(BackendUnavailable, match="did not answer"):
        connect(f"127.0.0.1:{free_port()}")


def test_a_malformed_address_is_a_clear_error() -> None:
    from evals.ray_runner import connect
    from galen.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable, match="not a Ray address"):
        connect("headnode")
