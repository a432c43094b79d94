"""The result store: one Parquet file per cell and replication count, plus ``meta.json``.

Layout of an output directory::

    DIR/meta.json              the spec, seed, code commit, date, versions, per-cell status,
                               theory failures and warning counts of the run that wrote it
    DIR/cells/<design>__<law>__n<n>__<fingerprint>__r<R>.parquet

A cell file is written to a temporary name in the same directory and moved into place with
``os.replace`` (atomic on POSIX), so a file with the final name is always complete: a run
killed mid-write leaves at most a ``.*.tmp`` file, which the next run deletes.

**Integrity.** Beside every cell file, ``<file>.sha256`` holds the sha256 of its bytes in
``sha256sum`` format (``sha256sum -c`` checks it by hand), written at the same time: the
Parquet file goes to a temporary name and is synced, the checksum is computed from it and
moved into place, and only then is the Parquet file renamed — so a finished cell always has
its checksum, and a run killed between the two renames leaves a checksum that does not
match (the cell is recomputed). Before a run reuses a stored file it is verified
(:func:`verify_cell`): the checksum matches, the file opens as Parquet, it has the columns
every cell has, and every estimator of the study has each replication ``0 .. R - 1``
equally often. A file that fails is moved aside to ``<file>.corrupt`` and the cell is
recomputed, with a :class:`StoreWarning` naming the file. Files written before checksums
existed (no ``.sha256``) are read in full instead (every page decoded) and shape-checked;
they are reused when they pass, with one warning per run saying how many there were.

The fingerprint (:meth:`Study.fingerprint`) hashes everything that determines a cell's rows
*except* the replication count: cell key, labels, seed, seed block, estimators. So a changed
study never reuses a stale file, adding cells leaves the existing files valid, and a rerun
with another ``replications`` finds the earlier files of the same cell. **Top-up rule**: seed
block ``b`` of a stored file with ``R'`` replications is reused when it holds exactly as many
replications as block ``b`` of the new run, ``min(S, R - bS)`` — every full block, and a
partial last block only when it is equally partial; every other block is computed. Blocks
are fitted on their own (data drawn per block, one ``fit_many`` per block), so the merged
table equals a fresh run's bit for bit. A file with fewer replications than the new one is
deleted once the new one is written (its full blocks live on in it); one with more is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import scipy

from .. import __version__
from .spec import Cell, Study

__all__ = [
    "CELLS",
    "CELL_COLUMNS",
    "META",
    "StoreWarning",
    "Verdict",
    "cell_path",
    "checksum_path",
    "clean_partials",
    "file_sha256",
    "prepare_out",
    "read_blocks",
    "read_meta",
    "read_results",
    "remove_cell",
    "reusable_blocks",
    "set_aside",
    "stored_cells",
    "verify_cell",
    "write_cell",
    "write_meta",
    "write_run_meta",
]

CELLS = "cells"
META = "meta.json"
#: suffix of the checksum file beside a cell file
CHECKSUM = ".sha256"
#: suffix a failed cell file is renamed to
CORRUPT = ".corrupt"
#: columns every cell file has (the ``se_<kind>`` columns depend on the estimators)
CELL_COLUMNS = (
    "design",
    "law",
    "n",
    "replication",
    "estimator",
    "parameter",
    "estimate",
    "scale",
    "converged",
    "n_iter",
    "error",
    "seed_key",
    "true_value",
    "pseudo_true",
    "avar",
    "crlb",
    "theory",
    "n_warnings",
    "warning",
)


class StoreWarning(RuntimeWarning):
    """A stored file failed its verification (and is recomputed), or has no checksum."""


def _slug(s: str, width: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", s).strip("_")[:width] or "x"


def _stem(study: Study, cell: Cell) -> str:
    return (
        f"{_slug(cell.design.name)}__{_slug(cell.errors.name)}__n{cell.n}__"
        f"{study.fingerprint(cell)[:16]}"
    )


def cell_path(out: str | Path, study: Study, cell: Cell) -> Path:
    """The file that holds (or will hold) a cell's rows for ``study.replications``."""
    return Path(out) / CELLS / f"{_stem(study, cell)}__r{study.replications}.parquet"


def stored_cells(out: str | Path, study: Study, cell: Cell) -> dict[int, Path]:
    """Finished files of the cell (same fingerprint), by replication count."""
    d = Path(out) / CELLS
    if not d.is_dir():
        return {}
    found = {}
    for path in d.glob(f"{_stem(study, cell)}__r*.parquet"):
        count = path.stem.rpartition("__r")[2]
        if count.isdigit():
            found[int(count)] = path
    return found


def _block_count(replications: int, seed_block: int, block: int) -> int:
    return max(0, min(seed_block, replications - block * seed_block))


