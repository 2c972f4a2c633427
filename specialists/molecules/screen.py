"""Screening a file of molecules: descriptors, rules, alerts and learned logS/BBB for every row.

The work is cut into chunks of :data:`CHUNK` records, each computed by :func:`compute_chunk`:
RDKit parsing and :func:`~specialists.molecules.properties.compute_properties` per molecule (the
one owner of the property set: the screen computes exactly what ``predict_properties`` reports),
then :func:`~specialists.molecules.learned.predict_learned`'s values for the chunk's valid molecules
(featurised once each, reusing the parsed molecule and the unrounded descriptors computed for it,
and both ensembles run on one batch). Workers
import torch only for the learned columns, and the coordinating process never does (model versions
come from the checkpoints' headers). Chunks run in worker processes (:func:`local_map`, one per core by
default), or on a Ray cluster through any ``map_chunks`` callable with the same contract
(``evals.ray_runner``); the chunking is fixed by the input alone, so every way of running gives
the same output. A row that cannot be read or parsed is reported with its line and reason and
skipped; nothing is dropped silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galen.errors import GalenError, InvalidInput
from specialists.molecules.screen_io import MoleculeFile, Record, read_molecules, write_csv, write_sdf

VERSION = "screen-1"
CHUNK = 256  # records per task: large enough for batched GNN inference, small enough for a smooth progress bar
IN_PROCESS_BELOW = 2 * CHUNK  # fewer records than this run in-process (starting workers costs seconds)
DESCRIPTOR_COLUMNS = ["mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "heavy_atoms", "qed", "sa_score",
                      "lipinski_pass", "lipinski_violations", "veber_pass", "veber_violations", "pains_alerts",
                      "brenk_alerts", "n_alerts"]
LEARNED_COLUMNS = ["logs", "logs_std", "logs_nearest_similarity", "bbb_probability", "bbb_std",
                   "bbb_nearest_similarity", "in_domain"]

Chunk = list[tuple[int, str, str]]  # (record index, kind, text)
ChunkResult = list[tuple[int, dict[str, Any] | None, str | None]]  # (record index, values, error)
MapChunks = Callable[[Callable[[Chunk, bool], ChunkResult], list[Chunk], bool], Iterator[ChunkResult]]


@dataclass
class ScreenResult:
    """A screened file: one row per valid molecule (every column), and every row that was skipped."""

    path: str
    format: str
    columns: list[str]
    rows: list[dict[str, Any]]
    invalid: list[dict[str, Any]]  # {"line", "text", "reason"}
    n_records: int
    learned: bool
    seconds: float
    smiles_column: str | None = None
    found_by: str = ""
    molblocks: dict[int, str] = field(default_factory=dict, repr=False)  # SDF input: line -> molfile
    versions: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how many molecules were screened and skipped, and how fast."""
        rate = len(self.rows) / self.seconds if self.seconds else 0.0
        return (f"{len(self.rows):,} molecule(s) screened, {len(self.invalid):,} row(s) skipped as invalid, "
                f"in {self.seconds:.1f} s ({rate:.0f} molecules/s)")

    def write_csv(self, path: str | Path) -> Path:
        return write_csv(Path(path), self.columns, self.rows)

    def write_sdf(self, path: str | Path) -> Path:
        return write_sdf(Path(path), self.columns, self.rows, self.molblocks)

    def write_invalid(self, path: str | Path) -> Path:
        return write_csv(Path(path), ["line", "text", "reason"], self.invalid)


def _parse(kind: str, text: str) -> tuple[Any, str]:
    """An RDKit molecule from a SMILES or a molfile, with the checks of :func:`parse_smiles`, and the
    SMILES it was parsed from (a molfile's goes through its canonical SMILES)."""
    from rdkit import Chem

    from specialists.molecules.chem import parse_smiles, quiet_rdkit

    if kind == "smiles":
        return parse_smiles(text), text.strip()
    with quiet_rdkit():
        mol = Chem.MolFromMolBlock(text)
    if mol is None:
        with quiet_rdkit():
            raw = Chem.MolFromMolBlock(text, sanitize=False)
        why = "it is not a valid molfile"
        if raw is not None:
            problems = Chem.DetectChemistryProblems(raw)
            why = problems[0].Message().rstrip(".").lower() if problems else "RDKit cannot sanitise it"
        raise InvalidInput(f"The record cannot be read: {why}.")
    smiles = Chem.MolToSmiles(mol)
    return parse_smiles(smiles), smiles  # the same size and sanity checks as a SMILES


