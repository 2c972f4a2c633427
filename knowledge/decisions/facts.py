"""The facts a guideline decision is computed from, each with where it came from.

A :class:`Case` holds patient- and examination-level facts (risk, screening or incidental,
baseline or follow-up, age …) and a list of :class:`Nodule`. Every value is a :class:`Fact` with
its source ("question", "segment_image, turn 1" …) so the answer can say what it used. A value
may be a ``frozenset`` of possibilities ("subsolid" = part-solid or ground-glass): a rule then
holds only if it holds for every possibility.

Sizes are kept as measured (long and short axis, a single stated diameter, volume); each
guideline turns them into its own size (:func:`guideline_size`): Fleischner the average of the
axes rounded to the nearest millimetre, Lung-RADS the mean diameter to one decimal, BTS the
volume where measured, otherwise the maximum diameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Measure = Literal["mean-rounded", "mean-1dp", "volume-or-max"]

#: Facts of the case (not of one nodule).
CASE_KEYS = frozenset({
    "setting", "exam", "risk", "age", "known_cancer", "immunosuppressed", "incomplete", "no_nodules",
    "significant_other", "lymphadenopathy", "metastatic",
})


@dataclass(frozen=True)
class Fact:
    """One value and where it came from."""

    value: Any
    source: str
    detail: str = ""
    unit: str = ""

    def text(self) -> str:
        v = self.value
        if isinstance(v, frozenset):
            v = " or ".join(sorted(str(x) for x in v))
        elif isinstance(v, bool):
            v = "yes" if v else "no"
        elif isinstance(v, float):
            v = f"{v:g}"
        return f"{v}{self.unit}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Nodule:
    """One nodule (or airway nodule, or atypical cyst) and its facts."""

    name: str
    facts: dict[str, Fact] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        f = self.facts.get(key)
        return None if f is None else f.value

    def set(self, key: str, value: Any, source: str, detail: str = "", unit: str = "") -> None:
        self.facts[key] = Fact(value, source, detail, unit)

    def copy(self) -> Nodule:
        return Nodule(self.name, dict(self.facts))


@dataclass
class Case:
    """Everything a decision may use: case facts and the nodules."""

    facts: dict[str, Fact] = field(default_factory=dict)
    nodules: list[Nodule] = field(default_factory=list)

    def value(self, key: str) -> Any:
        f = self.facts.get(key)
        return None if f is None else f.value

    def set(self, key: str, value: Any, source: str, detail: str = "", unit: str = "") -> None:
        self.facts[key] = Fact(value, source, detail, unit)


@dataclass(frozen=True)
class Size:
    """A nodule's size as one guideline measures it."""

    mm: float | None
    mm3: float | None
    how: str  # e.g. "8 mm: average of 8.4 × 8.2 mm, rounded to the nearest millimetre"
    source: str = ""
    bounds: tuple[float, float] | None = None  # only a range is known ("all smaller than 6 mm", "6 to 8 mm")

    @property
    def known(self) -> bool:
        return self.mm is not None or self.mm3 is not None or self.bounds is not None


def round_half_up(x: float, digits: int = 0) -> float:
    """Round half up on the decimal value (5.5 → 6, 7.95 → 8.0; Python's round() gives 4.5 → 4, and binary
    floating point would turn 7.95 into 7.9499…)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def guideline_size(nodule: Nodule, measure: Measure, *, solid: bool = False) -> Size:
    """The nodule's (or its solid component's) size as ``measure`` defines it."""
    if solid:
        f, f3 = nodule.facts.get("solid_mm"), nodule.facts.get("solid_mm3")
        mm = None if f is None else _num(f.value)
        if mm is not None and measure == "mean-rounded":
            mm = round_half_up(mm)
        return Size(mm, None if f3 is None else _num(f3.value),
                    "" if f is None else f"solid component {f.value:g} mm", (f or f3).source if (f or f3) else "")
    long_f, short_f = nodule.facts.get("long_mm"), nodule.facts.get("short_mm")
    mean_f, diam_f = nodule.facts.get("mean_mm"), nodule.facts.get("diameter_mm")
    vol_f = nodule.facts.get("volume_mm3")
    volume = None if vol_f is None else _num(vol_f.value)
    long_mm = None if long_f is None else _num(long_f.value)
    short_mm = None if short_f is None else _num(short_f.value)
    if measure == "volume-or-max":
        if volume is not None:
            return Size(None, volume, f"{volume:.0f} mm3 by volumetry (BTS prefers volume)", vol_f.source)
        for f, what in ((long_f, "maximum (long-axis) diameter"), (diam_f, "stated diameter, taken as the maximum"),
                        (mean_f, "mean diameter (no maximum diameter given)")):
            if f is not None and _num(f.value) is not None:
                return Size(_num(f.value), None, f"{f.value:g} mm, {what}", f.source)
        return _bounded(nodule)
    if long_mm is not None and short_mm is not None:
        avg, src = (long_mm + short_mm) / 2, long_f.source
        base = f"average of {long_mm:g} × {short_mm:g} mm = {round(avg, 2):g} mm"
    elif mean_f is not None and _num(mean_f.value) is not None:
        avg, src, base = float(mean_f.value), mean_f.source, f"mean diameter {float(mean_f.value):g} mm"
    elif diam_f is not None and _num(diam_f.value) is not None:
        avg, src, base = float(diam_f.value), diam_f.source, f"stated diameter {float(diam_f.value):g} mm"
    else:
        if volume is not None:
            return Size(None, volume, f"{volume:.0f} mm3 (volume; no diameter given)", vol_f.source)
        return _bounded(nodule)
    if measure == "mean-rounded":
        mm = round_half_up(avg)
        how = f"{mm:.0f} mm ({base}, rounded to the nearest millimetre as Fleischner specifies)"
    else:
        mm = round_half_up(avg, 1)
        how = f"{mm:.1f} mm ({base}, mean diameter to one decimal as Lung-RADS specifies)"
    return Size(mm, volume if vol_f is not None else None, how, src)


def _bounded(nodule: Nodule) -> Size:
    """A size known only as a range: ``range_mm`` = (low, high), either end open (±inf); a part-solid
    nodule whose solid component alone is given is at least that large."""
    f = nodule.facts.get("range_mm")
    if f is None or not isinstance(f.value, tuple):
        solid = nodule.facts.get("solid_mm")
        if solid is not None and _num(solid.value) is not None:
            v = float(solid.value)
            return Size(None, None, f"at least {v:g} mm (its solid component; the total size is not stated)",
                        solid.source, bounds=(v, float("inf")))
        return Size(None, None, "")
    lo, hi = (float(x) for x in f.value)
    how = (f"smaller than {hi:g} mm" if lo == float("-inf") else f"larger than {lo:g} mm" if hi == float("inf")
           else f"{lo:g} to {hi:g} mm") + " (as stated)"
    return Size(None, None, how, f.source, bounds=(lo, hi))
