"""The fitting side of the Monte Carlo engine: every estimator on one seed block.

A task is (cell, consecutive seed blocks). For each seed block the task draws the data once
(:func:`~tailreg.simulation.generate.draw_block`) and calls every estimator's ``fit_many``
once on the whole block, so all estimators see the same replications; a plug-in without
``fit_many`` (any scikit-learn-style regressor) is fitted replication by replication. A
block whose batched fit raises is refitted one replication at a time, and a replication that
still fails becomes rows with ``converged=False`` and the exception in ``error``.

Warnings are captured, never silenced: the rows of each fit call record how many warnings
it raised (``n_warnings``) and the first one (``warning``, ``"Category: message"``), on the
first replication the call fitted (the whole seed block for a batched fit, the replication
itself for a single fit) and 0 / ``""`` on the others — so ``n_warnings`` summed over a
cell's rows of one parameter is the cell's count. :mod:`tailreg.simulation.runner` collects
the blocks into the store.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from .generate import Block, draw_block
from .plugins import fit_summary
from .registry import EstimatorSpec, default_kinds, make_estimator
from .seeds import estimator_random_state
from .spec import Cell, Study
from .targets import CellTargets, cell_targets

__all__ = ["BlockFit", "columns_to_frame", "fit_block"]


# --------------------------------------------------------------------------------------
# fitting one block
# --------------------------------------------------------------------------------------
def _fit_many(est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...]) -> Any:
    # fit_many takes Y as (R, n) whatever X is: (n, p) shared or (R, n, p)
    return est.fit_many(X, Y, kinds)


#: longest warning message kept in the ``warning`` column
WARNING_CHARS = 500


@dataclass
class BlockFit:
    """One estimator's fits of one seed block of R replications (q parameters each)."""

    names: tuple[str, ...]
    n_coef: int
    params: np.ndarray  # (R, q)
    se: dict[str, np.ndarray]  # kind -> (R, q)
    scale: np.ndarray  # (R,)
    converged: np.ndarray  # (R,) bool
    n_iter: np.ndarray  # (R,) int
    errors: list[str]  # (R,) "" or "Type: message"
    n_warnings: np.ndarray  # (R,) int, on the first replication of each fit call
    warning: list[str]  # (R,) the first warning of that call, "Category: message"


@dataclass
class _Single:
    names: tuple[str, ...]
    n_coef: int
    params: np.ndarray
    se: dict[str, np.ndarray]
    scale: float
    converged: bool
    n_iter: int


def _first_warning(caught: list[warnings.WarningMessage]) -> str:
    if not caught:
        return ""
    w = caught[0]
    return f"{w.category.__name__}: {w.message}"[:WARNING_CHARS]


def _fit_batched(
    est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], p: int
) -> BlockFit:
    R = Y.shape[0]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            f = _fit_many(est, X, Y, kinds)
    except Exception:  # one failing replication must not take the block down: refit singly
        return _fit_singly(functools.partial(_one_many, est, X, Y, kinds), R, kinds, p)
    n_warnings = np.zeros(R, np.int64)
    n_warnings[0] = len(caught)
    return BlockFit(
        f.param_names,
        f.n_coef,
        f.params,
        {k: f.se[k] for k in kinds},
        f.scale,
        np.asarray(f.converged, bool),
        np.asarray(f.n_iter),
        [""] * R,
        n_warnings,
        [_first_warning(caught)] + [""] * (R - 1),
    )


def _one_many(
    est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], r: int, _w
) -> _Single:
    fr = _fit_many(est, X if X.ndim == 2 else X[r : r + 1], Y[r : r + 1], kinds)
    return _Single(
        fr.param_names,
        fr.n_coef,
        fr.params[0],
        {k: fr.se[k][0] for k in kinds},
        fr.scale[0],
        fr.converged[0],
        fr.n_iter[0],
    )


def _one_plugin(
    est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], p: int, r: int, caught
) -> _Single:
    est.fit(X if X.ndim == 2 else X[r], Y[r])
    s = fit_summary(est, p, kinds, caught)
    names = ("const", *(f"x{j + 1}" for j in range(p)))
    return _Single(names, p + 1, s["params"], s["se"], s["scale"], s["converged"], s["n_iter"])


def _fit_singly(
    one: Callable[[int, list], _Single], R: int, kinds: tuple[str, ...], p: int
) -> BlockFit:
    """Fit replication by replication; a failure is recorded in ``errors``, never raised."""
    singles: list[_Single | None] = []
    errors = [""] * R
    n_warnings = np.zeros(R, np.int64)
    first = [""] * R
    for r in range(R):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                singles.append(one(r, caught))
            except Exception as exc:  # any error of (possibly user) code: a recorded row
                singles.append(None)
                errors[r] = f"{type(exc).__name__}: {exc}"
        n_warnings[r], first[r] = len(caught), _first_warning(caught)
    ok = [s for s in singles if s is not None]
    names = ok[0].names if ok else ("const", *(f"x{j + 1}" for j in range(p)))
    n_coef = ok[0].n_coef if ok else p + 1
    q = len(names)
    params = np.full((R, q), np.nan)
    se = {k: np.full((R, q), np.nan) for k in kinds}
    scale = np.full(R, np.nan)
    conv = np.zeros(R, bool)
    n_iter = np.zeros(R, np.int64)
    for r, fr in enumerate(singles):
        if fr is None:
            continue
        params[r] = fr.params
        for k in kinds:
            se[k][r] = fr.se[k]
        scale[r], conv[r], n_iter[r] = fr.scale, fr.converged, fr.n_iter
    return BlockFit(names, n_coef, params, se, scale, conv, n_iter, errors, n_warnings, first)


