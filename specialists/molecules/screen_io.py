"""Reading molecule files for screening (CSV/TSV/SMI with a SMILES column, SDF) and writing results.

Reading checks the file before any work: it exists, is not empty, is not larger than
:data:`MAX_FILE_BYTES`, is text (UTF-8) of a supported kind, and holds at most
:data:`MAX_MOLECULES` molecules. The SMILES column of a table is found by its header name
(:data:`SMILES_HEADERS`) or, failing that, by its content: the column whose first values parse as
SMILES (RDKit). Every record keeps its line number in the file (1-based; for SDF the record's
first line), so that problems are reported by line. Parsing the molecules is left to the
screen (:mod:`specialists.molecules.screen`), which does it in worker processes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile

MAX_MOLECULES = 100_000
MAX_FILE_BYTES = 512 * 1024 * 1024  # 100,000 SDF records with coordinates and data fields fit well inside
TABLE_SUFFIXES = (".csv", ".tsv", ".smi", ".txt")
SDF_SUFFIXES = (".sdf", ".sd", ".mol")
SMILES_HEADERS = ("smiles", "canonical_smiles", "isomeric_smiles", "smi", "structure", "mol_smiles", "smiles_string")
NAME_HEADERS = ("id", "name", "title", "compound", "compound_id", "mol_id", "molecule", "identifier", "cid")
_SNIFF_ROWS = 100


@dataclass(frozen=True)
class Record:
    """One molecule as read: where it is, its name, and what is to be parsed."""

    line: int
    name: str
    kind: Literal["smiles", "molblock"]
    text: str
    fields: dict[str, str] = field(default_factory=dict)  # the file's other columns / SDF data fields


@dataclass
class MoleculeFile:
    """What :func:`read_molecules` found in a file."""

    path: str
    format: Literal["table", "sdf"]
    records: list[Record]
    input_columns: list[str]  # the file's own columns (tables) or data-field names (SDF), in order
    smiles_column: str | None = None
    found_by: str = ""  # how the SMILES column was chosen ("header" / "content"), tables only
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason) found while reading


def _check_file(path: Path) -> str:
    if not path.exists():
        raise UnreadableFile(f"{path.name}: no such file.", hint="Check the path.")
    if not path.is_file():
        raise UnreadableFile(f"{path.name} is not a file.", hint="Give a .csv, .tsv, .smi or .sdf file.")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES + SDF_SUFFIXES:
        raise UnsupportedFile(f"{path.name}: Galen screens CSV/TSV/SMI tables and SDF files, not {suffix or 'files without a suffix'}.",
                              hint="Save the molecules as a CSV with a SMILES column, or as an SDF.")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(f"{path.name} is empty.", hint="Give a file with one molecule per row (CSV) or record (SDF).")
    if size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path.name} is {size / 2**20:.0f} MB; Galen screens files up to {MAX_FILE_BYTES // 2**20} MB.",
                           hint=f"Split it into files of at most {MAX_MOLECULES:,} molecules.")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise UnsupportedFile(f"{path.name} is a binary file, not a text table or SDF.",
                              hint="Export the molecules as CSV (with a SMILES column) or SDF.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"{path.name} is not UTF-8 text (byte {e.start}).", hint="Save it as UTF-8.") from e
    if not text.strip():
        raise UnreadableFile(f"{path.name} holds only blank lines.", hint="Give a file with molecules in it.")
    return text


def _too_many(path: Path, n: int) -> InvalidInput:
    return InvalidInput(f"{path.name} holds more than {MAX_MOLECULES:,} molecules ({n:,} read so far).",
                        hint=f"Split it into files of at most {MAX_MOLECULES:,} molecules.")


def read_molecules(path: str | Path) -> MoleculeFile:
    """Read a CSV/TSV/SMI table or an SDF into records (not yet parsed as molecules).

    Raises:
        UnreadableFile: missing, empty, not UTF-8.
        UnsupportedFile: a kind Galen does not screen, or binary content.
        InvalidInput: over the size or molecule limit, or a table without a SMILES column.
    """
    p = Path(path).expanduser()
    text = _check_file(p)
    if p.suffix.lower() in SDF_SUFFIXES:
        return _read_sdf(p, text)
    return _read_table(p, text)


# --- tables -----------------------------------------------------------------------------------

def _dialect(p: Path, text: str) -> str:
    if p.suffix.lower() == ".tsv":
        return "\t"
    sample = "\n".join(text.splitlines()[:50])
    counts = {d: min((line.count(d) for line in sample.splitlines() if line.strip()), default=0) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] > 0:
        return best
    return " " if p.suffix.lower() in (".smi", ".txt") else ","


def _parses_as_smiles(value: str) -> bool:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.mentions import looks_like_smiles

    v = value.strip()
    if not v or len(v) > 5000 or not looks_like_smiles(v):
        return False
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(v)
    return mol is not None and mol.GetNumAtoms() > 0


def _smiles_column(header: Sequence[str], rows: list[list[str]]) -> tuple[int | None, str, bool]:
    """(column index, how found, whether the first row is data rather than a header)."""
    names = [h.strip().lower() for h in header]
    for want in SMILES_HEADERS:
        if want in names:
            return names.index(want), "header", False
    width = max([len(header)] + [len(r) for r in rows[:_SNIFF_ROWS]])
    best, best_rate = None, 0.0
    sample = rows[:_SNIFF_ROWS]
    for j in range(width):
        values = [r[j] for r in sample if j < len(r) and r[j].strip()]
        if not values:
            continue
        rate = sum(_parses_as_smiles(v) for v in values) / len(values)
        if rate > best_rate:
            best, best_rate = j, rate
    if best is None or best_rate < 0.5:
        return None, "", False
    first_is_data = best < len(header) and _parses_as_smiles(header[best])
    return best, "content", first_is_data


def _read_table(p: Path, text: str) -> MoleculeFile:
    delim = _dialect(p, text)
    if delim == " ":
        numbered = [(i + 1, line.split()) for i, line in enumerate(text.splitlines())]
    else:  # a quoted cell may span lines: line numbers come from the reader
        numbered = _numbered_rows(text, delim)
    numbered = [(n, r) for n, r in numbered if any(c.strip() for c in r)]
    if not numbered:
        raise UnreadableFile(f"{p.name} holds no rows.", hint="Give one molecule per row.")
    header = numbered[0][1]
    col, how, first_is_data = _smiles_column(header, [r for _, r in numbered[1:]] or [header])
    if col is None:
        raise InvalidInput(
            f"{p.name} has no SMILES column: no header is named {' / '.join(SMILES_HEADERS[:3])} and no column's "
            f"values read as SMILES (columns: {', '.join(h.strip() or '?' for h in header[:12])}).",
            hint="Name the column holding the structures 'smiles', or save the molecules as an SDF.")
    if first_is_data or (len(numbered) == 1 and how == "content"):
        columns = [f"column_{j + 1}" for j in range(len(header))]
        data = numbered
    else:
        columns = [h.strip() or f"column_{j + 1}" for j, h in enumerate(header)]
        data = numbered[1:]
    if len(data) > MAX_MOLECULES:
        raise _too_many(p, len(data))
    names_lower = [c.lower() for c in columns]
    name_col = next((names_lower.index(n) for n in NAME_HEADERS if n in names_lower and names_lower.index(n) != col), None)
    if name_col is None and delim == " " and len(columns) > 1:
        name_col = 1 if col == 0 else 0  # a .smi file: SMILES then a name
    records: list[Record] = []
    problems: list[tuple[int, str, str]] = []
    for line_no, row in data:
        if col >= len(row):
            problems.append((line_no, delim.join(row)[:200], f"the row has {len(row)} field(s); the SMILES column is number {col + 1}"))
            continue
        smi = row[col].strip()
        if not smi:
            problems.append((line_no, delim.join(row)[:200], "the SMILES cell is empty"))
            continue
        fields = {columns[j]: row[j] for j in range(min(len(columns), len(row))) if j != col}
        name = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
        records.append(Record(line_no, name, "smiles", smi, fields))
    return MoleculeFile(str(p), "table", records, [c for j, c in enumerate(columns) if j != col],
                        smiles_column=columns[col] if col < len(columns) else f"column_{col + 1}", found_by=how,
                        problems=problems)


def _numbered_rows(text: str, delim: str) -> list[tuple[int, list[str]]]:
    """csv rows with the file line each starts on."""
    buf = io.StringIO(text)
    reader = csv.reader(buf, delimiter=delim)
    out = []
    line = 1
    for row in reader:
        out.append((line, row))
        line = reader.line_num + 1
    return out


# --- SDF --------------------------------------------------------------------------------------

def _read_sdf(p: Path, text: str) -> MoleculeFile:
    lines = text.splitlines()
    records: list[Record] = []
    problems: list[tuple[int, str, str]] = []
    columns: dict[str, None] = {}
    start = 0
    for i, line in enumerate(lines + ["$$$$"] if lines and lines[-1].strip() != "$$$$" else lines):
        if line.strip() != "$$$$":
            continue
        block = lines[start:i]
        first = start + 1
        start = i + 1
        if not any(x.strip() for x in block):
            continue
        if len(records) + len(problems) >= MAX_MOLECULES:
            raise _too_many(p, len(records) + len(problems) + 1)
        end = next((k for k, x in enumerate(block) if x.startswith("M  END")), None)
        if end is None:
            problems.append((first, (block[0] if block else "")[:200], "the record has no 'M  END' line: it is not a complete molfile"))
            continue
        fields = _data_fields(block[end + 1:])
        for k in fields:
            columns.setdefault(k, None)
        records.append(Record(first, block[0].strip(), "molblock", "\n".join(block[:end + 1]), fields))
    return MoleculeFile(str(p), "sdf", records, list(columns), problems=problems)


def _data_fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    key, value = None, []
    for line in lines + [""]:
        if line.startswith(">"):
            if key is not None:
                out[key] = "\n".join(value).strip()
            lt, gt = line.find("<"), line.rfind(">")
            key, value = (line[lt + 1:gt] if 0 <= lt < gt else line[1:].strip()), []
        elif key is not None:
            if line.strip() == "":
                out[key] = "\n".join(value).strip()
                key, value = None, []
            else:
                value.append(line)
    return out


# --- writing ----------------------------------------------------------------------------------

def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    """Every row with every column (lists joined with '; ', booleans as true/false, missing as empty)."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([cell_text(r.get(c)) for c in columns])
    return Path(path)


def cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    return str(v)


def write_sdf(path: Path, columns: list[str], rows: list[dict[str, Any]], molblocks: dict[int, str] | None = None) -> Path:
    """One record per row: the input's own molfile where there was one (coordinates kept), else a 2-D
    depiction of the canonical SMILES; every column as a data field."""
    from rdkit import Chem
    from rdkit.Chem import rdDepictor

    from specialists.molecules.chem import quiet_rdkit

    with Path(path).open("w", encoding="utf-8") as f, quiet_rdkit():
        for r in rows:
            block = (molblocks or {}).get(r["line"])
            mol = Chem.MolFromMolBlock(block) if block else None
            if mol is None:
                mol = Chem.MolFromSmiles(r["smiles"])
                rdDepictor.Compute2DCoords(mol)
            mol.SetProp("_Name", str(r.get("name") or r["smiles"]))
            f.write(Chem.MolToMolBlock(mol))
            for c in columns:
                f.write(f">  <{c}>\n{cell_text(r.get(c))}\n\n")
            f.write("$$$$\n")
    return Path(path)
