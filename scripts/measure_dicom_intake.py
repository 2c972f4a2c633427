"""Write evals/results/dicom_intake.json: intake outcomes over every pixel-carrying DICOM file of pydicom's test data.

Usage: .venv/bin/python scripts/measure_dicom_intake.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from evals.results import write_result
    from specialists.imaging.dicom_survey import counts, survey

    outcomes = survey()
    by_source = {src: dict(sorted(Counter(o.outcome for o in outcomes if o.source == src).items()))
                 for src in sorted({o.source for o in outcomes})}
    refusals = {o.path.name: o.detail for o in outcomes if o.outcome.startswith("refused")}
    crashes = {o.path.name: o.detail for o in outcomes if o.outcome == "crash"}
    metrics = {"counts": counts(outcomes), "by_source": by_source, "crashes": len(crashes)}
    path = write_result("dicom_intake", metrics, n=len(outcomes), kind="bench",
                        notes="every file with pixel data in pydicom's test_files and the pydicom-data wheel through "
                              "specialists.imaging.intake.describe_attachment (scripts/measure_dicom_intake.py)",
                        extra={"refusals": refusals, "crash_details": crashes})
    print(path)
    for k, v in metrics["counts"].items():
        print(f"  {k:<40} {v}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
