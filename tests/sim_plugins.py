"""Estimators and error laws that tailreg has never heard of, for the open-study tests.

Studies name them by import path (``"sim_plugins:MedianInterceptOLS"``); nothing in
``src/`` refers to this module.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from tailreg import OLS
from tailreg.distributions import StudentT
from tailreg.theory import Target


class MedianInterceptOLS:
    """Least-squares slopes, intercept moved to the median of the least-squares residuals.

    A scikit-learn-style regressor with no ``fit_many`` and no ``result_``. Its intercept
    converges to :math:`b_0 + \\mathrm{median}(F)` and its slopes are OLS's, with
    :math:`n\\operatorname{Var} \\to \\operatorname{Var}(e)(M^{-1})_{jj}`.
    """

    def __init__(self, fail_above: float = math.inf) -> None:
        self.fail_above = fail_above

    def get_params(self, deep: bool = True) -> dict:
        return {"fail_above": self.fail_above}

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if y[0] > self.fail_above:
            raise RuntimeError(f"y[0] = {y[0]:.3f} is above {self.fail_above}")
        Z = np.column_stack([np.ones(len(y)), X])
        beta = np.linalg.lstsq(Z, y, rcond=None)[0]
        self.coef_ = beta[1:]
        self.intercept_ = float(np.median(y - X @ beta[1:]))
        return self

    def target(self, law) -> Target:
        """Intercept: the law's median (variance unknown here); slopes: OLS's variance."""
        return Target(
            location=float(law.median()), avar=math.nan, avar_slopes=float(law.var()), kind="m"
        )


class NoTheoryOLS(MedianInterceptOLS):
    """The same fit with a theory that fails."""

    def target(self, law) -> Target:
        raise ValueError("no closed form for this law")


class WarningOLS(OLS):
    """OLS (tailreg-style, batched ``fit_many``) that warns once per ``fit_many`` call."""

    def fit_many(self, X, Y, kinds=None):
        warnings.warn("fit_many was called", UserWarning, stacklevel=2)
        return super().fit_many(X, Y, kinds)


class BrokenFit(MedianInterceptOLS):
    """A regressor whose fit always raises."""

    def fit(self, X, y):
        raise RuntimeError("this estimator cannot fit anything")


class WrongShape(MedianInterceptOLS):
    """A regressor whose coef_ has the wrong shape."""

    def fit(self, X, y):
        super().fit(X, y)
        self.coef_ = np.zeros(7)
        return self


def gumbel(loc: float = 0.0):
    """A factory returning a frozen scipy distribution."""
    return stats.gumbel_r(loc=loc)


def student(df: float = 3.0):
    """A factory returning a tailreg error law."""
    return StudentT(df)


def not_a_law():
    """A factory returning something that is not a law."""
    return 3
