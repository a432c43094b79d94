"""Estimator names of study files: built-in names from each class's ``study_name``, or plug-ins.

The registry holds no knowledge of its own about estimators: a class states the name studies
call it by (``study_name``), its covariance kinds and its ``target(law)``; adding an estimator
to :mod:`tailreg.estimators` adds it here. Any other regressor is named by its import path,
``"package.module:Class"`` (:mod:`tailreg.simulation.plugins`), with no edit here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import estimators
from ..estimators import BaseRegressor
from ..inference.covariance import REGISTRY
from ._checks import Params, _freeze, _label, _thaw
from .plugins import is_import_path, load_object, make_plugin, probe_fit, result_kinds

__all__ = ["ESTIMATORS", "EstimatorSpec", "default_kinds", "estimator_class", "make_estimator"]


def _collect() -> dict[str, type[BaseRegressor]]:
    found: dict[str, type[BaseRegressor]] = {}
    for name in estimators.__all__:
        cls = getattr(estimators, name)
        if isinstance(cls, type) and issubclass(cls, BaseRegressor) and cls.study_name:
            found[cls.study_name] = cls
    return found


#: study-file name -> estimator class
ESTIMATORS: dict[str, type[BaseRegressor]] = _collect()


def estimator_class(name: str) -> Any:
    """The estimator class of a study-file name or of an import path ``"package.module:Class"``."""
    if is_import_path(name):
        return load_object(name, "estimator")
    if name not in ESTIMATORS:
        raise ValueError(
            f"unknown estimator {name!r}; choose from {list(ESTIMATORS)} "
            f"or give an import path 'package.module:Class'"
        )
    return ESTIMATORS[name]


def make_estimator(spec: Any, where: str = "estimator") -> Any:
    """A new estimator configured as an :class:`~tailreg.simulation.EstimatorSpec` says.

    ``spec`` needs ``name`` and ``params`` (pairs of keyword and value).
    """
    params = dict(spec.params)
    if is_import_path(spec.name):
        return make_plugin(spec.name, params, where)
    return estimator_class(spec.name)(**params)


def default_kinds(est: Any) -> tuple[str, ...]:
    """Covariance kinds recorded by default: all the estimator states but the costly
    ``bootstrap`` and those that need options a study does not have (``cluster`` needs
    groups; ``CovarianceKind.requires``); none for a plug-in without ``cov_kinds``."""
    return tuple(
        k
        for k in getattr(est, "cov_kinds", ())
        if k != "bootstrap" and not getattr(REGISTRY.get(k), "requires", ())
    )


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EstimatorSpec:
    """An estimator of the study: a registry name or import path, arguments and a label.

    Parameters
    ----------
    name : str
        Registry name (``ols``, ``gaussian_mle``, ``huber``, ``quantile``, ``lad``,
        ``bisquare``, ``mm``, ``student_t``) or the import path of any scikit-learn-style
        regressor, ``"package.module:Class"`` (:mod:`tailreg.simulation.plugins`).
    params : tuple of (name, value)
        Constructor keyword arguments.
    label : str, optional
        Name in the ``estimator`` column (default: ``name``).
    kinds : tuple of str, optional
        Covariance kinds whose standard errors are recorded (default: every kind of the
        estimator except ``bootstrap``; for a plug-in without ``cov_kinds``, the kinds of
        the ``result_`` of its probe fit, none without one).
    """

    name: str
    params: Params = ()
    label: str | None = None
    kinds: tuple[str, ...] | None = None

    @property
    def display(self) -> str:
        """The label, or the name."""
        return self.label or self.name

    @property
    def plugin(self) -> bool:
        """True for an import path (not a built-in name)."""
        return is_import_path(self.name)

    def build(self, where: str = "estimators") -> Any:
        """A new estimator; a bad argument is a ``ValueError`` naming ``where``."""
        params = dict(self.params)
        if self.plugin:
            est = make_plugin(self.name, params, where)
        else:
            try:
                est = ESTIMATORS[self.name](**params)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where} ({self.display}): {exc}") from exc
        check = getattr(est, "check_params", None)
        if callable(check):
            try:
                check()
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where} ({self.display}): {exc}") from exc
        return est

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "estimators") -> EstimatorSpec:
        """Build an estimator specification and validate it by constructing the estimator."""
        name = d.get("name")
        if not isinstance(name, str) or not (name in ESTIMATORS or is_import_path(name)):
            raise ValueError(
                f"{where}.name: unknown estimator {name!r}; choose from {list(ESTIMATORS)} "
                "or give an import path 'package.module:Class'"
            )
        label = _label(f"{where}.label", d.get("label"))
        kinds = d.get("kinds")
        if kinds is not None:
            if isinstance(kinds, str) or not isinstance(kinds, Sequence):
                raise ValueError(f"{where}.kinds must be a list of strings, got {kinds!r}")
            kinds = tuple(str(k) for k in kinds)
        params = tuple(
            sorted(
                (k, _freeze(f"{where}.{k}", v))
                for k, v in d.items()
                if k not in ("name", "label", "kinds")
            )
        )
        spec = cls(name, params, label, kinds)
        est = spec.build(where)
        available = getattr(est, "cov_kinds", None)
        if kinds is not None and available is not None:
            bad = [k for k in kinds if k not in available]
            if bad:
                raise ValueError(
                    f"{where}.kinds: {bad} not available for {name!r}; "
                    f"choose from {list(available)}"
                )
        return spec

    def probed(self, p_values: Sequence[int], where: str) -> EstimatorSpec:
        """Fit a plug-in once per regressor count to a probe data set; resolve its kinds.

        Built-in estimators are returned as they are. A plug-in without ``cov_kinds`` gets
        the kinds of its probe fit's ``result_`` (minus ``bootstrap``) when none are given.
        """
        if not self.plugin:
            return self
        est = None
        for p in sorted(set(p_values)):
            est = probe_fit(self.build(where), p, where)
        own = getattr(est, "cov_kinds", None)
        available = tuple(own) if own is not None else result_kinds(est)
        if self.kinds is None:
            if own is not None:
                return self
            return dataclasses.replace(self, kinds=tuple(k for k in available if k != "bootstrap"))
        bad = [k for k in self.kinds if k not in available]
        if bad:
            raise ValueError(
                f"{where}.kinds: {bad} not available for {self.name!r}; it has {list(available)}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of this estimator."""
        d: dict[str, Any] = {"name": self.name, **{k: _thaw(v) for k, v in self.params}}
        if self.label:
            d["label"] = self.label
        if self.kinds is not None:
            d["kinds"] = list(self.kinds)
        return d