def descriptor_values(mol) -> tuple[dict[str, Any], dict[str, float]]:
    """The screen's descriptor, rule and alert columns for one molecule (``compute_properties``'s), and the
    unrounded descriptors they came from (which the learned models' inputs reuse)."""
    from specialists.molecules.properties import properties_and_raw

    p, raw = properties_and_raw(mol)
    return {
        "smiles": p.smiles, "mw": p.mw, "logp": p.logp, "tpsa": p.tpsa, "hbd": p.hbd, "hba": p.hba,
        "rotatable_bonds": p.rotatable_bonds, "heavy_atoms": p.heavy_atoms, "qed": p.qed, "sa_score": p.sa_score,
        "lipinski_pass": p.lipinski.passed, "lipinski_violations": list(p.lipinski.violations),
        "veber_pass": p.veber.passed, "veber_violations": list(p.veber.violations),
        "pains_alerts": [a.name for a in p.alerts if a.catalogue == "PAINS"],
        "brenk_alerts": [a.name for a in p.alerts if a.catalogue == "Brenk"],
        "n_alerts": len(p.alerts),
    }, raw


def compute_chunk(chunk: Chunk, learned: bool) -> ChunkResult:
    """Descriptors (and, with ``learned``, logS/BBB) for each record of a chunk; errors as reasons.

    A pure function of its input: the same chunk gives the same values in any process. The learned
    values are :func:`~specialists.molecules.learned.predict_learned`'s for the row's canonical SMILES;
    where that SMILES is the text the molecule was parsed from (canonical input), the parsed molecule
    is handed on (:func:`~specialists.molecules.learned.featurise`) instead of being parsed again.
    """
    from specialists.molecules.chem import quiet_rdkit

    out: ChunkResult = []
    mols: dict[int, tuple[Any, dict[str, float]]] = {}  # position in out -> (molecule, raw descriptors), where
    # the molecule's text is its canonical SMILES
    with quiet_rdkit():  # every problem is reported per row; RDKit's own log lines would only be noise
        for idx, kind, text in chunk:
            try:
                mol, parsed = _parse(kind, text)
                values, raw = descriptor_values(mol)
            except GalenError as e:
                out.append((idx, None, e.message))
                continue
            if learned and values["smiles"] == parsed:
                mols[len(out)] = (mol, raw)
            out.append((idx, values, None))
    if learned:
        _add_learned(out, mols)
    return out


def _add_learned(out: ChunkResult, mols: dict[int, tuple[Any, dict[str, float]]]) -> None:
    """Fill in the learned columns of the chunk's valid rows (one batched pass over both ensembles)."""
    from specialists.molecules.learned import featurise, predict_features

    valid = [(k, v) for k, (_, v, _) in enumerate(out) if v is not None]
    if not valid:
        return
    preds = predict_features([featurise(v["smiles"], *mols.get(k, (None, None))) for k, v in valid])
    for (_, v), p in zip(valid, preds, strict=True):
        v.update({k: getattr(p, k) for k in LEARNED_COLUMNS})


def chunks_of(records: list[Record], size: int = CHUNK) -> list[Chunk]:
    """The records cut into chunks of ``size`` (the last may be shorter)."""
    items = [(i, r.kind, r.text) for i, r in enumerate(records)]
    return [items[k:k + size] for k in range(0, len(items), size)]


def _init_worker() -> None:
    # one process per core: intra-op threads (torch, OpenBLAS, OpenMP) would only contend. Set before
    # any of them is imported, so that a descriptors-only worker never needs to import torch at all.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def in_process_map(fn: Callable[[Chunk, bool], ChunkResult], chunks: list[Chunk], learned: bool) -> Iterator[ChunkResult]:
    """Compute the chunks one after another in this process."""
    for c in chunks:
        yield fn(c, learned)


def local_map(workers: int | None = None) -> MapChunks:
    """A ``map_chunks`` running chunks in ``workers`` processes (default: one per core)."""
    n = workers or os.cpu_count() or 1

    def run(fn: Callable[[Chunk, bool], ChunkResult], chunks: list[Chunk], learned: bool) -> Iterator[ChunkResult]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn, not fork: the parent may hold torch/OpenMP threads that a forked child would inherit broken
        with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker) as pool:
            futures = [pool.submit(fn, c, learned) for c in chunks]
            for f in as_completed(futures):
                yield f.result()

    return run


