"""Which guideline applies: named in the question, else decided from the setting, and said.

Screening examinations follow Lung-RADS and incidental nodules Fleischner (each guideline says
so of itself); BTS applies when it is asked for (or UK practice is), or when the question turns
on a Brock or Herder probability or a volume doubling time — steps only the BTS pathway has.
"""

from __future__ import annotations

from knowledge.decisions.facts import Case

NAMES = {"fleischner-2017": "Fleischner 2017", "lung-rads-2022": "Lung-RADS v2022", "bts-2015": "BTS 2015"}


def choose_guideline(case: Case, named: str | None = None, bts_drivers: list[str] | None = None,
                     previous: str | None = None, weighed: list[str] | None = None) -> tuple[str, str]:
    """(table id, why) for ``case``.

    Args:
        case: the facts (``setting`` is ``screening`` or ``incidental`` when known).
        named: a guideline the question names ('fleischner-2017' …), or None.
        bts_drivers: what in the question points to BTS ("UK practice", "Brock probability"), if anything.
        previous: the guideline the thread's previous decision used.
        weighed: the guidelines a question names to ask which applies ("Fleischner or Lung-RADS?"): the
            setting (or the pointers to BTS) decides, as when none is named, and the answer says so.
    """
    if weighed and not named:
        table_id, why = choose_guideline(case, None, bts_drivers, previous)
        asked = " or ".join(NAMES[w] for w in weighed)
        return table_id, f"{why} (the question asks whether {asked} applies)"
    setting = case.facts.get("setting")
    if named:
        return named, f"{NAMES[named]}: named in the question"
    if bts_drivers:
        return "bts-2015", f"BTS 2015: the question turns on {', '.join(bts_drivers)} (a step of the BTS pathway)"
    if setting is not None and setting.value == "screening":
        return "lung-rads-2022", f"Lung-RADS v2022: a lung cancer screening examination ({setting.source})"
    if setting is not None and setting.value == "incidental":
        return "fleischner-2017", f"Fleischner 2017: an incidental finding ({setting.source})"
    if previous:
        return previous, f"{NAMES[previous]}: the guideline of the previous answer in this conversation"
    return "fleischner-2017", ("Fleischner 2017: the setting is not stated, so the nodule is taken as an incidental "
                               "finding; if this was a lung cancer screening CT, Lung-RADS applies instead")
