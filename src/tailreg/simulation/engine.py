"""The Monte Carlo engine: tasks of seed blocks, batched fits, the store, the progress bar.

A task is (cell, consecutive seed blocks). For each seed block the task draws the data once
(:func:`~tailreg.simulation.generate.draw_block`) and calls every estimator's ``fit_many``
once on the whole block, so all estimators see the same replications. A block whose batched
fit raises is refitted one replication at a time, and a replication that still fails becomes
rows with ``converged=False`` and the exception in ``error``. The parent process collects the
blocks of each cell and writes the cell's file when the last block arrives; a cell with more
than ``study.max_errors`` failed fits stops the run with a message naming a seed key to replay.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import store
from .backends import Backend, get_backend
from .generate import Block, draw_block
from .registry import default_kinds, make_estimator
from .seeds import estimator_random_state
from .spec import Cell, EstimatorSpec, Study
from .targets import cell_targets

__all__ = ["SimulationError", "StudyRun", "fit_block", "run_study"]


class SimulationError(RuntimeError):
    """A cell failed beyond its ``max_errors`` cap (the message names a seed key to replay)."""


# --------------------------------------------------------------------------------------
# fitting one block
# --------------------------------------------------------------------------------------
def _fit_many(est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...]) -> Any:
    # fit_many takes Y as (R, n) whatever X is: (n, p) shared or (R, n, p)
    return est.fit_many(X, Y, kinds)


def _fit_estimator(
    est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], p: int
) -> tuple[
    tuple[str, ...],
    int,
    np.ndarray,
    dict[str, np.ndarray],
    np.ndarray,
    np.ndarray,
    np.ndarray,
    list[str],
]:
    """Fit a block; on failure refit replication by replication, recording each error."""
    R = Y.shape[0]
    try:
        f = _fit_many(est, X, Y, kinds)
        return (
            f.param_names,
            f.n_coef,
            f.params,
            {k: f.se[k] for k in kinds},
            f.scale,
            np.asarray(f.converged, bool),
            np.asarray(f.n_iter),
            [""] * R,
        )
    except Exception:  # a failing replication must not take the block down: refit singly
        pass
    names: tuple[str, ...] | None = None
    n_coef = p + 1
    singles: list[Any] = []
    errors = [""] * R
    for r in range(R):
        Xr = X if X.ndim == 2 else X[r : r + 1]
        try:
            fr = _fit_many(est, Xr, Y[r : r + 1], kinds)
            singles.append(fr)
            if names is None:
                names, n_coef = fr.param_names, fr.n_coef
        except Exception as exc:
            singles.append(None)
            errors[r] = f"{type(exc).__name__}: {exc}"
    if names is None:
        names = ("const", *(f"x{j + 1}" for j in range(p)))
    q = len(names)
    params = np.full((R, q), np.nan)
    se = {k: np.full((R, q), np.nan) for k in kinds}
    scale = np.full(R, np.nan)
    conv = np.zeros(R, bool)
    n_iter = np.zeros(R, np.int64)
    for r, fr in enumerate(singles):
        if fr is None:
            continue
        params[r] = fr.params[0]
        for k in kinds:
            se[k][r] = fr.se[k][0]
        scale[r], conv[r], n_iter[r] = fr.scale[0], fr.converged[0], fr.n_iter[0]
    return names, n_coef, params, se, scale, conv, n_iter, errors


def _configure(spec: EstimatorSpec, index: int, study: Study, cell: Cell, block: int) -> Any:
    est = make_estimator(spec)
    given = dict(spec.params)
    if "random_state" in est.get_params() and "random_state" not in given:
        # randomised estimators draw from a stream of the block's identity, never from None
        est.set_params(random_state=estimator_random_state(study.seed, cell.key, block, index))
    return est


def fit_block(study: Study, cell: Cell, block: Block, block_index: int) -> dict[str, Any]:
    """Fit every estimator of the study on one seed block; return the block's columns.

    Rows are ordered estimator, replication, parameter.
    """
    R = len(block.replications)
    cols: dict[str, list[Any]] = {}
    se_kinds: list[str] = []
    parts = []
    for i, spec in enumerate(study.estimators):
        est = _configure(spec, i, study, cell, block_index)
        kinds = spec.kinds if spec.kinds is not None else default_kinds(est)
        names, n_coef, params, se, scale, conv, n_iter, errors = _fit_estimator(
            est, block.X, block.Y, tuple(kinds), cell.design.p
        )
        bad = ~np.isfinite(params[:, :n_coef]).all(axis=1)
        errors = [
            e or ("non-finite estimate" if b else "") for e, b in zip(errors, bad, strict=True)
        ]
        q = len(names)
        tg = cell_targets(cell, spec, tuple(names), n_coef)
        for k in kinds:
            if k not in se_kinds:
                se_kinds.append(k)
        parts.append((spec.display, names, q, params, se, scale, conv, n_iter, errors, tg))
    for display, names, q, params, se, scale, conv, n_iter, errors, tg in parts:
        rows = R * q
        part = {
            "design": [cell.design.name] * rows,
            "law": [cell.errors.name] * rows,
            "n": np.full(rows, cell.n, np.int64),
            "replication": np.repeat(block.replications.astype(np.int64), q),
            "estimator": [display] * rows,
            "parameter": list(names) * R,
            "estimate": params.reshape(-1),
        }
        for k in se_kinds:
            part[f"se_{k}"] = se[k].reshape(-1) if k in se else np.full(rows, np.nan)
        part["scale"] = np.repeat(scale.astype(float), q)
        part["converged"] = np.repeat(conv.astype(bool), q)
        part["n_iter"] = np.repeat(n_iter.astype(np.int64), q)
        part["error"] = [e for e in errors for _ in range(q)]
        part["seed_key"] = [s for s in block.seed_keys for _ in range(q)]
        for t in ("true_value", "pseudo_true", "avar", "crlb"):
            part[t] = np.tile(tg[t], R)
        for key, val in part.items():
            cols.setdefault(key, []).append(val)
    return {
        k: np.concatenate(
            [np.asarray(v, dtype=object if isinstance(v, list) else None) for v in vals]
        )
        for k, vals in cols.items()
    }


@functools.cache
def _blas_controller() -> Any:
    """One ``ThreadpoolController`` per process: finding the BLAS libraries costs ~4 ms."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _run_task(payload: tuple[Study, int, Cell, tuple[int, ...]]) -> tuple[int, list, float]:
    """Task function (top level, picklable): fit seed blocks of one cell under one BLAS thread."""
    study, index, cell, blocks = payload
    t0 = time.perf_counter()
    out = []
    with _blas_controller().limit(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in blocks:
            data = draw_block(study, cell, b)
            out.append((b, len(data.replications), fit_block(study, cell, data, b)))
    return index, out, time.perf_counter() - t0


def _frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    keys = list(parts[0])
    for p in parts[1:]:
        keys += [k for k in p if k not in keys]
    cols = {}
    for k in keys:
        arrs = []
        for p in parts:
            if k in p:
                arrs.append(p[k])
            else:
                arrs.append(np.full(len(p["estimate"]), np.nan))
        a = np.concatenate(arrs)
        cols[k] = a.astype(str) if a.dtype == object else a
    # se columns after the estimate, truth columns last
    head = ["design", "law", "n", "replication", "estimator", "parameter", "estimate"]
    se_cols = [k for k in keys if k.startswith("se_")]
    rest = [k for k in keys if k not in head and k not in se_cols]
    df = pd.DataFrame({k: cols[k] for k in head + se_cols + rest})
    return df


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------
@dataclass
class StudyRun:
    """What :func:`run_study` returns.

    Attributes
    ----------
    study : Study
    out : Path or None
        Output directory (None: results kept in memory only).
    cells_run, cells_skipped : int
        Cells computed now, and cells found finished in the store.
    wall_time : float
        Seconds.
    """

    study: Study
    out: Path | None
    cells_run: int = 0
    cells_skipped: int = 0
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
        from .metrics import summarize

        return summarize(self.replications, **kwargs)


def _as_study(study: Study | str | Path | Mapping[str, Any]) -> Study:
    if isinstance(study, Study):
        return study
    if isinstance(study, str | Path):
        return Study.from_toml(study)
    if isinstance(study, Mapping):
        return Study.from_dict(study)
    raise TypeError(f"study must be a Study, a TOML path or a dict, got {type(study).__name__}")


def _failure_message(study: Study, cell: Cell, frame: pd.DataFrame, count: int) -> str:
    bad = frame.loc[frame["error"] != ""].iloc[0]
    return (
        f"cell {cell.key!r}: {count} failed fits exceed max_errors={study.max_errors}. "
        f"First failure: estimator {bad['estimator']!r}, replication {bad['replication']}, "
        f"seed key {bad['seed_key']!r}: {bad['error']}. Replay its data with "
        f"tailreg.simulation.replay(study, {bad['seed_key']!r})."
    )


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
) -> StudyRun:
    """Run a Monte Carlo study.

    Parameters
    ----------
    study : Study, path of a TOML study file, or dict
    out : directory, optional
        Store: one Parquet file per cell plus ``meta.json``. Finished cells found there are
        skipped (resume). Without ``out`` the results stay in memory.
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

    Returns
    -------
    StudyRun
        With ``.replications`` (long DataFrame) and ``.summary()``.
    """
    study = _as_study(study)
    S = study.seed_block
    if block_size is None:
        block_size = 5 * S
    if block_size < S or block_size % S:
        raise ValueError(
            f"block_size must be a positive multiple of the study's seed_block={S}, "
            f"got {block_size}"
        )
    per_task = block_size // S
    be = get_backend(backend, workers, scheduler)
    t0 = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    outp = Path(out) if out is not None else None
    cells = study.cells()
    run = StudyRun(study, outp)
    todo: list[int] = []
    if outp is not None:
        outp.mkdir(parents=True, exist_ok=True)
        store.clean_partials(outp)
        store.write_meta(outp, study, started=started, finished=None, **be.describe())
    for i, cell in enumerate(cells):
        if outp is not None and not force and store.cell_path(outp, study, cell).is_file():
            run.cells_skipped += 1
        else:
            todo.append(i)

    payloads = [
        (study, i, cells[i], tuple(range(b, min(b + per_task, study.n_blocks))))
        for i in todo
        for b in range(0, study.n_blocks, per_task)
    ]
    remaining = {i: study.n_blocks for i in todo}
    blocks_in: dict[int, dict[int, dict]] = {i: {} for i in todo}
    errors_in = dict.fromkeys(todo, 0)

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(cells) * study.replications,
        initial=run.cells_skipped * study.replications,
        unit="rep",
        desc=study.name,
        disable=not progress,
        dynamic_ncols=True,
    )
    bar.set_postfix_str(f"cells {run.cells_skipped}/{len(cells)}")
    done_cells = run.cells_skipped
    try:
        for index, parts, _secs in be.map_unordered(_run_task, payloads):
            cell = cells[index]
            for b, n_reps, cols in parts:
                blocks_in[index][b] = cols
                remaining[index] -= 1
                bar.update(n_reps)
                errs = cols["error"]
                q_rows = errs != ""
                # count failed (replication, estimator) pairs, not parameter rows
                if q_rows.any():
                    pairs = {
                        (r, e)
                        for r, e, bad in zip(
                            cols["replication"], cols["estimator"], q_rows, strict=True
                        )
                        if bad
                    }
                    errors_in[index] += len(pairs)
            if errors_in[index] > study.max_errors:
                frame = _frame([blocks_in[index][b] for b in sorted(blocks_in[index])])
                raise SimulationError(_failure_message(study, cell, frame, errors_in[index]))
            if remaining[index] == 0:
                frame = _frame([blocks_in[index][b] for b in sorted(blocks_in[index])])
                del blocks_in[index]
                if outp is not None:
                    store.write_cell(store.cell_path(outp, study, cell), frame)
                else:
                    run._frames[index] = frame
                run.cells_run += 1
                done_cells += 1
                bar.set_postfix_str(f"cells {done_cells}/{len(cells)}")
    finally:
        bar.close()
    run.wall_time = time.perf_counter() - t0
    if outp is not None:
        store.write_meta(
            outp,
            study,
            started=started,
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            wall_time=round(run.wall_time, 3),
            cells_run=run.cells_run,
            cells_skipped=run.cells_skipped,
            **be.describe(),
        )
    return run
