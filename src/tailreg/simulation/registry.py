"""Estimator names of study files, built from each estimator class's ``study_name``.

The registry holds no knowledge of its own about estimators: a class states the name studies
call it by (``study_name``), its covariance kinds and its ``target(law)``; adding an estimator
to :mod:`tailreg.estimators` adds it here.
"""

from __future__ import annotations

from typing import Any

from .. import estimators
from ..estimators import BaseRegressor
from .spec import EstimatorSpec

__all__ = ["ESTIMATORS", "default_kinds", "estimator_class", "make_estimator"]


def _collect() -> dict[str, type[BaseRegressor]]:
    found: dict[str, type[BaseRegressor]] = {}
    for name in estimators.__all__:
        cls = getattr(estimators, name)
        if isinstance(cls, type) and issubclass(cls, BaseRegressor) and cls.study_name:
            found[cls.study_name] = cls
    return found


#: study-file name -> estimator class
ESTIMATORS: dict[str, type[BaseRegressor]] = _collect()


def estimator_class(name: str) -> type[BaseRegressor]:
    """The estimator class of a study-file name."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; choose from {list(ESTIMATORS)}")
    return ESTIMATORS[name]


def make_estimator(spec: EstimatorSpec) -> Any:
    """A new estimator configured as the specification says."""
    return estimator_class(spec.name)(**dict(spec.params))


def default_kinds(est: Any) -> tuple[str, ...]:
    """Covariance kinds recorded by default: all but the costly ``bootstrap``."""
    return tuple(k for k in est.cov_kinds if k != "bootstrap")
