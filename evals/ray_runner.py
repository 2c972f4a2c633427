"""Running Galen's batch work on a Ray cluster: the molecule screen's chunks and the eval harness's cases.

Point it at a cluster with its address: ``galen screen FILE --ray ADDRESS`` or
``galen eval --suite NAME --ray ADDRESS``. ADDRESS is what ``ray.init`` takes: ``HOST:6379``
for a head node reachable from this machine (the GCS port of ``ray start --head``), or
``ray://HOST:10001`` for the Ray Client server. Every node needs this project installed in the
same environment (the same Galen version and model weights): tasks import ``specialists`` and
``agent`` there, and nothing is shipped but the chunk or case itself.

The work is cut exactly as in a local run (the screen's chunks come from the input alone; each
eval case is run on its own), and results are put back in input order, so a cluster gives the
same output as this machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from galen.errors import BackendUnavailable, ModelUnavailable

_connected: str | None = None


def connect(address: str) -> None:
    """Connect this process to the Ray cluster at ``address`` (once; again only for another address).

    Raises:
        ModelUnavailable: Ray is not installed.
        BackendUnavailable: the cluster does not answer.
    """
    global _connected
    try:
        import ray
    except ImportError as e:
        raise ModelUnavailable("Running on a Ray cluster needs the ray package.", hint="pip install 'ray==2.60.0'.") from e
    if _connected == address and ray.is_initialized():
        return
    _probe(address)  # ray.init retries an unreachable address for many minutes: fail in seconds instead
    if ray.is_initialized():
        ray.shutdown()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                                           "ANONYMIZED_TELEMETRY": "False"}})
    except Exception as e:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, grpc errors ...
        raise BackendUnavailable(f"The Ray cluster at {address} did not answer ({type(e).__name__}: {e}).",
                                 hint="Start one with `ray start --head`, or check the address (HOST:6379 or "
                                      "ray://HOST:10001).") from e
    _connected = address


def _probe(address: str, timeout_s: float = 10.0) -> None:
    """Raise BackendUnavailable unless ``HOST:PORT`` (or ``ray://HOST:PORT``) accepts a TCP connection."""
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise BackendUnavailable(f"{address!r} is not a Ray address.",
                                 hint="Give HOST:PORT (the head's GCS port, 6379 by default) or ray://HOST:10001.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise BackendUnavailable(f"The Ray cluster at {address} did not answer ({e.strerror or e}).",
                                 hint="Start one with `ray start --head`, or check the address (HOST:6379 or "
                                      "ray://HOST:10001).") from e


def ray_map(address: str, max_in_flight: int = 64):
    """A ``map_chunks`` for :func:`specialists.molecules.screen.screen_file` that runs on Ray."""

    def run(fn: Callable, chunks: list, learned: bool) -> Iterator[Any]:
        import ray

        connect(address)
        remote = ray.remote(num_cpus=1)(_call)
        pending = []
        for c in chunks:
            if len(pending) >= max_in_flight:  # bound what is queued and held in the object store
                done, pending = ray.wait(pending, num_returns=1)
                yield from ray.get(done)
            pending.append(remote.remote(fn, c, learned))
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done)

    return run


def _call(fn: Callable, *args: Any) -> Any:
    import torch

    torch.set_num_threads(1)
    return fn(*args)


def map_cases(address: str, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``[fn(x) for x in items]`` computed on the Ray cluster, in input order."""
    import ray

    connect(address)
    remote = ray.remote(num_cpus=1)(_call)
    return ray.get([remote.remote(fn, x) for x in items])


class _CaseWorker:
    """One agent on a Ray worker, built once (``init_worker``) and reused for every case sent to it."""

    def __init__(self, init_worker: Callable, run_case: Callable, settings: Any, make_agent: Callable, seed: int) -> None:
        init_worker(settings, make_agent, seed)
        self._run_case = run_case

    def run(self, case: dict[str, Any], dry_run: bool, run_tag: str) -> dict[str, Any]:
        return self._run_case(case, dry_run, run_tag)


def run_cases_on_ray(address: str, cases: list[dict[str, Any]], settings: Any, make_agent: Callable, workers: int,
                     dry_run: bool, seed: int, run_tag: str, on_done: Callable[[], None] | None = None, *,
                     init_worker: Callable, run_case: Callable,
                     lost_case: Callable[[dict[str, Any], BaseException], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run eval cases on ``workers`` Ray actors (each builds its agent once), in input order.

    The harness passes its own per-process ``init_worker``, per-case ``run_case`` and ``lost_case``
    (:mod:`evals.runner`), so this module knows nothing of eval cases. A case whose actor died is
    reported as failed (as a dead local worker's is), not lost.
    """
    import ray
    from ray.util import ActorPool

    connect(address)
    actor = ray.remote(num_cpus=1)(_CaseWorker)
    pool = ActorPool([actor.remote(init_worker, run_case, settings, make_agent, seed) for _ in range(max(1, workers))])
    outcomes: list[dict[str, Any]] = []
    pending = list(cases)
    submitted: list[dict[str, Any]] = []
    for case in pending:
        pool.submit(lambda a, c: a.run.remote(c, dry_run, run_tag), case)
        submitted.append(case)
    for case in submitted:
        try:
            outcomes.append(pool.get_next())  # in submission order
        except Exception as e:  # noqa: BLE001 - an actor that died (OOM, segfault) fails its case only
            outcomes.append(lost_case(case, e))
        if on_done:
            on_done()
    return outcomes
