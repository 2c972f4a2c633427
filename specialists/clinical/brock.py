"""Brock University (PanCan) probability of malignancy for a lung nodule.

The full model with spiculation (model 2b) of McWilliams et al., *Probability of cancer in
pulmonary nodules detected on first screening CT*, N Engl J Med 2013;369:910-919. The
coefficients are the published ones (see ``MODEL_CARD_brock.md``); the log-odds are a sum of
one term per factor, so each factor's contribution is reported exactly as it enters the sum.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from galen.errors import InvalidInput

VERSION = "brock-pancan-2b-1.0"

NoduleType = Literal["solid", "part-solid", "non-solid"]
Sex = Literal["female", "male"]

#: Published coefficients of the full model with spiculation (McWilliams 2013, model 2b).
INTERCEPT = -6.7892
COEF_AGE = 0.0287  # per year above 62
AGE_CENTRE = 62.0
COEF_FEMALE = 0.6011
COEF_FAMILY_HISTORY = 0.2961
COEF_EMPHYSEMA = 0.2953
COEF_SIZE = -5.3854  # times ((size_mm / 10) ** -0.5 - SIZE_CENTRE)
SIZE_CENTRE = 1.58113883  # = (4 / 10) ** -0.5: size is centred at 4 mm
COEF_TYPE = {"solid": 0.0, "part-solid": 0.3770, "non-solid": -0.1276}
COEF_UPPER_LOBE = 0.6581
COEF_COUNT = -0.0824  # per nodule above 4
COUNT_CENTRE = 4.0
COEF_SPICULATION = 0.7729

#: The model's nine inputs (McWilliams 2013, model 2b), in the order the result lists them.
INPUTS = ("age", "sex", "family_history", "emphysema", "nodule_size_mm", "nodule_type", "upper_lobe",
          "nodule_count", "spiculation")
#: Inputs that describe one nodule (the others describe the person or the whole scan).
NODULE_INPUTS = ("nodule_size_mm", "nodule_type", "upper_lobe", "spiculation")

#: Values assumed when a binary input or the count is not stated, and why. The paper defines no
#: rule for missing inputs: a binary predictor's reference category is "absent" and one nodule is
#: the higher-risk count (the count coefficient is negative). Each assumption is shown as such
#: (source "default") for the clinician to confirm, never silently.
ASSUMED: dict[str, tuple[object, str]] = {
    "family_history": (False, "no family history of lung cancer"),
    "emphysema": (False, "no emphysema on CT"),
    "upper_lobe": (False, "not in an upper lobe"),
    "nodule_count": (1, "a solitary nodule (1 nodule; the higher-risk assumption, the count coefficient is negative)"),
    "spiculation": (False, "no spiculation"),
}

#: Facts people ask about that are *not* inputs of the model, and why (a "what if" about one of these
#: does not change the probability, and the answer says so). McWilliams et al., NEJM 2013; BTS 2015.
NOT_INPUTS: dict[str, tuple[str, str]] = {
    "smoking_status": ("smoking status", "Smoking is not one of the model's nine predictors: the PanCan cohort it was "
                       "built on was made up of current and former smokers, so smoking status and pack-years do not "
                       "enter the nodule model (they matter for who is screened and for Fleischner's risk category)."),
    "pack_years": ("pack-years", "Pack-years are not one of the model's nine predictors (the PanCan cohort was made up "
                   "of current and former smokers)."),
    "copd": ("COPD", "The model's predictor is emphysema seen on the CT, not a clinical or spirometric diagnosis of "
             "COPD; say whether the CT shows emphysema and that input will change."),
    "calcification": ("calcification", "The model is for non-calcified nodules: a calcified (benign-pattern) nodule is "
                      "outside its scope rather than a lower-risk input."),
    "growth": ("growth", "The model estimates risk from a single CT; growth on a later scan is not an input (judge it "
               "by volume doubling time and the guideline's follow-up rules)."),
    "pet_uptake": ("FDG uptake on PET-CT", "PET uptake is not a Brock input; BTS 2015 combines the PET-CT result with "
                   "the pre-test risk in the Herder model."),
    "prior_cancer": ("a history of cancer", "People with a recent cancer were not in the PanCan cohort; the model does "
                     "not take it as an input and is not meant for them."),
    "asbestos": ("asbestos exposure", "Occupational exposure is not one of the model's nine predictors."),
    "ethnicity": ("ethnicity", "Ethnicity is not one of the model's nine predictors."),
    "symptoms": ("symptoms", "Symptoms are not inputs: the model was built on screen-detected nodules."),
}

AGE_RANGE = (18.0, 110.0)
SIZE_RANGE_MM = (1.0, 100.0)
#: The PanCan development cohort: age 50-75, nodules of 1-30 mm (warn outside it).
COHORT_AGE = (50.0, 75.0)
COHORT_SIZE_MM = (1.0, 30.0)

_TYPE_ALIASES = {
    "solid": "solid",
    "part-solid": "part-solid", "part solid": "part-solid", "partsolid": "part-solid", "part_solid": "part-solid",
    "semi-solid": "part-solid", "semisolid": "part-solid", "mixed": "part-solid",
    "non-solid": "non-solid", "nonsolid": "non-solid", "non solid": "non-solid", "non_solid": "non-solid",
    "ground-glass": "non-solid", "ground glass": "non-solid", "ground_glass": "non-solid", "ggn": "non-solid",
    "ggo": "non-solid", "pure ground-glass": "non-solid",
}


def normalise_type(value: str) -> NoduleType:
    """Map a nodule-type name (``ground-glass``, ``part solid``, ``GGN`` …) to the model's three types.

    "Subsolid" is not one of them: it covers both part-solid and pure ground-glass nodules, whose
    coefficients differ (+0.377 and −0.128), so it is refused with that explanation.

    Raises:
        InvalidInput: the name is not a nodule type, or is "subsolid".
    """
    key = value.strip().lower()
    if key in ("subsolid", "sub-solid", "sub solid"):
        raise InvalidInput("'Subsolid' covers both part-solid and pure ground-glass nodules, which the Brock model "
                           "weighs differently.", hint="Say whether the nodule is part-solid or pure ground-glass.")
    if key not in _TYPE_ALIASES:
        raise InvalidInput(
            f"Nodule type {value!r} is not one the Brock model knows.",
            hint="Use solid, part-solid or non-solid (ground-glass).",
        )
    return _TYPE_ALIASES[key]  # type: ignore[return-value]


@dataclass(frozen=True)
class BrockInput:
    """The facts the Brock full model needs. Sizes in millimetres, age in years."""

    age: float
    sex: Sex
    nodule_size_mm: float
    nodule_type: NoduleType
    family_history: bool = False
    emphysema: bool = False
    upper_lobe: bool = False
    nodule_count: int = 1
    spiculation: bool = False


@dataclass(frozen=True)
class BrockResult:
    """Probability of malignancy with the log-odds split into one contribution per factor."""

    probability: float
    log_odds: float
    contributions: dict[str, float]
    inputs: BrockInput
    warnings: tuple[str, ...]
    version: str = VERSION

    def to_dict(self) -> dict[str, object]:
        return {
            "probability": self.probability,
            "probability_percent": round(100 * self.probability, 2),
            "log_odds": self.log_odds,
            "contributions": dict(self.contributions),
            "inputs": asdict(self.inputs),
            "warnings": list(self.warnings),
            "model": self.version,
        }


def validate(inp: BrockInput) -> list[str]:
    """Check ranges and units; return cohort warnings.

    Raises:
        InvalidInput: a value is impossible (age outside 18-110 years, size outside 1-100 mm,
            fewer than one nodule, unknown sex or type).
    """
    if not isinstance(inp.age, int | float) or math.isnan(inp.age) or not AGE_RANGE[0] <= inp.age <= AGE_RANGE[1]:
        raise InvalidInput(
            f"Age {inp.age} years is outside what the Brock model accepts ({AGE_RANGE[0]:g}-{AGE_RANGE[1]:g} years).",
            hint="Check the age; it must be in years.",
        )
    size = inp.nodule_size_mm
    if not isinstance(size, int | float) or math.isnan(size) or not SIZE_RANGE_MM[0] <= size <= SIZE_RANGE_MM[1]:
        raise InvalidInput(
            f"Nodule size {size} mm is outside what the Brock model accepts "
            f"({SIZE_RANGE_MM[0]:g}-{SIZE_RANGE_MM[1]:g} mm).",
            hint="Give the mean diameter in millimetres (1 cm = 10 mm).",
        )
    if int(inp.nodule_count) != inp.nodule_count or inp.nodule_count < 1:
        raise InvalidInput(f"Nodule count {inp.nodule_count} is not a whole number of at least 1.")
    if inp.sex not in ("female", "male"):
        raise InvalidInput(f"Sex {inp.sex!r} must be 'female' or 'male' for the Brock model.")
    if inp.nodule_type not in COEF_TYPE:
        normalise_type(str(inp.nodule_type))
    warnings = []
    if not COHORT_AGE[0] <= inp.age <= COHORT_AGE[1]:
        warnings.append(
            f"Age {inp.age:g} years is outside the PanCan development cohort (50-75 years); "
            "the estimate is an extrapolation."
        )
    if size > COHORT_SIZE_MM[1]:
        warnings.append(
            f"A {size:g} mm lesion is larger than the nodules the model was built on (up to 30 mm); "
            "lesions over 30 mm are masses and the estimate is an extrapolation."
        )
    return warnings


def brock_probability(inp: BrockInput) -> BrockResult:
    """Probability that a nodule is malignant by the Brock full model with spiculation.

    Args:
        inp: patient and nodule facts (size = mean diameter in mm).

    Returns:
        The probability (0-1), the log-odds and each factor's additive contribution to it
        (``intercept`` included, so the contributions sum to the log-odds).

    Raises:
        InvalidInput: a value out of range (see :func:`validate`).
    """
    warnings = validate(inp)
    nodule_type = normalise_type(inp.nodule_type)
    contributions = {
        "intercept": INTERCEPT,
        "age": COEF_AGE * (inp.age - AGE_CENTRE),
        "sex": COEF_FEMALE if inp.sex == "female" else 0.0,
        "family_history": COEF_FAMILY_HISTORY if inp.family_history else 0.0,
        "emphysema": COEF_EMPHYSEMA if inp.emphysema else 0.0,
        "nodule_size": COEF_SIZE * ((inp.nodule_size_mm / 10.0) ** -0.5 - SIZE_CENTRE),
        "nodule_type": COEF_TYPE[nodule_type],
        "upper_lobe": COEF_UPPER_LOBE if inp.upper_lobe else 0.0,
        "nodule_count": COEF_COUNT * (inp.nodule_count - COUNT_CENTRE),
        "spiculation": COEF_SPICULATION if inp.spiculation else 0.0,
    }
    log_odds = sum(contributions.values())
    probability = 1.0 / (1.0 + math.exp(-log_odds))
    return BrockResult(probability, log_odds, contributions,
                       BrockInput(**{**asdict(inp), "nodule_type": nodule_type}), tuple(warnings))


def risk_band(probability: float) -> str:
    """The BTS 2015 band for a nodule of 8 mm or more: CT surveillance below 10 %, PET-CT from 10 %."""
    if probability < 0.10:
        return "below the 10% BTS threshold (CT surveillance for nodules of 8 mm or more)"
    return "at or above the 10% BTS threshold (PET-CT for nodules of 8 mm or more)"
