"""Screening inputs for the tests: a 200-row CSV of MOSES test molecules with invalid rows mixed in."""

from __future__ import annotations

from pathlib import Path

#: (SMILES cell, why it is invalid); each becomes one row of the test file.
INVALID = [
    ("CC(C", "parentheses"),
    ("c1ccccc", "ring"),
    ("C(C)(C)(C)(C)C", "valence"),
    ("", "empty"),
    ("CC[Xx]C", "syntax"),
    ("C" * 501, "heavy atoms"),
    ("N1CC", "ring"),
    ("hello world", "syntax"),
    ("c1cccc1", "kekulize"),
    ("O=C=O=O", "valence"),
]


def moses_test(n: int, skip: int = 0) -> list[str]:
    from specialists.molecules.generation_metrics import read_moses

    return read_moses("test.csv.gz")[skip:skip + n]


def write_screen_csv(path: Path, n_valid: int = 190) -> tuple[Path, list[int]]:
    """A CSV (id, smiles, activity) of ``n_valid`` MOSES test molecules with the :data:`INVALID` rows
    spread among them; returns the path and the file lines of the invalid rows."""
    smiles = moses_test(n_valid)
    rows: list[tuple[str, str, str]] = []
    bad_lines: list[int] = []
    step = max(1, n_valid // len(INVALID))
    k = 0
    for i, s in enumerate(smiles):
        if i % step == 3 and k < len(INVALID):
            rows.append((f"bad{k}", INVALID[k][0], "0"))
            bad_lines.append(len(rows) + 1)  # +1: the header is line 1
            k += 1
        rows.append((f"mol{i}", s, f"{i / 10:.1f}"))
    while k < len(INVALID):
        rows.append((f"bad{k}", INVALID[k][0], "0"))
        bad_lines.append(len(rows) + 1)
        k += 1
    with path.open("w", encoding="utf-8") as f:
        f.write("id,smiles,activity\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    return path, bad_lines
