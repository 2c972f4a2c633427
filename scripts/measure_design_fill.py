"""How well the configured LLM reads what the design parser's rules could not (embedded by default).

Usage: python scripts/measure_design_fill.py [--backend embedded|openai]
Each case is a request whose constraints are phrased outside the rules' vocabulary. For every
expected constraint it counts: read correctly, left unread (reported to the chemist as not
applied), or read wrongly and still accepted by the checks (the number that must stay 0).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

#: (request, {property: (low, high)}) — what a careful chemist means.
CASES: list[tuple[str, dict[str, tuple[float | None, float | None]]]] = [
    ("analogs of ibuprofen whose molecular weight should stay below 300", {"mw": (None, 300)}),
    ("analogs of aspirin with logP not exceeding 3", {"logp": (None, 3)}),
    ("analogs of caffeine, polar surface area capped at 90", {"tpsa": (None, 90)}),
    ("analogs of naproxen with a QED that must exceed 0.6", {"qed": (0.6, None)}),
    ("molecules like lidocaine where the MW must not go past 280", {"mw": (None, 280)}),
    ("analogs of paracetamol with logP somewhere from 1 up to 2", {"logp": (1, 2)}),
    ("analogs of celecoxib, heavy atoms limited to 28", {"heavy_atoms": (None, 28)}),
    ("analogs of fluoxetine with TPSA staying beneath 60 and logP kept to 4", {"tpsa": (None, 60), "logp": (None, 4)}),
    ("analogs of diazepam whose SA score stays south of 3", {"sa_score": (None, 3)}),
    ("analogs of metformin with the donor count held at 2", {"hbd": (2, 2)}),
    ("analogs of ibuprofen with weight topping out at 320 Da", {"mw": (None, 320)}),
    ("analogs of aspirin with rotatable bonds capped at 3", {"rotatable_bonds": (None, 3)}),
]


def main(argv: list[str] | None = None) -> int:
    from langchain_core.messages import HumanMessage

    from agent.llm import build_chat_model
    from galen.settings import Settings
    from specialists.molecules.parse import parse_design_request

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["embedded", "openai"], default="embedded")
    args = ap.parse_args(argv)
    model = build_chat_model(Settings(llm_backend=args.backend))

    def fill(prompt: str, schema: dict) -> object:
        return model.with_structured_output(schema).invoke([HumanMessage(content=prompt)])

    correct = unread = wrong = 0
    seconds, details = [], []
    for text, expected in CASES:
        t = time.perf_counter()
        parsed = parse_design_request(text, fill=fill)
        seconds.append(time.perf_counter() - t)
        got = {k: (r.low, r.high) for k, r in parsed.request.ranges.items()}
        for key, want in expected.items():
            if key not in got:
                unread += 1
            elif got[key] == want:
                correct += 1
            else:
                wrong += 1
        extra = sorted(set(got) - set(expected))
        wrong += len(extra)
        details.append({"request": text, "read": got, "unread": parsed.unread})
    total = sum(len(e) for _, e in CASES)
    print(json.dumps({"backend": args.backend, "constraints": total, "read_correctly": correct,
                      "left_unread_and_reported": unread, "read_wrongly_and_accepted": wrong,
                      "seconds_p50": round(statistics.median(seconds), 2), "details": details}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
