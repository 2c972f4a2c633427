"""Stage timing and progress reports of an imaging analysis.

A caller passes ``progress(stage, fraction)``: ``stage`` names what runs now (``read``,
``resample``, ``lungs``, ``segment``, ``filter``, ``measure``, ``overlays``, ``classify``,
``gradcam``) and ``fraction`` is the share of the whole analysis done so far (0 to 1, never
decreasing), so a progress bar needs nothing else. The same object records each stage's wall
time for the benchmark and the tool's result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str, float], None]

#: Rough share of the whole analysis each stage takes (a 512×512×300 series on 2 cores), used to
#: turn progress within a stage into progress of the whole.
WEIGHTS = {"read": 0.25, "resample": 0.06, "lungs": 0.06, "segment": 0.35, "filter": 0.04, "measure": 0.04,
           "overlays": 0.05, "classify": 0.03, "gradcam": 0.04, "save": 0.02}


class Stages:
    """Times named stages and reports overall progress to an optional callback."""

    def __init__(self, progress: Progress | None = None, stages: tuple[str, ...] = tuple(WEIGHTS)) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        total = sum(WEIGHTS.get(s, 0.05) for s in stages) or 1.0
        self._share = {s: WEIGHTS.get(s, 0.05) / total for s in stages}
        self._done = 0.0
        self._current: str | None = None

    def _notify(self, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, round(min(max(fraction, 0.0), 1.0), 4))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``; report its start and end."""
        self._current = name
        self._notify(name, self._done)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t, 4)
            self._done += self._share.get(name, 0.0)
            self._current = None
            self._notify(name, self._done)

    def within(self, fraction: float) -> None:
        """Report progress ``fraction`` (0–1) through the current stage."""
        if self._current is not None:
            self._notify(self._current, self._done + self._share.get(self._current, 0.0) * fraction)

    def finish(self) -> None:
        self._done = 1.0
        self._notify("done", 1.0)
