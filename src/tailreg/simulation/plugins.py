"""Plug-ins: objects a study file names by an import path ``"package.module:attribute"``.

An estimator plug-in is any scikit-learn-style regressor: ``fit(X, y)`` returning the fitted
object with ``coef_`` (p,) and ``intercept_``. What the engine uses when it is there:

* ``fit_many(X, Y, kinds)`` returning a ``tailreg`` ``ManyFits`` — used instead of a loop;
* ``result_`` with ``cov_kinds`` and ``bse(kind)`` (a tailreg ``FitResult``) — standard
  errors, and ``scale``, ``converged``, ``n_iter`` from it;
* otherwise ``scale_`` and ``n_iter_`` (e.g. scikit-learn's ``HuberRegressor``); a
  ``ConvergenceWarning`` raised by the fit marks the replication ``converged=False``;
* ``cov_kinds`` and ``check_params()`` — validated when the study is read;
* ``target(law)`` returning a :class:`tailreg.theory.Target` — the truth columns (without
  it the pseudo-true values and theoretical variances are NaN: "no theory").

A study file is validated by importing the object, constructing it with the file's keywords
and fitting it once to a small fixed data set (:func:`probe_fit`), so an unimportable path,
an object that is not a regressor or a constructor or fit that raises is a ``ValueError``
naming the study key before any replication runs.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "PROBE_ROWS",
    "coefficients",
    "fit_summary",
    "is_import_path",
    "load_object",
    "make_plugin",
    "probe_fit",
    "result_kinds",
]

#: rows of the probe data set that checks a plug-in estimator when a study is read
PROBE_ROWS = 40


def is_import_path(name: Any) -> bool:
    """True for ``"package.module:attribute"`` names (a colon; built-in names have none)."""
    return isinstance(name, str) and ":" in name


def load_object(path: str, where: str) -> Any:
    """Import ``"package.module:attribute"`` (dots after the colon walk attributes).

    Raises
    ------
    ValueError
        The path is malformed, the module cannot be imported or lacks the attribute; the
        message names ``where``, the study key.
    """
    module_name, _, attr = path.partition(":")
    if not module_name or not attr or ":" in attr:
        raise ValueError(f"{where}: {path!r} is not an import path 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"{where}: cannot import module {module_name!r} ({exc})") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{where}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def make_plugin(path: str, params: Mapping[str, Any], where: str) -> Any:
    """Construct the estimator class at ``path`` with the study file's keywords."""
    cls = load_object(path, where)
    if not callable(cls):
        raise ValueError(f"{where}: {path!r} is not a class (got {type(cls).__name__})")
    try:
        est = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{where} ({path}): constructing it with {dict(params)} failed: {exc}"
        ) from exc
    if not callable(getattr(est, "fit", None)):
        raise ValueError(f"{where}: {path!r} is not a regressor: it has no fit(X, y) method")
    return est


def _probe_data(p: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, well-conditioned data set (no random numbers): y = 1 + sum_j x_j + noise."""
    i = np.arange(PROBE_ROWS, dtype=float)[:, None]
    X = np.cos((i + 1.0) * np.arange(1, p + 1) * 0.7) + 0.1 * np.arange(1, p + 1)
    y = 1.0 + X.sum(axis=1) + 0.3 * np.sin(3.1 * i[:, 0])
    return X, y


def probe_fit(est: Any, p: int, where: str) -> Any:
    """Fit ``est`` once to a fixed data set with ``p`` regressors; check what it exposes.

    Returns the fitted estimator. The fit runs under ``warnings`` silenced (a probe is not a
    replication). Any exception it raises is reported as a ``ValueError`` naming ``where``:
    a plug-in is user code, so every exception type is expected here.
    """
    X, y = _probe_data(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y)
        except Exception as exc:  # user code may raise anything: reported with the study key
            raise ValueError(
                f"{where}: fitting it to a probe data set (n={PROBE_ROWS}, p={p}) raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    coefficients(est, p, where)
    return est


def coefficients(est: Any, p: int, where: str = "estimator") -> np.ndarray:
    """``(intercept_, *coef_)`` of a fitted regressor, shape (p + 1,)."""
    if not hasattr(est, "coef_"):
        raise ValueError(f"{where}: {type(est).__name__} has no coef_ after fit: not a regressor")
    coef = np.asarray(est.coef_, dtype=float)
    if coef.ndim == 2 and coef.shape[0] == 1:  # a single-target fit of a multi-output model
        coef = coef[0]
    if coef.shape != (p,):
        raise ValueError(
            f"{where}: {type(est).__name__}.coef_ has shape {coef.shape}, expected ({p},)"
        )
    icpt = np.asarray(getattr(est, "intercept_", 0.0), dtype=float).reshape(-1)
    if icpt.size != 1:
        raise ValueError(
            f"{where}: {type(est).__name__}.intercept_ has {icpt.size} values, expected one"
        )
    return np.concatenate([icpt, coef])


def result_kinds(est: Any) -> tuple[str, ...]:
    """Covariance kinds of a fitted estimator's tailreg-style ``result_`` (empty without)."""
    res = getattr(est, "result_", None)
    if res is None or not callable(getattr(res, "bse", None)):
        return ()
    return tuple(str(k) for k in getattr(res, "cov_kinds", ()))


def _bse(res: Any, kind: str, q: int) -> np.ndarray:
    out = np.full(q, np.nan)
    try:
        se = np.asarray(res.bse(kind), dtype=float).reshape(-1)
    except (ValueError, ArithmeticError):  # the kind cannot be computed for this fit: NaN
        return out
    out[: min(q, se.size)] = se[:q]
    return out


def fit_summary(
    est: Any, p: int, kinds: tuple[str, ...], caught: list[warnings.WarningMessage]
) -> dict[str, Any]:
    """What the engine records of one plug-in fit: coefficients, SEs, scale, flags.

    ``caught`` are the warnings the fit raised; a ``ConvergenceWarning`` among them marks
    the fit unconverged when the estimator has no ``result_.converged`` of its own.
    """
    params = coefficients(est, p)
    q = params.size
    res = getattr(est, "result_", None)
    has_kinds = result_kinds(est)
    se = {k: _bse(res, k, q) if k in has_kinds else np.full(q, np.nan) for k in kinds}
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    scale = getattr(res, "scale", getattr(est, "scale_", math.nan))
    n_iter = getattr(res, "n_iter", getattr(est, "n_iter_", 0))
    return {
        "params": params,
        "se": se,
        "scale": float(np.asarray(scale, dtype=float).reshape(-1)[0]),
        "converged": bool(getattr(res, "converged", not warned)),
        "n_iter": int(np.max(np.asarray(n_iter))),
    }