def reusable_blocks(study: Study, stored_replications: int) -> range:
    """Seed blocks of a stored run with ``stored_replications`` that ``study`` can reuse.

    Block ``b`` is reusable when it holds as many replications in both runs: every block
    when the counts are equal, else the blocks that are full in both (a prefix).
    """
    if stored_replications == study.replications:
        return range(study.n_blocks)
    S = study.seed_block
    return range(min(stored_replications, study.replications) // S)


def read_blocks(
    path: Path, blocks: Iterable[int], seed_block: int, columns: list[str] | None = None
) -> dict[int, pd.DataFrame]:
    """The rows of some seed blocks of a cell file (block = replication // seed_block)."""
    frame = pd.read_parquet(path, columns=columns)
    block = frame["replication"].to_numpy() // seed_block
    wanted = set(blocks)
    return {
        int(b): part.reset_index(drop=True)
        for b, part in frame.groupby(block, sort=True)
        if int(b) in wanted
    }


def prepare_out(out: str | Path) -> Path:
    """Create the output directory (and ``cells/``) and check that it is writable.

    Raises a ``ValueError`` naming the problem — a file in the way, a directory that cannot
    be created or written — before any work starts.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output directory {out} is a file, not a directory")
    try:
        (out / CELLS).mkdir(parents=True, exist_ok=True)
        probe = out / CELLS / f".write-probe.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(
            f"cannot write to the output directory {out}: {exc.strerror or exc}"
        ) from None
    return out


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def checksum_path(path: Path) -> Path:
    """The checksum file beside a stored file: ``<file>.sha256``."""
    return path.with_name(path.name + CHECKSUM)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_cell(path: Path, frame: pd.DataFrame) -> None:
    """Write a cell's rows atomically, with its checksum (see the module notes).

    The Parquet file is written to a temporary name in the same directory and synced; its
    sha256 goes to ``<file>.sha256`` (also through a temporary file); then the Parquet file
    is renamed into place. A reader sees either no file, or a file with its checksum (a
    crash between the two renames leaves a stale checksum: the file fails verification and
    is recomputed, never silently reused).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    side = checksum_path(path)
    side_tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _write_synced(side_tmp, f"{file_sha256(tmp)}  {path.name}\n".encode())
        os.replace(side_tmp, side)
        os.replace(tmp, path)
    finally:
        for t in (tmp, side_tmp):
            if t.exists():
                t.unlink()
    _fsync_dir(path.parent)


@dataclass(frozen=True)
class Verdict:
    """Outcome of :func:`verify_cell`.

    Attributes
    ----------
    ok : bool
        The file can be reused.
    reason : str
        Why not ("" when ``ok``).
    checksummed : bool
        The file had a checksum (False: written before checksums, verified by reading).
    """

    ok: bool
    reason: str = ""
    checksummed: bool = True


def _recorded_sha(side: Path) -> str | None:
    try:
        text = side.read_text().split()
    except (OSError, UnicodeDecodeError):
        return None
    return text[0] if text and re.fullmatch(r"[0-9a-f]{64}", text[0]) else None


def _shape_problem(
    table: Any, replications: int | None, estimators: Sequence[str] | None
) -> str | None:
    """Why a cell table lacks the expected rows or columns, or None."""
    missing = [c for c in ("replication", "estimator") if c not in table.column_names]
    if missing:
        return f"columns {missing} missing"
    if table.num_rows == 0:
        return "no rows"
    frame = table.select(["replication", "estimator"]).to_pandas()
    rep = frame["replication"].to_numpy(dtype=np.int64)
    est = frame["estimator"].to_numpy(dtype=object)
    names = sorted(set(est.tolist()))
    if estimators is not None and names != sorted(estimators):
        return f"estimators {names}, expected {sorted(estimators)}"
    for name in names:
        r = rep[est == name]
        if replications is not None and (r.min() < 0 or r.max() >= replications):
            return f"estimator {name!r}: replications outside 0..{replications - 1}"
        counts = np.bincount(r - r.min() if replications is None else r)
        if replications is not None and len(counts) < replications:
            return f"estimator {name!r}: replications missing (expected {replications})"
        if counts.min() == 0 or counts.min() != counts.max():
            return f"estimator {name!r}: replications missing or repeated unevenly"
    return None


def verify_cell(
    path: Path,
    *,
    replications: int | None = None,
    estimators: Sequence[str] | None = None,
    columns: Sequence[str] = (),
) -> Verdict:
    """Check a stored file before it is reused (see the module notes).

    Parameters
    ----------
    path : the Parquet file
    replications : int, optional
        Replications it must hold: every estimator has each of ``0 .. replications - 1``
        equally often (one row per parameter).
    estimators : sequence of str, optional
        The estimator labels it must hold, exactly.
    columns : sequence of str
        Columns it must have.

    Returns
    -------
    Verdict
        With the checksum: the file's sha256 must match it, then its footer is read and the
        shape columns decoded. Without one: the whole file is decoded (so a damaged page
        fails) and shape-checked, and ``checksummed`` is False.
    """
    side = checksum_path(path)
    checksummed = side.is_file()
    if checksummed:
        recorded = _recorded_sha(side)
        if recorded is None:
            return Verdict(False, f"unreadable checksum file {side.name}")
        if file_sha256(path) != recorded:
            return Verdict(False, "sha256 does not match the checksum written with it")
    try:
        if checksummed:
            pf = pq.ParquetFile(path)
            names = pf.schema_arrow.names
            wanted = [c for c in ("replication", "estimator") if c in names]
            table = pf.read(columns=wanted) if wanted else None
        else:
            table = pq.read_table(path)
            names = table.column_names
    except Exception as exc:  # any pyarrow failure means an unreadable file
        return Verdict(False, f"not readable as Parquet ({type(exc).__name__}: {exc})", checksummed)
    missing = [c for c in columns if c not in names]
    if missing:
        return Verdict(False, f"columns {missing} missing", checksummed)
    if table is not None and (replications is not None or estimators is not None):
        problem = _shape_problem(table, replications, estimators)
        if problem:
            return Verdict(False, problem, checksummed)
    return Verdict(True, "", checksummed)


def set_aside(path: Path) -> Path:
    """Move a file that failed verification to ``<file>.corrupt`` (its checksum deleted)."""
    target = path.with_name(path.name + CORRUPT)
    os.replace(path, target)
    checksum_path(path).unlink(missing_ok=True)
    return target


def remove_cell(path: Path) -> None:
    """Delete a stored file and its checksum."""
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


def clean_partials(out: str | Path) -> list[Path]:
    """Delete temporary files a killed run left behind; return them."""
    d = Path(out) / CELLS
    if not d.is_dir():
        return []
    left = sorted(d.glob(".*.tmp"))
    for p in left:
        p.unlink(missing_ok=True)
    return left


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _git(*args: str) -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        out = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    return {
        "tailreg": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
    }


def write_run_meta(
    out: str | Path,
    *,
    name: str,
    seed: int | None,
    spec: Mapping[str, Any],
    cells: Mapping[str, str] | None = None,
    **info: Any,
) -> dict[str, Any]:
    """Write ``DIR/meta.json`` atomically, with the provenance of this run; return it.

    Parameters
    ----------
    out : output directory
    name, seed : the study's name and root seed
    spec : the study's specification (JSON-serialisable; non-JSON values become strings)
    cells : mapping of cell id (e.g. its file name) to its status in this run —
        ``"computed"``, ``"extended"`` (some seed blocks reused), ``"reused"`` (found
        finished) or ``"pending"``
    **info : anything else to record (wall time, backend, ...)

    Returns
    -------
    dict
        ``name``, ``seed``, ``spec``, ``cells``, ``date`` (UTC, ISO 8601), ``git_sha`` and
        ``git_dirty`` of the code (None outside a git checkout), ``versions`` (tailreg,
        python, numpy, scipy, pandas, pyarrow), then ``info``.
    """
    out = Path(out)
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    meta = {
        "name": name,
        "seed": seed,
        "spec": dict(spec),
        "cells": dict(cells or {}),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": None if dirty is None else bool(dirty),
        "versions": _versions(),
        **info,
    }
    _atomic_text(out / META, json.dumps(meta, indent=2, default=str))
    return meta


def write_meta(
    out: str | Path, study: Study, status: Mapping[Cell, str] | None = None, **info: Any
) -> dict[str, Any]:
    """``meta.json`` of a study run (:func:`write_run_meta`): cells by file name with their
    status, and the ``grid`` (design, law, n, file of every cell in grid order)."""
    status = status or {}
    grid = [
        {
            "design": c.design.name,
            "law": c.errors.name,
            "n": c.n,
            "file": cell_path(out, study, c).name,
        }
        for c in study.cells()
    ]
    cells = {
        str(g["file"]): status.get(c, "pending") for g, c in zip(grid, study.cells(), strict=True)
    }
    return write_run_meta(
        out, name=study.name, seed=study.seed, spec=study.to_dict(), cells=cells, grid=grid, **info
    )


def read_meta(out: str | Path) -> dict[str, Any]:
    """Read ``meta.json`` of an output directory."""
    path = Path(out) / META
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {out} the --out directory of a study run?")
    return json.loads(path.read_text())


def _files(out: str | Path, study: Study | None) -> list[tuple[str, Path]]:
    if study is not None:
        return [(c.key, cell_path(out, study, c)) for c in study.cells()]
    cells = read_meta(out).get("cells", {})
    return [(name, Path(out) / CELLS / name) for name in cells]


def read_results(
    out: str | Path, study: Study | None = None, *, missing: str = "raise"
) -> pd.DataFrame:
    """Concatenate the cell files of a study (in grid order).

    Parameters
    ----------
    out : output directory
    study : the study (default: the cell files ``meta.json`` lists, so the study's plug-ins
        need not be importable to read its results)
    missing : {"raise", "skip"}
        What to do when a cell has no file yet.
    """
    frames = []
    for what, path in _files(out, study):
        if path.is_file():
            frames.append(pd.read_parquet(path))
        elif missing == "raise":
            raise FileNotFoundError(
                f"cell {what} has no results ({path.name}); run the study first"
            )
    if not frames:
        raise FileNotFoundError(f"no finished cells under {out}")
    return pd.concat(frames, ignore_index=True)
