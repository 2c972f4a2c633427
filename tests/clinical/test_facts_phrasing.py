"""The clinical fact reader, one phrasing class at a time (English and Chinese)."""

from __future__ import annotations

import pytest

from tools.facts.breast import read_er_status, read_grade, read_menopausal_status, read_positive_nodes
from tools.facts.nodules import read_nodules
from tools.facts.patient import read_age, read_emphysema, read_family_history, read_sex, read_smoking
from tools.facts.text import normalise, zh_number


def value(reader, text):
    f = reader(normalise(text))
    return None if f is None else f.value


def first_nodule(text):
    nt = read_nodules(normalise(text))
    return {k: f.value for k, f in (nt.nodules[0] if nt.nodules else {}).items()}


def count(text):
    c = read_nodules(normalise(text)).count
    return None if c is None else c.value


@pytest.mark.parametrize("text, age", [
    ("71-year-old with a nodule", 71), ("71 year old", 71), ("a 71-yr-old", 71), ("71 yo", 71), ("71yo", 71),
    ("71 y/o", 71), ("aged 71", 71), ("age: 71", 71), ("71F", 71), ("71 M", 71), ("58/F", 58), ("M 58", 58),
    ("F, 58, RUL nodule", 58), ("she's 64", 64), ("he is 62", 62), ("64, a woman", 64), ("a woman of 64", 64),
    ("female, 66", 66), ("Man (58)", 58), ("Mr Jones, 59", 59), ("Mrs K is 58", 58), ("seventy-two-year-old", 72),
    ("64岁女性", 64), ("年龄：59", 59), ("六十八岁男性", 68), ("pt 74 F", 74),
])
def test_age_forms(text, age):
    assert value(read_age, text) == age


@pytest.mark.parametrize("text", ["a woman in her sixties", "man in his 70s", "60多岁女性"])
def test_an_age_range_is_named_but_not_settled(text):
    f = read_age(normalise(text))
    assert f is not None and f.value is None and "age" in f.note


@pytest.mark.parametrize("text", ["quit 10 years ago, 8 mm nodule", "30 pack-years", "12 mm nodule", "3 nodules",
                                  "5y distant metastasis risk", "2y follow-up CT"])
def test_numbers_that_are_not_ages(text):
    assert value(read_age, text) is None


@pytest.mark.parametrize("text, sex", [
    ("67F", "female"), ("M 58", "male"), ("Mrs Smith", "female"), ("Mr Smith", "male"), ("♀ 63", "female"),
    ("♂ 70", "male"), ("a lady", "female"), ("gentleman", "male"), ("sex: F", "female"), ("67 yo M", "male"),
    ("65-year-old man; his sister had lung cancer", "male"), ("her father had lung cancer", "female"),
    ("女，64岁", "female"), ("男性患者", "male"), ("性别：女", "female"),
])
def test_sex_forms(text, sex):
    assert value(read_sex, text) == sex


def test_a_pronoun_is_weak_evidence_of_sex():
    assert read_sex(normalise("and if she were 70?")).weak
    assert not read_sex(normalise("a woman of 70")).weak


@pytest.mark.parametrize("text, fh", [
    ("her father died of lung cancer", True), ("sister had lung ca", True), ("FHx lung ca (father)", True),
    ("brother diagnosed with lung cancer", True), ("lung cancer in his mother", True), ("FH: none", False),
    ("no family history", False), ("family history negative", False), ("FHx -ve", False), ("父亲死于肺癌", True),
    ("无肺癌家族史", False), ("家族史：无", False), ("有肺癌家族史", True),
])
def test_family_history(text, fh):
    assert value(read_family_history, text) is fh


def test_family_history_of_another_cancer_does_not_settle_lung_cancer():
    assert read_family_history(normalise("her mother had breast cancer")) is None
    assert read_family_history(normalise("family history of colon cancer")) is None


def test_a_second_degree_relative_is_noted():
    f = read_family_history(normalise("his uncle had lung cancer"))
    assert f.value is True and "second-degree" in f.note


@pytest.mark.parametrize("text, emph", [
    ("emphysema on CT", True), ("centrilobular emphysema", True), ("emphysematous lungs", True),
    ("no emphysema", False), ("emphysema: none", False), ("without emphysema", False), ("肺气肿", True),
    ("CT未见肺气肿", False), ("COPD, no emphysema on the CT", False),
])
def test_emphysema(text, emph):
    assert value(read_emphysema, text) is emph


