"""Immutable fit results shared by every estimator.

A :class:`FitResult` holds the estimates and what the covariance strategies need; each
covariance kind is computed on first request and memoised. :meth:`FitResult.with_cov`
returns a new result with another default kind, leaving the original untouched.
:class:`ManyFits` is the array counterpart returned by ``fit_many``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .covariance import CovContext, covariance

__all__ = ["FitResult", "ManyFits"]


@dataclass(frozen=True, eq=False)
class FitResult:
    """Estimates and inference of one fit.

    Attributes
    ----------
    params : pandas.Series
        Estimates, ``const`` first, then the regressors, then any nuisance parameters
        (``sigma2``, ``sigma``, ``df``).
    cov_kind : str
        Default covariance kind used when ``kind=None``.
    cov_kinds : tuple of str
        Kinds this estimator supports.
    nobs, df_resid : int
        Number of observations and residual degrees of freedom ``n - k``.
    scale : float
        The fit's scale (OLS: residual standard error; robust fits: the robust scale;
        likelihood fits: the MLE of sigma).
    n_iter : int
        Iterations used (0 for closed forms).
    converged : bool
        False when the iterative solver stopped before its tolerance.
    resid : ndarray
        Residuals ``y - X beta``.
    estimator : str
        Name of the estimator that produced the result.
    use_t : bool
        Use Student-t (``df_resid``) rather than normal reference distributions.
    loglik : float or None
        Maximised log-likelihood of likelihood estimators.
    objective : float or None
        Minimised objective (e.g. :math:`\\sum\\rho_\\tau(r_i)` for quantile regression).
    k_params : int or None
        Free parameters counted by ``aic``/``bic`` (default ``len(params)``).
    extra : mapping
        Estimator-specific values (``tau``, ``df``, ...).
    """

    params: pd.Series
    cov_context: CovContext = field(repr=False)
    cov_kinds: tuple[str, ...]
    cov_kind: str
    nobs: int
    df_resid: int
    scale: float
    n_iter: int
    converged: bool
    resid: np.ndarray = field(repr=False)
    estimator: str = ""
    use_t: bool = False
    loglik: float | None = None
    objective: float | None = None
    k_params: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._check_kind(self.cov_kind)

    # -- covariance -------------------------------------------------------------------
    def _check_kind(self, kind: str) -> str:
        if kind not in self.cov_kinds:
            raise ValueError(
                f"covariance kind {kind!r} is not available for {self.estimator or 'this fit'}; "
                f"choose one of {list(self.cov_kinds)}"
            )
        return kind

    def _cov_array(self, kind: str | None) -> np.ndarray:
        kind = self._check_kind(self.cov_kind if kind is None else kind)
        if kind not in self._cache:
            self._cache[kind] = np.asarray(covariance(kind, self.cov_context), dtype=float)
        return self._cache[kind]

    def cov(self, kind: str | None = None) -> pd.DataFrame:
        """Covariance matrix of ``params`` under ``kind`` (default: ``cov_kind``)."""
        names = self.params.index
        return pd.DataFrame(self._cov_array(kind), index=names, columns=names)

    def bse(self, kind: str | None = None) -> pd.Series:
        """Standard errors, the square roots of the covariance diagonal."""
        se = np.sqrt(np.diag(self._cov_array(kind)))
        return pd.Series(se, index=self.params.index, name="std err")

    def with_cov(self, kind: str) -> FitResult:
        """A new result whose default covariance kind is ``kind`` (memoised kinds are shared)."""
        return dataclasses.replace(self, cov_kind=self._check_kind(kind), _cache=self._cache)

    # -- tests and intervals ----------------------------------------------------------
    def _reference(self) -> Any:
        return stats.t(self.df_resid) if self.use_t else stats.norm()

    def tvalues(self, kind: str | None = None) -> pd.Series:
        """Wald statistics ``params / bse`` (z or t)."""
        return (self.params / self.bse(kind)).rename("t" if self.use_t else "z")

    def pvalues(self, kind: str | None = None) -> pd.Series:
        """Two-sided p-values of ``params = 0``."""
        t = self.tvalues(kind)
        return pd.Series(2.0 * self._reference().sf(np.abs(t.to_numpy())), index=t.index)

    def conf_int(self, alpha: float = 0.05, kind: str | None = None) -> pd.DataFrame:
        """``1 - alpha`` Wald confidence intervals (columns ``lower``, ``upper``)."""
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
        q = self._reference().ppf(1.0 - alpha / 2.0)
        se = self.bse(kind)
        return pd.DataFrame({"lower": self.params - q * se, "upper": self.params + q * se})

    def summary(self, kind: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficient table: coef, std err, z or t, p-value and confidence bounds."""
        stat = "t" if self.use_t else "z"
        ci = self.conf_int(alpha, kind)
        return pd.DataFrame(
            {
                "coef": self.params,
                "std err": self.bse(kind),
                stat: self.tvalues(kind),
                f"P>|{stat}|": self.pvalues(kind),
                f"[{alpha / 2:g}": ci["lower"],
                f"{1 - alpha / 2:g}]": ci["upper"],
            }
        )

    # -- likelihood -------------------------------------------------------------------
    def _need_loglik(self) -> float:
        if self.loglik is None:
            raise AttributeError(f"{self.estimator or 'this fit'} is not a likelihood fit")
        return self.loglik

    @property
    def aic(self) -> float:
        """Akaike information criterion :math:`-2\\ell + 2k` (k counts sigma, as R's AIC)."""
        k = len(self.params) if self.k_params is None else self.k_params
        return -2.0 * self._need_loglik() + 2.0 * k

    @property
    def bic(self) -> float:
        """Schwarz criterion :math:`-2\\ell + k\\log n`."""
        k = len(self.params) if self.k_params is None else self.k_params
        return -2.0 * self._need_loglik() + np.log(self.nobs) * k


@dataclass(frozen=True)
class ManyFits:
    """Results of ``fit_many``: R fits as arrays (no per-fit objects).

    Attributes
    ----------
    params : ndarray (R, q)
        Estimates; the first ``n_coef`` columns are the regression coefficients.
    param_names : tuple of str
    n_coef : int
        Number of regression coefficients (``p + fit_intercept``).
    se : dict of str to ndarray (R, q)
        Standard errors per covariance kind requested.
    scale : ndarray (R,)
    converged : ndarray of bool (R,)
    n_iter : ndarray of int (R,)
    """

    params: np.ndarray
    param_names: tuple[str, ...]
    n_coef: int
    se: dict[str, np.ndarray]
    scale: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray

    @property
    def coef(self) -> np.ndarray:
        """Regression coefficients (R, p + fit_intercept), intercept first."""
        return self.params[:, : self.n_coef]

    def __len__(self) -> int:
        return self.params.shape[0]
