"""Data generation: regressors, error laws and one seed block of replications.

The model is :math:`y_i = b_0 + x_i^\\top\\beta + e_i`. A seed block of ``S = study.seed_block``
replications is drawn from its own streams (:mod:`tailreg.simulation.seeds`): regressors
``(S, n, p)`` (or one fixed ``(n, p)``) and errors ``(S, n)``. The block is always drawn in
full and then cut to the replications the study asks for, so the last block's data do not
depend on how many replications it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..distributions import ErrorLaw
from ..processes import AR1, Heteroscedastic
from . import seeds
from .error_laws import build_law
from .spec import Cell, Design, ErrorSpec, Study

__all__ = [
    "Block",
    "draw_block",
    "draw_x",
    "make_error_law",
    "make_process",
    "replay",
    "x_moments",
]


def draw_x(design: Design, n: int, rng: np.random.Generator, reps: int | None = None) -> np.ndarray:
    """Draw regressors of shape ``(n, p)``, or ``(reps, n, p)`` when ``reps`` is given.

    The design's regressor law draws them (:mod:`tailreg.simulation.regressors`): ``normal``
    N(0, 1); ``uniform`` U(low, high); ``lognormal`` exp(N(0, s^2)); ``leverage`` N(0, 1)
    with the first ``round(share * n)`` rows multiplied by ``scale``; a design file's first
    ``n`` rows or ``n`` rows drawn with replacement.
    """
    return design.regressors.draw(n, design.p, rng, reps)


def x_moments(design: Design, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean (p,) and covariance (p, p) of a row of regressors (for the theory).

    Population moments of a named law (for ``leverage`` the share is taken as exact, so the
    second moment is :math:`(1 - \\text{share}) + \\text{share}\\cdot\\text{scale}^2`); for a
    design file the sample moments (divisor N) of the rows in use: the first ``n`` with
    ``sampling = "fixed"``, all of them with ``"resample"``.
    """
    return design.regressors.moments(n, design.p)


@lru_cache(maxsize=256)
def make_error_law(spec: ErrorSpec) -> ErrorLaw:
    """The i.i.d. (innovation) law of an error specification (:func:`.error_laws.build_law`)."""
    return build_law(spec.law, spec.params, spec.center, spec.scale)


@lru_cache(maxsize=256)
def make_process(spec: ErrorSpec) -> Any | None:
    """The heteroscedastic or AR(1) error process (``tailreg.processes``), or None if i.i.d."""
    if spec.iid:
        return None
    law = make_error_law(spec)
    if spec.heteroscedastic is not None:
        if spec.ar1 is not None:
            raise ValueError("heteroscedastic AR(1) errors are not supported; give one of the two")
        kw = dict(spec.heteroscedastic)
        fn = kw.pop("scale_fn", "linear")
        return Heteroscedastic(law, fn, **kw)
    return AR1(law, float(spec.ar1))  # type: ignore[arg-type]  # not iid, not het: ar1


@dataclass(frozen=True)
class Block:
    """One seed block: data of ``len(replications)`` replications.

    Attributes
    ----------
    X : ndarray (n, p) shared (fixed regressors) or (R, n, p)
    Y : ndarray (R, n)
    replications : ndarray of int (R,)
        Replication indices within the cell.
    seed_keys : list of str
    """

    X: np.ndarray
    Y: np.ndarray
    replications: np.ndarray
    seed_keys: list[str]


def _errors(spec: ErrorSpec, X: np.ndarray, S: int, n: int, rng: np.random.Generator) -> np.ndarray:
    proc = make_process(spec)
    if proc is None:
        return make_error_law(spec).sample((S, n), rng)
    if X.ndim == 2:  # one fixed design: S independent error vectors for it
        return proc.sample(X, rng, reps=S)
    return proc.sample(X, rng)


def draw_block(study: Study, cell: Cell, block: int) -> Block:
    """Draw seed block ``block`` of a cell (replications ``block*S`` to ``(block+1)*S - 1``)."""
    S = study.seed_block
    start = block * S
    stop = min(study.replications, start + S)
    if not 0 <= start < stop:
        raise ValueError(f"block {block} is outside the study's {study.n_blocks} seed blocks")
    design, n = cell.design, cell.n
    if design.fixed_x:
        X = draw_x(design, n, np.random.default_rng(seeds.fixed_x_seed(study.seed, design.key, n)))
    else:  # the regressor law names its stream (seeds.X, or seeds.ROWS for a resampled file)
        stream = design.regressors.stream
        rng_x = np.random.default_rng(seeds.block_seed(study.seed, cell.key, block, stream))
        X = draw_x(design, n, rng_x, reps=S)
    rng_e = np.random.default_rng(seeds.block_seed(study.seed, cell.key, block, seeds.ERRORS))
    E = _errors(cell.errors, X, S, n, rng_e)
    beta = np.asarray(design.beta, dtype=float)
    Y = design.intercept + X @ beta + E  # X @ beta: (n,) broadcasts, or (S, n)
    keep = stop - start
    if not design.fixed_x:
        X = X[:keep]
    digest = cell.digest
    return Block(
        X=X,
        Y=np.ascontiguousarray(Y[:keep]),
        replications=np.arange(start, stop),
        seed_keys=[seeds.seed_key(study.seed, digest, block, r) for r in range(keep)],
    )


def replay(study: Study, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Regenerate the data ``(X (n, p), y (n,))`` of the replication named by a seed key.

    Parameters
    ----------
    study : Study
        The study that produced the key.
    key : str
        A ``seed_key`` from the results table or an error message.
    """
    seed, digest, block, row = seeds.parse_seed_key(key)
    if seed != study.seed:
        raise ValueError(f"seed key {key!r} belongs to seed {seed}, not this study's {study.seed}")
    for cell in study.cells():
        if cell.digest.startswith(digest):
            b = draw_block(study, cell, block)
            X = b.X if b.X.ndim == 2 else b.X[row]
            return X, b.Y[row]
    raise ValueError(f"seed key {key!r} names no cell of study {study.name!r}")