def screen_records(mf: MoleculeFile, *, learned: bool = True, map_chunks: MapChunks | None = None,
                   workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                   chunk_size: int = CHUNK) -> ScreenResult:
    """Screen the records of a read file. See :func:`screen_file`."""
    start = time.perf_counter()
    chunks = chunks_of(mf.records, chunk_size)
    if map_chunks is None:
        map_chunks = in_process_map if len(mf.records) < IN_PROCESS_BELOW or workers == 1 else local_map(workers)
    results: dict[int, tuple[dict[str, Any] | None, str | None]] = {}
    total = len(mf.records)
    if progress:
        progress(0, total)
    for part in map_chunks(compute_chunk, chunks, learned):
        for idx, values, error in part:
            results[idx] = (values, error)
        if progress:
            progress(len(results), total)
    if len(results) != total:
        raise RuntimeError(f"the screen computed {len(results)} of {total} records")  # a bug, never an input problem
    rows, invalid = [], [{"line": line, "text": text, "reason": reason} for line, text, reason in mf.problems]
    for i, rec in enumerate(mf.records):
        values, error = results[i]
        if values is None:
            invalid.append({"line": rec.line, "text": _shown(rec), "reason": error or "it cannot be parsed"})
            continue
        rows.append({"line": rec.line, "name": rec.name, "input": rec.text if rec.kind == "smiles" else "",
                     **values, **{(f"in:{k}" if k in _OWN_COLUMNS else k): v for k, v in rec.fields.items()}})
    invalid.sort(key=lambda r: r["line"])
    inputs = [f"in:{c}" if c in _OWN_COLUMNS else c for c in mf.input_columns]
    columns = ["line", "name", "input", "smiles", *DESCRIPTOR_COLUMNS, *(LEARNED_COLUMNS if learned else []), *inputs]
    versions = {"screen": VERSION}
    if learned and rows:
        versions.update(_model_versions())
    molblocks = {r.line: r.text for r in mf.records if r.kind == "molblock"}
    return ScreenResult(mf.path, mf.format, columns, rows, invalid, total + len(mf.problems), learned,
                        round(time.perf_counter() - start, 3), mf.smiles_column, mf.found_by, molblocks, versions)


def _model_versions() -> dict[str, str]:
    """The learned models' versions, read from their checkpoints' headers: this process only coordinates,
    so it never imports torch or loads a model (seconds that no worker could use)."""
    from specialists.molecules.assets import MODEL_PATHS, ensemble_files

    return {name: ensemble_files(MODEL_PATHS[name]).version for name in ("logs", "bbb")}


_OWN_COLUMNS = frozenset(["line", "name", "input", "smiles", *DESCRIPTOR_COLUMNS, *LEARNED_COLUMNS])


def _shown(rec: Record) -> str:
    first = rec.text.splitlines()[0] if rec.text else ""
    return (rec.name or first)[:200] if rec.kind == "molblock" else rec.text[:200]


def screen_file(path: str | Path, *, learned: bool = True, map_chunks: MapChunks | None = None,
                workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> ScreenResult:
    """Screen every molecule of a CSV/TSV/SMI table or an SDF file.

    Args:
        path: the file (at most 100,000 molecules).
        learned: also predict logS and BBB permeation (with uncertainty and applicability domain).
        map_chunks: how chunks are run (default: worker processes, or in-process for small files;
            ``evals.ray_runner.ray_map(address)`` for a Ray cluster).
        workers: worker processes for the default runner (default: one per core).
        progress: called with (records done, total) as chunks finish.

    Raises:
        UnreadableFile, UnsupportedFile, InvalidInput: the file cannot be screened (see
            :func:`~specialists.molecules.screen_io.read_molecules`), or no row holds a valid molecule.
        ModelUnavailable: ``learned`` without the property models' weights.
    """
    mf = read_molecules(path)
    if learned:
        _model_versions()  # fail early and clearly when a model or a member's file is missing
    result = screen_records(mf, learned=learned, map_chunks=map_chunks, workers=workers, progress=progress)
    if not result.rows:
        first = result.invalid[0] if result.invalid else None
        raise InvalidInput(
            f"No row of {Path(path).name} holds a valid molecule"
            + (f" (line {first['line']}: {first['reason']})." if first else "."),
            hint="Check that the SMILES column (or the SDF records) hold structures.")
    return result


def iter_columns(result: ScreenResult, numeric_only: bool = True) -> Iterable[str]:
    """The columns of a result that hold numbers (for histograms and sorting)."""
    for c in result.columns:
        vals = [r.get(c) for r in result.rows[:50] if r.get(c) is not None]
        if vals and (not numeric_only or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)):
            yield c
