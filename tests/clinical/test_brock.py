"""Brock (PanCan full model with spiculation) against worked examples computed by hand.

Coefficients (McWilliams et al., NEJM 2013, model 2b): intercept -6.7892; age 0.0287 per year
above 62; female 0.6011; family history 0.2961; emphysema 0.2953; size -5.3854 x
((mm/10)^-0.5 - 1.58113883); part-solid 0.3770; non-solid -0.1276; upper lobe 0.6581;
count -0.0824 x (count - 4); spiculation 0.7729. p = 1 / (1 + exp(-log_odds)).
"""

from __future__ import annotations

import math

import pytest

from galen.errors import InvalidInput
from specialists.clinical.brock import BrockInput, brock_probability, normalise_type


def test_reference_patient_is_the_intercept():
    # 62-year-old man, solid 4 mm nodule, 4 nodules, nothing else: every centred term is 0, so
    # log-odds = -6.7892 and p = 1 / (1 + e^6.7892) = 1 / (1 + 888.21) = 0.0011246.
    r = brock_probability(BrockInput(62, "male", 4.0, "solid", nodule_count=4))
    assert r.log_odds == pytest.approx(-6.7892, abs=1e-6)
    assert r.probability == pytest.approx(0.0011246, abs=1e-6)


def test_high_risk_part_solid_example():
    # 65-year-old woman, family history, 15 mm part-solid, upper lobe, solitary, spiculated.
    #   age 0.0287*3 = 0.0861; female 0.6011; family 0.2961
    #   size: (1.5)^-0.5 = 0.81649658; 0.81649658 - 1.58113883 = -0.76464225; * -5.3854 = 4.11790
    #   part-solid 0.3770; upper 0.6581; count -0.0824*(1-4) = 0.2472; spiculation 0.7729
    #   sum of terms 7.15640; log-odds 7.15640 - 6.7892 = 0.36720; p = 1/(1+e^-0.36720) = 0.59078
    r = brock_probability(BrockInput(65, "female", 15.0, "part-solid", family_history=True, upper_lobe=True,
                                     nodule_count=1, spiculation=True))
    assert r.contributions["nodule_size"] == pytest.approx(4.11790, abs=1e-4)
    assert r.contributions["nodule_count"] == pytest.approx(0.2472, abs=1e-9)
    assert r.log_odds == pytest.approx(0.36720, abs=1e-4)
    assert r.probability == pytest.approx(0.59078, abs=1e-4)


def test_ground_glass_example_and_contributions_sum():
    # 70-year-old man, emphysema, 8 mm ground-glass, lower lobe, 2 nodules, not spiculated.
    #   age 0.0287*8 = 0.2296; emphysema 0.2953
    #   size: 0.8^-0.5 = 1.11803399; -0.46310484 * -5.3854 = 2.49400
    #   non-solid -0.1276; count -0.0824*(2-4) = 0.1648
    #   log-odds = 0.2296 + 0.2953 + 2.49400 - 0.1276 + 0.1648 - 6.7892 = -3.73310
    #   p = 1/(1+e^3.73310) = 1/(1+41.808) = 0.023360
    r = brock_probability(BrockInput(70, "male", 8.0, normalise_type("ground-glass"), emphysema=True, nodule_count=2))
    assert r.inputs.nodule_type == "non-solid"
    assert r.log_odds == pytest.approx(-3.73310, abs=1e-4)
    assert r.probability == pytest.approx(0.023360, abs=1e-5)
    assert sum(r.contributions.values()) == pytest.approx(r.log_odds)
    assert r.probability == pytest.approx(1 / (1 + math.exp(-r.log_odds)))


def test_monotone_in_size_and_spiculation():
    small = brock_probability(BrockInput(60, "female", 6, "solid")).probability
    large = brock_probability(BrockInput(60, "female", 20, "solid")).probability
    spic = brock_probability(BrockInput(60, "female", 20, "solid", spiculation=True)).probability
    assert small < large < spic


@pytest.mark.parametrize("kwargs", [
    {"age": 300}, {"age": 17}, {"nodule_size_mm": -4}, {"nodule_size_mm": 0.5}, {"nodule_size_mm": 150},
    {"nodule_count": 0}, {"nodule_count": 2.5}, {"sex": "unknown"},
])
def test_out_of_range_inputs_raise(kwargs):
    base = {"age": 60, "sex": "male", "nodule_size_mm": 8.0, "nodule_type": "solid"}
    with pytest.raises(InvalidInput):
        brock_probability(BrockInput(**{**base, **kwargs}))


def test_unknown_type_and_cohort_warnings():
    with pytest.raises(InvalidInput):
        normalise_type("calcified")
    r = brock_probability(BrockInput(85, "male", 40, "solid"))
    assert len(r.warnings) == 2 and "cohort" in r.warnings[0]


def test_subsolid_is_not_a_brock_type():
    from specialists.clinical.brock import normalise_type

    with pytest.raises(InvalidInput) as e:
        normalise_type("subsolid")
    assert "part-solid" in str(e.value) and "ground-glass" in str(e.value)
    assert normalise_type("semi-solid") == "part-solid"


def test_the_model_table_names_its_inputs_assumptions_and_non_inputs():
    from specialists.clinical.brock import ASSUMED, INPUTS, NOT_INPUTS

    assert len(INPUTS) == 9 and set(ASSUMED) < set(INPUTS)
    assert "smoking_status" in NOT_INPUTS and not set(NOT_INPUTS) & set(INPUTS)
    assert all(reason.endswith(".") for _, reason in NOT_INPUTS.values())