def _fit_estimator(
    est: Any, X: np.ndarray, Y: np.ndarray, kinds: tuple[str, ...], p: int
) -> BlockFit:
    """Fit a block: batched when the estimator has ``fit_many``, else one by one."""
    if callable(getattr(est, "fit_many", None)):
        fit = _fit_batched(est, X, Y, kinds, p)
    else:
        one = functools.partial(_one_plugin, est, X, Y, kinds, p)
        fit = _fit_singly(one, Y.shape[0], kinds, p)
    bad = ~np.isfinite(fit.params[:, : fit.n_coef]).all(axis=1)
    fit.errors = [
        e or ("non-finite estimate" if b else "") for e, b in zip(fit.errors, bad, strict=True)
    ]
    return fit


def _configure(spec: EstimatorSpec, index: int, study: Study, cell: Cell, block: int) -> Any:
    est = make_estimator(spec)
    given = dict(spec.params)
    get_params = getattr(est, "get_params", None)
    if callable(get_params) and "random_state" in get_params() and "random_state" not in given:
        # randomised estimators draw from a stream of the block's identity, never from None
        est.set_params(random_state=estimator_random_state(study.seed, cell.key, block, index))
    return est


def _columns(
    cell: Cell, block: Block, display: str, fit: BlockFit, tg: CellTargets, se_kinds: list[str]
) -> dict[str, Any]:
    """The rows of one estimator in one block, ordered replication, parameter."""
    R, q = len(block.replications), len(fit.names)
    rows = R * q
    part: dict[str, Any] = {
        "design": [cell.design.name] * rows,
        "law": [cell.errors.name] * rows,
        "n": np.full(rows, cell.n, np.int64),
        "replication": np.repeat(block.replications.astype(np.int64), q),
        "estimator": [display] * rows,
        "parameter": list(fit.names) * R,
        "estimate": fit.params.reshape(-1),
    }
    for k in se_kinds:
        part[f"se_{k}"] = fit.se[k].reshape(-1) if k in fit.se else np.full(rows, np.nan)
    part["scale"] = np.repeat(fit.scale.astype(float), q)
    part["converged"] = np.repeat(fit.converged.astype(bool), q)
    part["n_iter"] = np.repeat(fit.n_iter.astype(np.int64), q)
    part["error"] = [e for e in fit.errors for _ in range(q)]
    part["seed_key"] = [s for s in block.seed_keys for _ in range(q)]
    for t in ("true_value", "pseudo_true", "avar", "crlb"):
        part[t] = np.tile(tg[t], R)
    part["theory"] = [tg.theory] * rows
    part["n_warnings"] = np.repeat(fit.n_warnings, q)
    part["warning"] = [w for w in fit.warning for _ in range(q)]
    return part


def fit_block(study: Study, cell: Cell, block: Block, block_index: int) -> dict[str, Any]:
    """Fit every estimator of the study on one seed block; return the block's columns.

    Rows are ordered estimator, replication, parameter.
    """
    se_kinds: list[str] = []
    fits = []
    for i, spec in enumerate(study.estimators):
        est = _configure(spec, i, study, cell, block_index)
        kinds = tuple(spec.kinds if spec.kinds is not None else default_kinds(est))
        fit = _fit_estimator(est, block.X, block.Y, kinds, cell.design.p)
        se_kinds += [k for k in kinds if k not in se_kinds]
        fits.append((spec.display, fit, cell_targets(cell, spec, tuple(fit.names), fit.n_coef)))
    cols: dict[str, list[Any]] = {}
    for display, fit, tg in fits:
        for key, val in _columns(cell, block, display, fit, tg, se_kinds).items():
            cols.setdefault(key, []).append(val)
    return {
        k: np.concatenate(
            [np.asarray(v, dtype=object if isinstance(v, list) else None) for v in vals]
        )
        for k, vals in cols.items()
    }


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One ``ThreadpoolController`` per process: finding the BLAS libraries costs ~4 ms."""
    return ThreadpoolController()


def _run_task(payload: tuple[Study, int, Cell, tuple[int, ...]]) -> tuple[int, list, float]:
    """Task function (top level, picklable): fit seed blocks of one cell under one BLAS thread.

    Warnings outside the fits (drawing the data, the theory targets) are silenced; the fits'
    own are captured into the rows.
    """
    study, index, cell, blocks = payload
    t0 = time.perf_counter()
    out = []
    with _blas_controller().limit(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in blocks:
            data = draw_block(study, cell, b)
            out.append((b, len(data.replications), fit_block(study, cell, data, b)))
    return index, out, time.perf_counter() - t0


def columns_to_frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One DataFrame of block columns: the head, then the SEs, then the rest in order."""
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
    return pd.DataFrame({k: cols[k] for k in head + se_cols + rest})