def test_copd_alone_is_not_emphysema_for_brock():
    for text in ("COPD on inhalers", "慢阻肺"):
        f = read_emphysema(normalise(text))
        assert f.value is False and f.source == "default" and "emphysema seen on CT" in f.note


@pytest.mark.parametrize("text, status", [
    ("ex-smoker", "former"), ("quit smoking in 2010", "former"), ("current smoker", "current"),
    ("never smoked", "never"), ("lifelong non-smoker", "never"), ("已戒烟", "former"), ("从不吸烟", "never"),
    ("现吸烟", "current"),
])
def test_smoking_status(text, status):
    assert value(read_smoking, text) == status


@pytest.mark.parametrize("text, size, mean", [
    ("8 mm nodule", 8, None), ("8mm", 8, None), ("8-mm nodule", 8, None), ("1.2 cm nodule", 12, None),
    ("0.9cm", 9, None), ("8x6 mm", 8, 7), ("8 x 6 mm", 8, 7), ("8 mm x 6 mm", 8, 7), ("9 x 7 x 8 mm", 9, None),
    ("1.2×0.9cm", 12, 10.5), ("12毫米", 12, None), ("1.5厘米", 15, None),
])
def test_sizes_use_the_longest_diameter(text, size, mean):
    n = first_nodule(text)
    assert n["nodule_size_mm"] == size and n.get("mean_diameter_mm") == mean


@pytest.mark.parametrize("text", [
    "14 mm part-solid nodule with a 6 mm solid component", "part-solid, solid component of 6 mm, 14 mm in total",
    "14 mm GGN with a 6 mm solid core", "部分实性结节14毫米，实性成分6毫米", "14mm ground glass nodule (6 mm solid part)",
])
def test_whole_nodule_and_solid_component_are_kept_apart(text):
    n = first_nodule(text)
    assert n["nodule_size_mm"] == 14 and n["solid_component_mm"] == 6 and n["nodule_type"] == "part-solid"


@pytest.mark.parametrize("text", ["1 mm slices, 7 mm nodule", "lymph node 12 mm; 7 mm nodule", "(both <4mm) 7 mm nodule"])
def test_sizes_that_are_not_the_nodule(text):
    assert first_nodule(text)["nodule_size_mm"] == 7


@pytest.mark.parametrize("text, kind", [
    ("solid nodule", "solid"), ("part-solid", "part-solid"), ("part solid", "part-solid"), ("semi-solid", "part-solid"),
    ("ground-glass nodule", "non-solid"), ("pure GGN", "non-solid"), ("GGO", "non-solid"), ("non-solid", "non-solid"),
    ("实性结节", "solid"), ("部分实性结节", "part-solid"), ("混合磨玻璃结节", "part-solid"), ("纯磨玻璃结节", "non-solid"),
])
def test_nodule_types(text, kind):
    assert first_nodule(text)["nodule_type"] == kind


@pytest.mark.parametrize("text", ["9 mm subsolid nodule", "亚实性结节9毫米"])
def test_subsolid_is_named_but_not_settled(text):
    f = read_nodules(normalise(text)).nodules[0]["nodule_type"]
    assert f.value is None and "part-solid" in f.note


@pytest.mark.parametrize("text", ["9 mm subsolid (pure GGO) nodule", "sub-solid nodule, ground-glass, 9 mm",
                                  "亚实性结节9毫米，纯磨玻璃"])
def test_subsolid_settled_by_a_specific_word_for_the_same_nodule(text):
    assert read_nodules(normalise(text)).nodules[0]["nodule_type"].value == "non-solid"


@pytest.mark.parametrize("text, lobe, upper", [
    ("RUL", "RUL", True), ("left upper lobe", "LUL", True), ("lingula", "lingula", True), ("RML", "RML", False),
    ("right middle lobe", "RML", False), ("RLL", "RLL", False), ("LLL", "LLL", False),
    ("superior segment of the right lower lobe", "RLL", False), ("右上叶", "RUL", True), ("左肺下叶背段", "LLL", False),
    ("左肺上叶舌段", "LUL", True), ("右中叶", "RML", False),
])
def test_lobes(text, lobe, upper):
    n = first_nodule(f"8 mm nodule in the {text}")
    assert n["lobe"] == lobe and n["upper_lobe"] is upper


