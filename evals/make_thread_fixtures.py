"""Write the CT phantoms the multi-turn thread suites attach (``evals/suites/fixtures/threads``).

Run: ``python -m evals.make_thread_fixtures`` (the files are committed; this recreates them). Each is a
32 x 112 x 112 chest-CT phantom at the working spacing with round solid nodules of known size, chosen
away from the guidelines' size thresholds so that a measurement within a millimetre keeps its row:
12 mm (Fleischner > 8 mm, Lung-RADS 8 to < 15 mm), 7 mm (Fleischner 6-8 mm, Lung-RADS 6 to < 8 mm) and
11 mm with 6 mm (two nodules; the 11 mm one decides every guideline).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent / "suites" / "fixtures" / "threads"
#: name -> (seed, planted diameters in mm); all solid and round
FIXTURES = {"ct_solid_12mm": (101, [12.0]), "ct_solid_7mm": (102, [7.0]), "ct_two_solid_11_6mm": (104, [11.0, 6.0])}


def main() -> None:
    from specialists.imaging.phantom import make_phantom, write_phantom_nifti

    OUT.mkdir(parents=True, exist_ok=True)
    for name, (seed, sizes) in FIXTURES.items():
        ph = make_phantom(seed, shape=(32, 112, 112), diameters_mm=sizes, kinds=["solid"] * len(sizes),
                          shapes=["round"] * len(sizes))
        path = write_phantom_nifti(ph, OUT / f"{name}.nii.gz")
        print(f"{path.name}: {', '.join(f'{n.diameter_mm:g} mm' for n in ph.nodules)}")


if __name__ == "__main__":
    main()
