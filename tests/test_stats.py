"""Percentiles say how many samples stand behind them; a tail percentile needs 20."""

from __future__ import annotations

import numpy as np
import pytest

from galen.stats import MIN_TAIL_SAMPLES, format_percentile, percentile, percentiles


@pytest.mark.parametrize("n", [1, 2, 5, 19, 20, 57])
def test_percentile_is_numpys_linear_interpolation(n: int) -> None:
    v = np.random.default_rng(n).exponential(size=n).tolist()
    for q in (0, 10, 50, 90, 95, 100):
        assert percentile(v, q) == pytest.approx(float(np.percentile(v, q)))


def test_a_tail_percentile_from_fewer_than_20_samples_is_refused() -> None:
    few = percentiles([1.0, 2.0, 3.0, 4.0, 5.0])
    assert few == {"p50": 3.0, "p95": None, "n": 5}
    enough = percentiles(list(range(MIN_TAIL_SAMPLES)), qs=(50, 90, 95, 99))
    assert enough["n"] == 20 and None not in enough.values()
    assert percentiles([], qs=(50, 95)) == {"p50": None, "p95": None, "n": 0}
    with pytest.raises(ValueError):
        percentile([], 50)


def test_format_percentile_says_why_a_figure_is_missing() -> None:
    assert format_percentile(None, 5) == "n<20"
    assert format_percentile(None, 40) == "—"
    assert format_percentile(1.234, 40, "s") == "1.23 s"
