from __future__ import annotations

import pytest

from galen.errors import InvalidInput, MissingFacts
from tools.clinical import NoduleMalignancyRiskTool

SEG = {"tool": "segment_image", "data": {"lesions": [
    {"id": 1, "mean_diameter_mm": 6.0, "long_axis_mm": 7.0, "short_axis_mm": 5.0, "volume_mm3": 110.0,
     "mean_hu": 20.0, "upper_lobe": False},
    {"id": 2, "mean_diameter_mm": 11.5, "long_axis_mm": 13.0, "short_axis_mm": 10.0, "volume_mm3": 790.0,
     "mean_hu": -350.0, "upper_lobe": True}]}}
CLS = {"tool": "classify_image", "data": {"lesions": [
    {"id": 1, "type": "solid", "spiculated": False, "spiculation_probability": 0.1},
    {"id": 2, "type": "part-solid", "spiculated": True, "spiculation_probability": 0.8}]}}


def test_extracts_all_facts_from_text(ctx):
    tool = NoduleMalignancyRiskTool()
    q = ("68-year-old woman, former smoker with emphysema and a family history of lung cancer: a 1.2 cm "
         "part-solid spiculated nodule in the right upper lobe, 3 nodules in total. Brock risk?")
    a = tool.extract_arguments(q, ctx())
    assert (a["age"], a["sex"], a["nodule_size_mm"], a["nodule_type"]) == (68, "female", 12.0, "part-solid")
    assert a["emphysema"] and a["family_history"] and a["upper_lobe"] and a["spiculation"]
    assert a["nodule_count"] == 3 and set(a["sources"].values()) == {"question"}


def test_negations_and_defaults(ctx):
    tool = NoduleMalignancyRiskTool()
    q = "55 year old man, no emphysema, no family history, 7 mm solid nodule with smooth margins in the left lower lobe"
    a = tool.extract_arguments(q, ctx())
    assert a["emphysema"] is False and a["family_history"] is False
    assert a["spiculation"] is False and a["upper_lobe"] is False
    assert a["nodule_count"] == 1 and a["sources"]["nodule_count"] == "default"
    res = tool.run(tool.validate_arguments(a), ctx())
    assert any("solitary" in w for w in res.warnings)
    assert res.data["probability"] == pytest.approx(res.data["probability_percent"] / 100, abs=1e-4)


def test_missing_facts_named(ctx):
    tool = NoduleMalignancyRiskTool()
    with pytest.raises(MissingFacts) as e:
        tool.extract_arguments("What is the malignancy risk of an 8 mm nodule?", ctx())
    assert e.value.missing == ["age", "sex", "nodule type (solid, part-solid or ground-glass)"]


@pytest.mark.parametrize("q", ["Age 300, male, 8 mm solid nodule: Brock?",
                               "60-year-old man, nodule size −4 mm, solid: Brock risk?"])
def test_out_of_range_raises(ctx, q):
    with pytest.raises(InvalidInput) as e:
        NoduleMalignancyRiskTool().extract_arguments(q, ctx())
    assert not isinstance(e.value, MissingFacts)


def test_uses_segmented_lesions_and_their_classification(ctx):
    tool = NoduleMalignancyRiskTool()
    c = ctx(findings=[SEG, CLS])
    with pytest.raises(MissingFacts) as e:
        tool.extract_arguments("What is the risk of this nodule?", c)
    assert e.value.missing == ["age", "sex"]
    a = tool.extract_arguments("What is the risk of this nodule? She is 64.", c)
    # Brock was built on the longest diameter: lesion 2's long axis (13 mm), not its mean (11.5 mm)
    assert a["nodule_size_mm"] == 13.0 and a["mean_diameter_mm"] == 11.5
    assert a["nodule_type"] == "part-solid" and a["spiculation"] is True
    assert a["upper_lobe"] is True and a["nodule_count"] == 2
    assert a["sources"]["nodule_size_mm"] == "segment_image" and a["sources"]["nodule_type"] == "classify_image"
    size = next(e for e in a["inputs"] if e["name"] == "nodule_size_mm" and e.get("nodule") == 2)
    assert size["evidence"] == "lesion 2 long axis 13.0 mm"
    res = tool.run(tool.validate_arguments(a), c)
    assert res.data["model_inputs"]["nodule_type"] == "part-solid"
    assert [n["id"] for n in res.data["nodules"]] == [2, 1]  # both lesions computed, most suspicious first
    assert res.data["nodules"][0]["probability"] > res.data["nodules"][1]["probability"]
    assert set(res.data["contributions"]) >= {"age", "sex", "nodule_size", "spiculation", "intercept"}
    assert "Brock" in res.grounding_query and any(f"{res.data['probability_percent']:.1f}%" in f for f in res.facts)