@pytest.mark.parametrize("text, spic", [
    ("spiculated", True), ("speculated", True), ("spiculation", True), ("non-spiculated", False),
    ("no spiculation", False), ("smooth margins", False), ("well-circumscribed", False), ("有毛刺", True),
    ("无毛刺", False), ("毛刺征阴性", False), ("边缘光滑", False),
])
def test_margins(text, spic):
    assert first_nodule(f"9 mm nodule, {text}")["spiculation"] is spic


@pytest.mark.parametrize("text, n", [
    ("3 nodules in total", 3), ("three nodules", 3), ("multiple (4)", 4), ("nodule count: 5", 5),
    ("a solitary nodule", 1), ("no other nodules", 1), ("a second nodule", 2), ("one other nodule", 2),
    ("two further nodules", 3), ("2 other nodules", 3), ("3 additional nodules", 4), ("another 4 mm nodule", 2),
    ("another two nodules", 3), ("共3个结节", 3), ("另有2个小结节", 3), ("单发", 1), ("结节数：2", 2),
])
def test_counts_in_total_and_relative_to_the_index_nodule(text, n):
    assert count(f"8 mm solid nodule, {text}") == n


@pytest.mark.parametrize("text", ["multiple nodules", "several small nodules", "多发结节"])
def test_multiple_without_a_number_is_not_settled(text):
    c = read_nodules(normalise(f"8 mm solid nodule; {text}")).count
    assert c is not None and c.value is None


def test_several_nodules_each_with_its_own_facts():
    nt = read_nodules(normalise("an 8 mm spiculated solid nodule in the RUL and another 5 mm ground-glass nodule "
                                "in the LLL"))
    a, b = ({k: f.value for k, f in n.items()} for n in nt.nodules)
    assert (a["nodule_size_mm"], a["nodule_type"], a["upper_lobe"], a["spiculation"]) == (8, "solid", True, True)
    assert (b["nodule_size_mm"], b["nodule_type"], b["upper_lobe"]) == (5, "non-solid", False)
    assert "spiculation" not in b and nt.count.value == 2


def test_a_type_said_once_for_all_nodules():
    nt = read_nodules(normalise("two nodules, 7 mm RUL and 4 mm LLL, both solid"))
    assert [n["nodule_type"].value for n in nt.nodules] == ["solid", "solid"]


def test_zh_numbers():
    assert (zh_number("六十八"), zh_number("十二"), zh_number("两"), zh_number("七十")) == (68, 12, 2, 70)


@pytest.mark.parametrize("text, er, grade", [
    ("ER+, grade 2", True, 2), ("ER-negative, G3", False, 3), ("oestrogen receptor positive, grade II", True, 2),
    ("ER阳性，组织学分级3级", True, 3), ("ER neg, poorly differentiated", False, 3),
])
def test_breast_receptor_and_grade(text, er, grade):
    assert value(read_er_status, text) is er and value(read_grade, text) == grade


@pytest.mark.parametrize("text, nodes", [("4 positive nodes", 4), ("7/15 nodes positive", 7), ("node-negative", 0),
                                         ("2 involved nodes", 2), ("淋巴结转移3枚", 3)])
def test_positive_nodes(text, nodes):
    assert value(read_positive_nodes, text) == nodes


def test_perimenopausal_is_asked_not_guessed():
    f = read_menopausal_status(normalise("perimenopausal"))
    assert f.value is None and f.note
    assert value(read_menopausal_status, "绝经后") == "post"


def test_evidence_is_the_original_text():
    text = "Ｍｒｓ Ｋ, ５８, ＲＵＬ １２ ｍｍ"  # full-width characters map one to one
    t = normalise(text)
    f = read_age(t)
    assert f.value == 58 and text[f.start:f.end] == "Ｋ, ５８" or text[f.start:f.end].endswith("５８")
    assert read_sex(t).evidence == "Mrs"


@pytest.mark.parametrize("text,status", [
    ("女 45岁 不抽烟", "never"), ("从不抽烟", "never"), ("没抽过烟", "never"), ("无吸烟史", "never"),
    ("否认吸烟", "never"), ("非吸烟者", "never"), ("以前不抽烟", "never"), ("no smoking history", "never"),
    ("denies smoking", "never"), ("已戒烟10年", "former"), ("以前抽烟", "former"), ("曾经吸烟", "former"),
    ("还没戒烟", "current"), ("has not quit smoking", "current"), ("现在仍抽烟", "current"), ("抽烟30年", "current"),
])
def test_smoking_with_negation_and_chinese_forms(text, status):
    f = read_smoking(text)
    assert f is not None and f.value == status, (text, f)
