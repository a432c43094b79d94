"""Checks applied once, at the public boundary (house style rule 8).

The array cores behind the estimators assume their inputs passed these checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from ._typing import SeedLike

__all__ = [
    "SeedLike",
    "add_constant",
    "check_design",
    "check_finite",
    "check_in_range",
    "check_many",
    "check_positive",
    "check_random_state",
    "check_weights",
    "default_names",
]


def check_random_state(seed: SeedLike) -> np.random.Generator:
    """Turn ``None``, an int, a ``SeedSequence`` or a ``Generator`` into a ``Generator``.

    Never touches numpy's global random state.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, Integral | np.random.SeedSequence):
        return np.random.default_rng(seed)
    raise ValueError(
        f"random_state must be None, an int, a numpy SeedSequence or Generator, got {seed!r}"
    )


def check_positive(name: str, value: Any, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite positive number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    v = float(value)
    if np.isnan(v) or v <= 0 or (np.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def check_in_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_closed: bool = False,
    high_closed: bool = False,
) -> float:
    """Return ``value`` as a float after checking it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    ok_low = v >= low if low_closed else v > low
    ok_high = v <= high if high_closed else v < high
    if np.isnan(v) or not (ok_low and ok_high):
        lb = "[" if low_closed else "("
        hb = "]" if high_closed else ")"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{hb}, got {value!r}")
    return v


def check_finite(name: str, a: np.ndarray) -> None:
    """Raise a ``ValueError`` naming ``name`` if ``a`` holds NaN or infinite values."""
    if not np.all(np.isfinite(a)):
        what = "NaN" if np.isnan(a).any() else "infinity"
        raise ValueError(f"Input {name} contains {what}; remove or impute those rows first.")


def default_names(p: int) -> list[str]:
    """Regressor names ``x1..xp`` used when the input has no column names."""
    return [f"x{j + 1}" for j in range(p)]


def add_constant(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """Prepend a column of ones (works on (n, p) and stacked (R, n, p) designs)."""
    if not fit_intercept:
        return X
    out = np.empty((*X.shape[:-1], X.shape[-1] + 1), dtype=float)
    out[..., 0] = 1.0
    out[..., 1:] = X
    return out


def check_weights(w: Any, shape: tuple[int, ...], name: str = "sample_weight") -> np.ndarray:
    """Observation weights as a float array of ``shape``, or a ``ValueError`` naming the problem.

    Weights must be finite and non-negative, with at least one positive weight per fit (per
    row of a (R, n) array); a 1-D array of length n is accepted for a (R, n) shape (one set
    of weights shared by the R fits) and returned as given.
    """
    a = np.asarray(w, dtype=float) if not isinstance(w, np.ndarray) else w.astype(float)
    if a.ndim == 0:
        raise ValueError(f"{name} must be an array of length n, got a scalar {w!r}")
    if a.shape != shape and not (len(shape) == 2 and a.shape == shape[1:]):
        want = f"({shape[-1]},)" + (f" or {shape}" if len(shape) == 2 else "")
        raise ValueError(f"{name} has shape {a.shape}; expected {want}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity; weights must be finite")
    if np.any(a < 0):
        raise ValueError(f"{name} contains negative values; weights must be >= 0")
    if not np.all(a.sum(axis=-1) > 0):
        raise ValueError(
            f"{name}: every fit needs at least one positive weight (all weights are zero)"
        )
    return a


def check_design(design: np.ndarray, names: Sequence[str], *, min_extra_rows: int = 0) -> None:
    """Check a design (constant already added) has enough rows and full column rank.

    Parameters
    ----------
    design : ndarray of shape (n, k)
    names : the k parameter names, used in the error message.
    min_extra_rows : rows needed beyond k (e.g. 1 when a scale is estimated too).
    """
    n, k = design.shape
    if n < k + min_extra_rows or n < 2:
        raise ValueError(
            f"too few rows: n_samples={n} but the model has {k} coefficient(s); "
            f"need at least {max(k + min_extra_rows, 2)} rows"
        )
    s = np.linalg.svd(design, compute_uv=False)
    tol = s.max() * max(n, k) * np.finfo(float).eps
    rank = int((s > tol).sum())
    if rank < k:
        raise ValueError(
            f"rank-deficient design: rank {rank} < {k} columns ({', '.join(names)}); "
            "drop collinear or constant regressors (or set fit_intercept=False)"
        )


def check_many(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Check the shapes of ``fit_many``'s arrays; return ``Y`` as (R, n).

    ``X`` is (n, p) shared by the R fits or (R, n, p) one design per fit; ``Y`` is (R, n)
    either way — replications first, like a stacked ``X`` and like every output — and a 1-D
    ``y`` (n,) is one fit. A ``Y`` of shape (n, R) is named as transposed.
    """
    if X.ndim not in (2, 3):
        raise ValueError(
            f"X must be (n, p) shared by all fits or (R, n, p) one design per fit, got shape "
            f"{X.shape}"
        )
    n = X.shape[-2]
    if Y.ndim == 1:
        Y = Y[None, :]
    stacked = X.ndim == 3
    expected = f"({X.shape[0]}, {n})" if stacked else f"(R, {n})"
    what = f"X is {X.shape} ({'R, n, p' if stacked else 'n, p'}), so Y must be {expected}"
    if Y.ndim != 2:
        raise ValueError(f"shape mismatch: {what} (replications first), got shape {Y.shape}")
    if Y.shape[1] != n or (stacked and Y.shape[0] != X.shape[0]):
        hint = ""
        if Y.shape[0] == n and (not stacked or Y.shape[1] == X.shape[0]):
            hint = "; Y looks transposed (n, R): fit_many takes one response per row, pass Y.T"
        raise ValueError(f"shape mismatch: {what} (replications first), got {Y.shape}{hint}")
    return Y
