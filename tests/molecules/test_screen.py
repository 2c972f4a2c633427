"""`galen screen`: the fast (chunked, worker-process) path equals the reference path, invalid rows are
reported by line, and every bad input gets a clear error."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile
from specialists.molecules import screen_io
from specialists.molecules.screen import DESCRIPTOR_COLUMNS, LEARNED_COLUMNS, local_map, screen_file, screen_records
from specialists.molecules.screen_io import read_molecules
from tests.molecules.screen_data import INVALID, moses_test, write_screen_csv


@pytest.fixture(scope="module")
def screen_csv(tmp_path_factory) -> tuple[Path, list[int]]:
    return write_screen_csv(tmp_path_factory.mktemp("screen") / "library.csv")


@pytest.fixture(scope="module")
def in_process(screen_csv):
    return screen_records(read_molecules(screen_csv[0]), learned=True, workers=1, chunk_size=64)


def test_every_row_is_screened_or_reported_by_line(screen_csv, in_process) -> None:
    path, bad_lines = screen_csv
    assert len(in_process.rows) == 190
    assert [r["line"] for r in in_process.invalid] == bad_lines
    assert len(in_process.invalid) == len(INVALID)
    assert all(r["reason"] for r in in_process.invalid)
    reasons = {r["line"]: r["reason"] for r in in_process.invalid}
    assert "parentheses do not match" in reasons[bad_lines[0]]
    assert "empty" in reasons[bad_lines[3]]
    assert "heavy atoms" in reasons[bad_lines[5]]
    lines = [r["line"] for r in in_process.rows] + bad_lines
    assert sorted(lines) == list(range(2, 202))  # nothing dropped: 200 data lines after the header


def test_fast_path_equals_the_reference_path(in_process) -> None:
    """Descriptors, rules and alerts equal compute_properties one molecule at a time; learned values equal
    predict_learned on each molecule alone (to the reported rounding)."""
    from specialists.molecules.learned import predict_learned
    from specialists.molecules.properties import compute_properties

    for row in in_process.rows[:60]:
        ref = compute_properties(row["input"])
        assert row["smiles"] == ref.smiles
        for key in ("mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "heavy_atoms", "qed", "sa_score"):
            assert row[key] == getattr(ref, key), key
        assert row["lipinski_pass"] == ref.lipinski.passed and row["veber_pass"] == ref.veber.passed
        assert row["lipinski_violations"] == ref.lipinski.violations
        assert sorted(row["pains_alerts"] + row["brenk_alerts"]) == sorted(a.name for a in ref.alerts)
        (alone,) = predict_learned([row["input"]])
        for key in LEARNED_COLUMNS:
            want = getattr(alone, key)
            assert row[key] == want if isinstance(want, bool) else abs(row[key] - want) <= 0.0101, key


@pytest.mark.slow  # worker processes each load the models (about 20 s of CPU): the full lane only
def test_worker_processes_give_identical_output(screen_csv, in_process, tmp_path) -> None:
    fast = screen_records(read_molecules(screen_csv[0]), learned=True, map_chunks=local_map(2), chunk_size=64)
    a = in_process.write_csv(tmp_path / "a.csv").read_bytes()
    b = fast.write_csv(tmp_path / "b.csv").read_bytes()
    assert a == b
    assert fast.invalid == in_process.invalid


def test_outputs_carry_every_column(in_process, tmp_path) -> None:
    out = in_process.write_csv(tmp_path / "o.csv")
    with out.open() as f:
        header = next(csv.reader(f))
    for col in ["line", "name", "smiles", *DESCRIPTOR_COLUMNS, *LEARNED_COLUMNS, "id", "activity"]:
        assert col in header, col
    sdf = in_process.write_sdf(tmp_path / "o.sdf")
    again = screen_file(sdf, learned=False)
    assert len(again.rows) == 190 and not again.invalid
    assert [r["smiles"] for r in again.rows] == [r["smiles"] for r in in_process.rows]
    assert {"activity", "in:qed", "in:logs"} <= set(again.columns)  # the input's own columns come back, renamed


def test_smiles_column_found_by_content_without_a_header(tmp_path) -> None:
    p = tmp_path / "plain.smi"
    p.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(moses_test(5))))
    mf = read_molecules(p)
    assert mf.found_by == "content" and len(mf.records) == 5 and mf.records[0].line == 1
    assert mf.records[0].name == "m0"
    q = tmp_path / "named.csv"
    q.write_text("compound;structure_text\n" + "".join(f"c{i};{s}\n" for i, s in enumerate(moses_test(5))))
    mf = read_molecules(q)
    assert mf.smiles_column == "structure_text" and mf.found_by == "content" and mf.records[0].name == "c0"
    assert len(mf.records) == 5


def _sdf(blocks: list[str]) -> str:
    return "".join(b + "$$$$\n" for b in blocks)


def test_broken_sdf_records_are_reported_by_line(tmp_path) -> None:
    from rdkit import Chem

    good = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO")) + ">  <id>\nA1\n\n"
    truncated = "broken\n  RDKit\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
    lines = Chem.MolToMolBlock(Chem.MolFromSmiles("CC(C)(C)C")).splitlines(keepends=True)
    lines[5] = lines[5].replace(" C ", " O ")  # atom 2 (the central carbon) becomes an oxygen with four bonds
    bad_valence = "".join(lines)
    p = tmp_path / "lib.sdf"
    p.write_text(_sdf([good, truncated, bad_valence, good]))
    r = screen_file(p, learned=False)
    assert len(r.rows) == 2 and r.rows[0]["id"] == "A1"
    assert [x["line"] for x in r.invalid][:1] == [good.count("\n") + 2]
    assert "M  END" in r.invalid[0]["reason"]
    assert len(r.invalid) == 2 and r.invalid[1]["reason"]


@pytest.mark.parametrize("content,name,err,words", [
    ("", "empty.csv", UnreadableFile, "empty"),
    ("\n\n  \n", "blank.csv", UnreadableFile, "blank"),
    ("name,weight\naspirin,180\nibuprofen,206\n", "nosmiles.csv", InvalidInput, "no SMILES column"),
    ("smiles\nCCO\n", "table.xlsx", UnsupportedFile, "not .xlsx"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image.csv", UnsupportedFile, "binary"),
    (b"smiles\n\xff\xfeC\n", "latin.csv", UnreadableFile, "UTF-8"),
    ("smiles\nnot_a_molecule(\n((\n", "allbad.csv", InvalidInput, "No row"),
])
def test_bad_files_get_a_clear_message(tmp_path, content, name, err, words) -> None:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(err) as e:
        screen_file(p, learned=False)
    assert words in e.value.user_message()
    assert p.name in e.value.user_message() or words == "No row"


def test_missing_file_and_limits(tmp_path, monkeypatch) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        screen_file(tmp_path / "nope.csv", learned=False)
    p = tmp_path / "many.csv"
    p.write_text("smiles\n" + "CCO\n" * 30)
    monkeypatch.setattr(screen_io, "MAX_MOLECULES", 20)
    with pytest.raises(InvalidInput, match="more than 20 molecules"):
        screen_file(p, learned=False)
    monkeypatch.setattr(screen_io, "MAX_FILE_BYTES", 64)
    with pytest.raises(InvalidInput, match="up to 0 MB|Galen screens files up to"):
        screen_file(p, learned=False)


def test_cli_writes_csv_sdf_and_invalid_list(screen_csv, tmp_path, capsys) -> None:
    from ui.cli import main

    out = tmp_path / "res"
    assert main(["screen", str(screen_csv[0]), "--out", str(out), "--no-learned", "--quiet", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "190 molecule(s) screened, 10 row(s) skipped" in err
    assert f"line {screen_csv[1][0]}:" in err
    assert (tmp_path / "res.csv").is_file() and (tmp_path / "res.sdf").is_file()
    with (tmp_path / "res.invalid.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 10
    assert main(["screen", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
