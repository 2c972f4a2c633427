"""Which constraints of a request conflict, and by how much, measured on real molecules.

``check_feasible`` in :mod:`specialists.molecules.request` refuses what chemistry forbids
outright (an empty window; TPSA above what the MW allows). This module covers the rest with a
reference population (``data/reference_properties.npz``: 50,000 MOSES molecules and every
ChEMBL approved drug, unrounded descriptors): when no reference molecule meets every window,
it finds the pairs of windows no molecule meets together and says how far the closest molecule
meeting one of them is from the other — "the lightest reference molecule with ≥ 5 aromatic
rings weighs 380.4 Da". A request that misses by at least :data:`REFUSE_SCALES` times the
search's own tolerance is refused before the search; a smaller miss is searched (a generator
can leave the reference population), and the explanation is kept for the case where the search
finds nothing.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from itertools import combinations

import numpy as np

from specialists.molecules.build_reference import COLUMNS, REFERENCE_PATH
from specialists.molecules.request import PROPERTIES, DesignRequest, Range

#: How far outside a window, in the scoring's tolerance units, the closest reference molecule must
#: be before a request is refused without searching (see scoring._SCALE: 40 Da of MW, 0.7 logP ...).
REFUSE_SCALES = 3.0


@lru_cache(maxsize=1)
def _reference() -> tuple[np.ndarray, list[str]]:
    with np.load(REFERENCE_PATH) as z:
        values = z["values"].astype(np.float64)
        smiles = gzip.decompress(z["smiles"].tobytes()).decode().split("\n")
    return values, smiles


def _mask(col: np.ndarray, r: Range) -> np.ndarray:
    ok = np.ones(col.shape, dtype=bool)
    if r.low is not None:
        ok &= (col > r.low) if r.low_strict else (col >= r.low)
    if r.high is not None:
        ok &= (col < r.high) if r.high_strict else (col <= r.high)
    return ok


def _fmt(key: str, v: float) -> str:
    from specialists.molecules.lexicon import INTEGER_PROPS

    label, unit, _, _ = PROPERTIES[key]
    num = f"{v:.0f}" if key in INTEGER_PROPS else f"{v:.1f}" if key in ("mw", "tpsa") else f"{v:.2f}"
    return f"{num}{' ' + unit if unit else ''}"


def _closest(key: str, r: Range, values: np.ndarray) -> float:
    """The value of ``key`` among ``values`` nearest to the window ``r``."""
    dist = np.zeros(values.shape)
    if r.low is not None:
        dist += np.clip(r.low - values, 0, None)
    if r.high is not None:
        dist += np.clip(values - r.high, 0, None)
    return float(values[int(np.argmin(dist))])


def conflicts(req: DesignRequest) -> list[tuple[str, float]]:
    """Sentences naming each conflict with its size (in tolerance units), worst first; [] when some
    reference molecule meets every window (or there is nothing to compare)."""
    from specialists.molecules.scoring import _SCALE

    keys = [k for k in req.ranges if k in COLUMNS]
    if len(keys) < 2:
        return []
    values, _ = _reference()
    cols = {k: values[:, COLUMNS.index(k)] for k in keys}
    masks = {k: _mask(cols[k], req.ranges[k]) for k in keys}
    if np.logical_and.reduce([masks[k] for k in keys]).any():
        return []
    out: list[tuple[str, float]] = []
    n = len(values)
    for a, b in combinations(keys, 2):
        if (masks[a] & masks[b]).any():
            continue
        sides: list[tuple[str, float]] = []
        for x, y in ((a, b), (b, a)):  # the molecules meeting y: how close do they come to x's window?
            if not masks[y].any():
                continue
            v = _closest(x, req.ranges[x], cols[x][masks[y]])
            lx, ly = PROPERTIES[x][0], PROPERTIES[y][0]
            ux, uy = PROPERTIES[x][1], PROPERTIES[y][1]
            sides.append((f"the closest reference molecule with {ly} {req.ranges[y].text(uy)} has {lx} {_fmt(x, v)} "
                          f"({_fmt(x, req.ranges[x].distance(v))} outside {lx} {req.ranges[x].text(ux)})",
                          req.ranges[x].distance(v) / _SCALE[x]))
        if sides:
            la, lb = PROPERTIES[a], PROPERTIES[b]
            head = (f"{la[0]} {req.ranges[a].text(la[1])} with {lb[0]} {req.ranges[b].text(lb[1])}: none of {n:,} "
                    f"reference molecules (MOSES, ChEMBL approved drugs) meets both; ")
            out.append((head + "; ".join(t for t, _ in sides), min(g for _, g in sides)))
    if not out:  # every pair is met by someone, but not all at once: which window is the hardest?
        for k in keys:
            others = np.logical_and.reduce([masks[o] for o in keys if o != k])
            if others.any():
                v = _closest(k, req.ranges[k], cols[k][others])
                label, unit, _, _ = PROPERTIES[k]
                out.append((f"no reference molecule meets every window; the closest of those meeting the others has "
                            f"{label} {_fmt(k, v)} (asked: {req.ranges[k].text(unit)})",
                            req.ranges[k].distance(v) / _SCALE[k]))
    return sorted(out, key=lambda t: -t[1])


def refuse_if_unreachable(req: DesignRequest) -> list[str]:
    """Raise when the reference population says the windows are far apart; else the (smaller)
    conflicts, as notes for the answer if the search comes back empty.

    Raises:
        InvalidInput: a pair of windows that no reference molecule comes within
            :data:`REFUSE_SCALES` tolerances of meeting together.
    """
    from galen.errors import InvalidInput

    found = conflicts(req)
    far = [t for t, gap in found if gap >= REFUSE_SCALES]
    if far:
        raise InvalidInput("These constraints conflict: " + "; ".join(far) + ".",
                           hint="Relax one of them (the numbers above say by how much) and ask again.")
    return [t for t, _ in found]
