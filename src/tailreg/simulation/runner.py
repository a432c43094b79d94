"""Running a study: plan the cells against the store, run the tasks, collect, write.

:func:`run_study` plans every cell (:class:`CellPlan`: which seed blocks the store already
holds, see :mod:`tailreg.simulation.store` for the top-up rule), sends the remaining blocks
as tasks to a backend (:mod:`tailreg.simulation.engine` fits them), and the parent process
collects the blocks of each cell and writes the cell's file when its last block arrives. A
cell with more than ``study.max_errors`` failed fits (reused blocks included) stops the run
with a message naming a seed key to replay. ``meta.json`` is written at the start and again
at the end (also when the run fails), with every cell's status, the theory failures and the
warning counts.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import store
from .backends import Backend, get_backend
from .engine import _run_task, columns_to_frame
from .metrics import NOTE_COLUMNS, cell_notes, summarize
from .spec import Cell, Study

__all__ = [
    "MAX_BLOCK_VALUES",
    "MAX_DRAWS",
    "CellPlan",
    "SimulationError",
    "StudyRun",
    "check_size",
    "plan_cells",
    "run_study",
]


class SimulationError(RuntimeError):
    """A cell failed beyond its ``max_errors`` cap (the message names a seed key to replay)."""


@dataclass(frozen=True)
class CellPlan:
    """What a run does with one cell.

    Attributes
    ----------
    index : int
        Position in ``study.cells()``.
    cell : Cell
    todo : sequence of int
        Seed blocks to compute (a ``range``: plans stay small however many blocks).
    source : Path or None
        Stored file whose blocks ``reuse`` are taken.
    reuse : sequence of int
    prior_errors : int
        Failed (replication, estimator) pairs in the reused blocks.
    stored : bool
        The store holds the cell for exactly this replication count: nothing to do.
    """

    index: int
    cell: Cell
    todo: Sequence[int]
    source: Path | None = None
    reuse: Sequence[int] = ()
    prior_errors: int = 0
    stored: bool = False

    @property
    def status(self) -> str:
        """``"reused"`` (nothing to compute), ``"extended"`` or ``"computed"``."""
        if not self.todo:
            return "reused"
        return "extended" if self.reuse else "computed"


def _failed_pairs(replication: Any, estimator: Any, error: Any) -> int:
    """Failed (replication, estimator) pairs, not parameter rows."""
    bad = error != ""
    return len(set(zip(replication[bad], estimator[bad], strict=True)))


def _verified_cells(out: Path, study: Study, cell: Cell, unchecked: list[Path]) -> dict[int, Path]:
    """The stored files of a cell that pass :func:`store.verify_cell`, by replication count.

    A file that fails is moved aside (``<file>.corrupt``) with a warning naming it; files
    without a checksum that pass are appended to ``unchecked``.
    """
    labels = [e.display for e in study.estimators]
    good = {}
    for r, path in store.stored_cells(out, study, cell).items():
        verdict = store.verify_cell(
            path, replications=r, estimators=labels, columns=store.CELL_COLUMNS
        )
        if verdict.ok:
            good[r] = path
            if not verdict.checksummed:
                unchecked.append(path)
            continue
        aside = store.set_aside(path)
        warnings.warn(
            f"stored cell {path} failed verification ({verdict.reason}): moved to "
            f"{aside.name}; its cell is recomputed",
            store.StoreWarning,
            stacklevel=3,
        )
    return good


def plan_cells(study: Study, out: Path | None, force: bool = False) -> list[CellPlan]:
    """A :class:`CellPlan` per cell: reuse what the store holds (unless ``force``).

    Every stored file is verified first (:func:`tailreg.simulation.store.verify_cell`); one
    that fails is set aside and its cell recomputed, with a warning naming the file.
    """
    everything = range(study.n_blocks)
    plans = []
    unchecked: list[Path] = []
    for i, cell in enumerate(study.cells()):
        stored = {} if out is None or force else _verified_cells(out, study, cell, unchecked)
        if study.replications in stored:
            plans.append(CellPlan(i, cell, (), stored[study.replications], everything, stored=True))
            continue
        options = [(len(store.reusable_blocks(study, r)), r) for r in stored]
        best = max(options, default=(0, 0))
        if best[0] == 0:
            plans.append(CellPlan(i, cell, everything))
            continue
        reuse = store.reusable_blocks(study, best[1])
        cols = ["replication", "estimator", "error"]
        old = store.read_blocks(stored[best[1]], reuse, study.seed_block, columns=cols)
        errs = sum(_failed_pairs(*(f[c].to_numpy() for c in cols)) for f in old.values())
        todo = range(len(reuse), study.n_blocks)  # reuse is a prefix of the blocks
        plans.append(CellPlan(i, cell, todo, stored[best[1]], reuse, errs))
    if unchecked:
        warnings.warn(
            f"{len(unchecked)} stored cell file(s) have no checksum (written by an older "
            f"tailreg), e.g. {unchecked[0]}: they were read in full and have the expected rows "
            "and columns, so they are reused; --force rewrites them with checksums",
            store.StoreWarning,
            stacklevel=2,
        )
    return plans


@dataclass
class StudyRun:
    """What :func:`run_study` returns.

    Attributes
    ----------
    study : Study
    out : Path or None
        Output directory (None: results kept in memory only).
    cells_run, cells_skipped : int
        Cells written now (computed or extended), and cells found finished in the store.
    blocks_reused : int
        Seed blocks taken from the store, in cells found finished or extended.
    status : dict
        Cell -> ``"computed"``, ``"extended"``, ``"reused"`` (or ``"pending"`` if the run
        stopped before it).
    wall_time : float
        Seconds.
    """

    study: Study
    out: Path | None
    cells_run: int = 0
    cells_skipped: int = 0
    blocks_reused: int = 0
    status: dict[Cell, str] = field(default_factory=dict)
    wall_time: float = 0.0
    _frames: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False)
    _table: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def replications(self) -> pd.DataFrame:
        """The replication-level long table of every cell, in grid order."""
        if self._table is None:
            if self.out is not None:
                self._table = store.read_results(self.out, self.study)
            else:
                self._table = pd.concat(
                    [self._frames[i] for i in sorted(self._frames)], ignore_index=True
                )
        return self._table

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """Summary metrics with Monte Carlo standard errors (see :func:`summarize`)."""
        return summarize(self.replications, **kwargs)


class _Collector:
    """Files the blocks of each cell as they arrive; writes a cell when it is complete."""

    def __init__(self, study: Study, plans: list[CellPlan], run: StudyRun) -> None:
        self.study, self.run = study, run
        # cells to write: blocks to compute, or every block from another replication count
        self.plans = {p.index: p for p in plans if not p.stored}
        self.blocks: dict[int, dict[int, dict]] = {i: {} for i in self.plans}
        self.errors = {i: p.prior_errors for i, p in self.plans.items()}
        self.notes: dict[int, pd.DataFrame] = {}  # cell -> cell_notes of its frame

    def assemble_reused(self) -> None:
        """Write the cells whose seed blocks all come from a file of another count."""
        for plan in [p for p in self.plans.values() if not p.todo]:
            if plan.prior_errors > self.study.max_errors:
                raise SimulationError(self._failure(plan))
            self._finish(plan)

    def add(self, index: int, parts: list[tuple[int, int, dict]]) -> int:
        """File a task's blocks; return the replications they hold."""
        plan, got = self.plans[index], 0
        for b, n_reps, cols in parts:
            self.blocks[index][b] = cols
            got += n_reps
            self.errors[index] += _failed_pairs(
                cols["replication"], cols["estimator"], cols["error"]
            )
        if self.errors[index] > self.study.max_errors:
            raise SimulationError(self._failure(plan))
        if len(self.blocks[index]) == len(plan.todo):
            self._finish(plan)
        return got

    def _reused(self, plan: CellPlan) -> dict[int, pd.DataFrame]:
        if not plan.reuse or plan.source is None:
            return {}
        return store.read_blocks(plan.source, plan.reuse, self.study.seed_block)

    def _frame(self, plan: CellPlan) -> pd.DataFrame:
        # one DataFrame for all computed blocks (building one per block costs more than the
        # small blocks' fits); the reused blocks are a prefix of the cell's blocks
        done = self.blocks.pop(plan.index)
        frames = list(self._reused(plan).values())
        if done:
            frames.append(columns_to_frame([done[b] for b in sorted(done)]))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _finish(self, plan: CellPlan) -> None:
        frame = self._frame(plan)
        out = self.run.out
        if out is not None:
            path = store.cell_path(out, self.study, plan.cell)
            store.write_cell(path, frame)
            for r, old in store.stored_cells(out, self.study, plan.cell).items():
                if r < self.study.replications:  # its full blocks live on in the new file
                    store.remove_cell(old)
        else:
            self.run._frames[plan.index] = frame
        self.notes[plan.index] = _notes(frame)
        self.run.cells_run += bool(plan.todo)
        self.run.status[plan.cell] = plan.status

    def _failure(self, plan: CellPlan) -> str:
        frames = [columns_to_frame([c]) for _, c in sorted(self.blocks[plan.index].items())]
        frames += list(self._reused(plan).values())
        frame = pd.concat(frames, ignore_index=True)
        bad = frame.loc[frame["error"] != ""].iloc[0]
        return (
            f"cell {plan.cell.key!r}: {self.errors[plan.index]} failed fits exceed "
            f"max_errors={self.study.max_errors}. First failure: estimator "
            f"{bad['estimator']!r}, replication {bad['replication']}, seed key "
            f"{bad['seed_key']!r}: {bad['error']}. Replay its data with "
            f"tailreg.simulation.replay(study, {bad['seed_key']!r})."
        )


