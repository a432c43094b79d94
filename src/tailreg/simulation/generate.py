"""Data generation: regressors, error laws and one seed block of replications.

The model is :math:`y_i = b_0 + x_i^\\top\\beta + e_i`. A seed block of ``S = study.seed_block``
replications is drawn from its own streams (:mod:`tailreg.simulation.seeds`): regressors
``(S, n, p)`` (or one fixed ``(n, p)``) and errors ``(S, n)``. The block is always drawn in
full and then cut to the replications the study asks for, so the last block's data do not
depend on how many replications it holds.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import seeds
from .spec import Cell, Design, ErrorSpec, Study

__all__ = ["Block", "draw_block", "draw_x", "make_error_law", "make_process", "x_moments"]


def draw_x(design: Design, n: int, rng: np.random.Generator, reps: int | None = None) -> np.ndarray:
    """Draw regressors of shape ``(n, p)``, or ``(reps, n, p)`` when ``reps`` is given.

    Laws: ``normal`` N(0, 1); ``uniform`` U(low, high); ``lognormal`` exp(N(0, s^2));
    ``leverage`` N(0, 1) with the first ``round(share * n)`` rows multiplied by ``scale``.
    """
    size = (n, design.p) if reps is None else (reps, n, design.p)
    o = design.x_options
    if design.x == "normal":
        return rng.standard_normal(size)
    if design.x == "uniform":
        return rng.uniform(o["low"], o["high"], size)
    if design.x == "lognormal":
        return np.exp(o["s"] * rng.standard_normal(size))
    if design.x == "leverage":
        z = rng.standard_normal(size)
        m = round(o["share"] * n)
        z[..., :m, :] *= o["scale"]
        return z
    raise ValueError(f"unknown regressor law {design.x!r}")


def x_moments(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Population mean (p,) and covariance (p, p) of the regressors (for the theory).

    For ``leverage`` the share is taken as exact, so the second moment is
    :math:`(1 - \\text{share}) + \\text{share}\\cdot\\text{scale}^2`.
    """
    o, p = design.x_options, design.p
    if design.x == "normal":
        mu, var = 0.0, 1.0
    elif design.x == "uniform":
        mu, var = (o["low"] + o["high"]) / 2, (o["high"] - o["low"]) ** 2 / 12
    elif design.x == "lognormal":
        s2 = o["s"] ** 2
        mu, var = float(np.exp(s2 / 2)), float((np.exp(s2) - 1) * np.exp(s2))
    else:
        mu, var = 0.0, (1 - o["share"]) + o["share"] * o["scale"] ** 2
    return np.full(p, mu), var * np.eye(p)


@lru_cache(maxsize=256)
def make_error_law(spec: ErrorSpec) -> Any:
    """The i.i.d. (innovation) law of an error specification, from ``tailreg.distributions``."""
    make = importlib.import_module("tailreg.distributions").make
    kw: dict[str, Any] = dict(spec.params)
    if spec.center is not None:
        kw["center"] = spec.center
    if spec.scale is not None:
        kw["scale"] = spec.scale
    return make(spec.law, **kw)


@lru_cache(maxsize=256)
def make_process(spec: ErrorSpec) -> Any | None:
    """The heteroscedastic or AR(1) error process (``tailreg.processes``), or None if i.i.d."""
    if spec.iid:
        return None
    procs = importlib.import_module("tailreg.processes")
    law = make_error_law(spec)
    if spec.heteroscedastic is not None:
        kw = dict(spec.heteroscedastic)
        fn = kw.pop("scale_fn", "linear")
        proc = procs.Heteroscedastic(law, fn, **kw)
        if spec.ar1 is not None:
            raise ValueError("heteroscedastic AR(1) errors are not supported; give one of the two")
        return proc
    return procs.AR1(law, spec.ar1)


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
    else:
        rng_x = np.random.default_rng(seeds.block_seed(study.seed, cell.key, block, seeds.X))
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
