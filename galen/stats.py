"""Percentiles that say how many samples stand behind them.

Every latency or cost figure Galen reports goes through :func:`percentiles`. A tail percentile
(above the median) needs at least :data:`MIN_TAIL_SAMPLES` samples: from fewer it is refused
(``None``, written "n<20"), because the 95th percentile of 5 samples is just the largest one.
The median is reported from any non-empty sample, always with its ``n``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MIN_TAIL_SAMPLES = 20
REFUSED = f"n<{MIN_TAIL_SAMPLES}"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between order statistics (NumPy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    v = sorted(float(x) for x in values)
    pos = (len(v) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def percentiles(values: Iterable[float], qs: Sequence[int] = (50, 95), digits: int | None = 4) -> dict[str, float | int | None]:
    """``{"p50": ..., "p95": ..., "n": ...}``; a tail percentile from fewer than 20 samples is ``None``.

    Args:
        values: the samples (seconds, calls, ...).
        qs: the percentiles wanted.
        digits: round to this many decimals (``None``: no rounding).
    """
    v = [float(x) for x in values]
    out: dict[str, float | int | None] = {}
    for q in qs:
        if not v or (q > 50 and len(v) < MIN_TAIL_SAMPLES):
            out[f"p{q}"] = None
        else:
            p = percentile(v, q)
            out[f"p{q}"] = round(p, digits) if digits is not None else p
    out["n"] = len(v)
    return out


def format_percentile(value: float | None, n: int, unit: str = "", fmt: str = "{:.3g}") -> str:
    """``"1.2 s"``, or ``"n<20"`` for a refused tail percentile (``None``)."""
    if value is None:
        return REFUSED if n < MIN_TAIL_SAMPLES else "—"
    return fmt.format(value) + (f" {unit}" if unit else "")