def _notes(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`cell_notes` of a cell's frame, from the first row of each (estimator,
    replication) run (the notes are repeated on every parameter row; the same result on a
    fraction of the rows)."""
    rep = frame["replication"].to_numpy()
    est = frame["estimator"].to_numpy()
    first = np.ones(len(frame), bool)
    first[1:] = (rep[1:] != rep[:-1]) | (est[1:] != est[:-1])
    return cell_notes(frame.loc[first, list(NOTE_COLUMNS)])


def _as_study(study: Study | str | Path | Mapping[str, Any]) -> Study:
    if isinstance(study, Study):
        return study
    if isinstance(study, str | Path):
        return Study.from_toml(study)
    if isinstance(study, Mapping):
        return Study.from_dict(study)
    raise TypeError(f"study must be a Study, a TOML path or a dict, got {type(study).__name__}")


def _payloads(study: Study, plans: list[CellPlan], per_task: int) -> Iterator[tuple]:
    """Tasks of up to ``per_task`` consecutive seed blocks to compute, in grid order.

    A generator: the backends pull payloads as workers free up, so none is built ahead.
    """
    for p in plans:
        for k in range(0, len(p.todo), per_task):
            yield (study, p.index, p.cell, p.todo[k : k + per_task])


#: most error draws (replications x n, summed over the cells) a run accepts without
#: ``allow_huge`` — 8 GB of errors alone, hours of fitting on a workstation
MAX_DRAWS = 10**9
#: most numbers in one seed block's data (seed_block x n x (p + 2): X, y, the design)
#: without ``allow_huge`` — 1.6 GB of float64 in one task
MAX_BLOCK_VALUES = 2 * 10**8


def check_size(study: Study, allow_huge: bool = False) -> None:
    """Refuse an absurdly large study up front (see :data:`MAX_DRAWS`,
    :data:`MAX_BLOCK_VALUES`) unless ``allow_huge``."""
    if allow_huge:
        return
    cells = study.cells()
    draws = sum(study.replications * c.n for c in cells)
    hint = "; pass allow_huge=True (tailreg run --allow-huge) if you mean it"
    if draws > MAX_DRAWS:
        raise ValueError(
            f"study {study.name!r} asks for {draws:.3g} error draws (replications "
            f"{study.replications} x n over {len(cells)} cells), beyond the cap of "
            f"{MAX_DRAWS:.0e}: lower replications or sample_sizes{hint}"
        )
    worst = max(cells, key=lambda c: c.n * (c.design.p + 2))
    values = min(study.seed_block, study.replications) * worst.n * (worst.design.p + 2)
    if values > MAX_BLOCK_VALUES:
        raise ValueError(
            f"study {study.name!r}: one seed block of cell {worst.key!r} holds {values:.3g} "
            f"numbers (seed_block {study.seed_block} x n {worst.n} x (p + 2)), beyond the cap "
            f"of {MAX_BLOCK_VALUES:.0e} ({8 * MAX_BLOCK_VALUES / 1e9:.1f} GB): lower "
            f"seed_block{hint}"
        )


def _replications_in(study: Study, blocks: Sequence[int]) -> int:
    """Replications held by some seed blocks (a range of blocks without a loop)."""
    if isinstance(blocks, range) and blocks.step == 1:  # replications start*S .. stop*S - 1
        R, S = study.replications, study.seed_block
        return max(0, min(blocks.stop * S, R) - min(blocks.start * S, R))
    return sum(study.block_size(b) for b in blocks)


def _notes_of(out: Path | None, study: Study, plans: list[CellPlan], col: _Collector) -> dict:
    """Theory failures and warnings of every finished cell, for ``meta.json``."""
    notes = []
    for p in plans:
        if p.index in col.notes:
            notes.append(col.notes[p.index])
        elif p.stored and out is not None:
            path = store.cell_path(out, study, p.cell)
            notes.append(cell_notes(pd.read_parquet(path, columns=list(NOTE_COLUMNS))))
    if not notes:
        return {"theory_failures": [], "no_theory": [], "warnings": []}
    table = pd.concat(notes, ignore_index=True)
    keys = ["design", "law", "n", "estimator"]
    failed = table.loc[table["theory"].str.contains("failed:", regex=False)]
    warned = table.loc[table["warnings"] > 0]
    return {
        "theory_failures": _records(failed[[*keys, "theory"]]),
        "no_theory": sorted(set(table.loc[table["theory"].str.startswith("none"), "estimator"])),
        "warnings": _records(warned[[*keys, "warnings", "first_warning"]]),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (numpy scalars to Python ones)."""
    return [
        {k: v.item() if hasattr(v, "item") else v for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def run_study(
    study: Study | str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    backend: str | Backend = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    block_size: int | None = None,
    allow_huge: bool = False,
) -> StudyRun:
    """Run a Monte Carlo study.

    Parameters
    ----------
    study : Study, path of a TOML study file, or dict
    out : directory, optional
        Store: one Parquet file per cell plus ``meta.json``. Finished cells found there are
        skipped (resume); a rerun with more replications computes only the new seed blocks
        (see :mod:`tailreg.simulation.store`). Without ``out`` the results stay in memory.
    backend : {"serial", "processes", "dask"} or a Backend
    workers : int, optional
        Worker processes (``processes``; ``dask`` LocalCluster). Default: the cores available.
    scheduler : str, optional
        Address of a running dask scheduler (``backend="dask"``).
    force : bool
        Recompute every cell even if its file exists.
    progress : bool
        Show a tqdm progress bar (replications and cells done, ETA) on stderr.
    block_size : int, optional
        Replications per task, a multiple of ``study.seed_block`` (default: 5 seed blocks).
        It changes only how work is split between workers, never the results.
    allow_huge : bool
        Accept a study beyond the size caps (:data:`MAX_DRAWS` error draws,
        :data:`MAX_BLOCK_VALUES` numbers per seed block); otherwise such a study is a
        ``ValueError`` before anything runs.

    Returns
    -------
    StudyRun
        With ``.replications`` (long DataFrame) and ``.summary()``.
    """
    study = _as_study(study)
    S = study.seed_block
    block_size = 5 * S if block_size is None else block_size
    if block_size < S or block_size % S:
        raise ValueError(
            f"block_size must be a positive multiple of the study's seed_block={S}, "
            f"got {block_size}"
        )
    check_size(study, allow_huge)
    be = get_backend(backend, workers, scheduler)
    t0 = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    outp = store.prepare_out(out) if out is not None else None
    plans = plan_cells(study, outp, force)
    run = StudyRun(study, outp)
    for p in plans:
        run.blocks_reused += len(p.reuse)
        if not p.todo:
            run.cells_skipped += 1
            run.status[p.cell] = "reused"
    meta = {"started": started, **be.describe()}
    if outp is not None:
        store.clean_partials(outp)
        store.write_meta(outp, study, run.status, finished=None, **meta)
    collector = _Collector(study, plans, run)
    failure: str | None = None
    try:
        collector.assemble_reused()
        _execute(study, plans, be, block_size // S, collector, progress)
    except SimulationError as exc:
        failure = str(exc)
        raise
    except KeyboardInterrupt:
        failure = "interrupted (finished cells are kept; rerun to resume)"
        raise
    except BaseException as exc:
        failure = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.wall_time = time.perf_counter() - t0
        if outp is not None:
            _final_meta(outp, run, plans, collector, failure, meta)
    return run


def _final_meta(
    out: Path, run: StudyRun, plans: list[CellPlan], col: _Collector, failure, meta: dict
) -> None:
    """``meta.json`` at the end of a run (also a failed one: ``error`` says why)."""
    store.write_meta(
        out,
        run.study,
        run.status,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_time=round(run.wall_time, 3),
        cells_run=run.cells_run,
        cells_skipped=run.cells_skipped,
        blocks_reused=run.blocks_reused,
        error=failure,
        **_notes_of(out, run.study, plans, col),
        **meta,
    )


def _execute(
    study: Study,
    plans: list[CellPlan],
    be: Backend,
    per_task: int,
    collector: _Collector,
    progress: bool,
) -> None:
    """Run the tasks on the backend under a progress bar; the collector files the results."""
    n_cells = len(plans)
    reused = sum(_replications_in(study, p.reuse) for p in plans)
    done = sum(1 for p in plans if not p.todo)
    with tqdm(
        total=n_cells * study.replications,
        initial=reused,
        unit="rep",
        desc=study.name,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        bar.set_postfix_str(f"cells {done}/{n_cells}")
        results = be.map_unordered(_run_task, _payloads(study, plans, per_task))
        with closing(results):  # a failure here stops the backend's workers at once
            for index, parts, _secs in results:
                bar.update(collector.add(index, parts))
                if index not in collector.blocks:
                    done += 1
                    bar.set_postfix_str(f"cells {done}/{n_cells}")
