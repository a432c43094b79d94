"""Estimator names of study files, their classes (imported lazily) and their targets.

The target of an estimator's intercept is its pseudo-true value, nominal intercept plus the
location functional :math:`T(F)` of its loss at the error law (``tailreg.theory``): the mean
for least squares, the median for LAD, the tau-quantile for quantile regression, the Huber
location (with the MAD-of-residuals scale convention, ``scale="estimated"``) for Huber.
Where the theory cannot give it (proposal-2 Huber scale, MM's S-scale, the Student-t MLE's
likelihood scale on a skewed law) the target is NaN unless the law is symmetric, when every
location functional is its centre of symmetry.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

from .spec import EstimatorSpec

__all__ = ["ESTIMATORS", "default_kinds", "estimator_class", "make_estimator", "target_loss"]

#: study-file name -> (module, class)
ESTIMATORS: dict[str, tuple[str, str]] = {
    "ols": ("tailreg.estimators.ols", "OLS"),
    "gaussian_mle": ("tailreg.estimators.mle", "GaussianMLE"),
    "huber": ("tailreg.estimators.huber", "Huber"),
    "quantile": ("tailreg.estimators.quantile", "QuantileRegression"),
    "lad": ("tailreg.estimators.quantile", "LAD"),
    "bisquare": ("tailreg.estimators.bisquare", "Bisquare"),
    "mm": ("tailreg.estimators.mm", "MM"),
    "student_t": ("tailreg.estimators.student_t", "StudentTMLE"),
}


def estimator_class(name: str) -> type:
    """The estimator class of a study-file name (its module is imported now)."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; choose from {list(ESTIMATORS)}")
    module, cls = ESTIMATORS[name]
    return getattr(importlib.import_module(module), cls)


def make_estimator(spec: EstimatorSpec) -> Any:
    """A new estimator configured as the specification says."""
    return estimator_class(spec.name)(**dict(spec.params))


def default_kinds(est: Any) -> tuple[str, ...]:
    """Covariance kinds recorded by default: all but the costly ``bootstrap``."""
    return tuple(k for k in est._cov_kinds if k != "bootstrap")


def target_loss(spec: EstimatorSpec) -> tuple[Any, Any] | None:
    """(loss, theory scale convention) whose location functional the estimator targets.

    Returns None when ``tailreg.theory`` has no matching convention.
    """
    losses = importlib.import_module("tailreg.losses")
    p = dict(spec.params)
    name = spec.name
    if name in ("ols", "gaussian_mle"):
        return losses.Squared(), 1.0
    if name == "lad":
        return losses.Absolute(), 1.0
    if name == "quantile":
        return losses.Check(p.get("tau", 0.5)), 1.0
    if name in ("huber", "bisquare"):
        loss = (
            losses.Huber(p.get("k", 1.345))
            if name == "huber"
            else losses.Bisquare(p.get("c", 4.685))
        )
        scale = p.get("scale", "mad")
        if scale == "mad":
            return loss, "estimated"
        if isinstance(scale, int | float) and not isinstance(scale, bool) and math.isfinite(scale):
            return loss, float(scale)
        return None
    return None
