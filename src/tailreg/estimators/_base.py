"""The estimator base class: scikit-learn plumbing, input checks and ``fit_many``.

A concrete estimator declares its capabilities — covariance kinds, the name studies call it
by (``study_name``), its nuisance parameters (``nuisance_names``), what ``result_.objective``
holds (``objective_doc``), the reference distribution of its tests (``use_t``, ``use_t_doc``)
and its pseudo-true target (``target(law)``) — and implements two check-free array methods:

``_fit(X, y, names[, sample_weight]) -> FitResult``
    one fit; ``X`` (n, k) already holds the constant column and passed
    :func:`~tailreg._validation.check_design`; ``names`` are the k coefficient names.
    ``sample_weight`` is passed only when the caller gave weights, and only to estimators
    with ``supports_sample_weight = True``: a positive (n,) array (rows of weight 0 were
    dropped by :meth:`BaseRegressor.fit`).
``_fit_many(X, Y, names, kinds[, sample_weight]) -> ManyFits`` (optional)
    R fits at once; ``X`` is (n, k) shared or (R, n, k), ``Y`` is (R, n); weights, when
    given, are (n,) shared or (R, n), non-negative — a weight of 0 must act as if the row
    were absent (``fit_many`` equals ``fit`` per replication). The default loops over
    ``_fit``; the other estimators override it with vectorised code.

Observation weights are case (frequency) weights unless an estimator's docstring says
otherwise: an integer weight w counts the row w times. The covariance context then carries
them (``CovContext.weights``), the scores stay per-observation unit contributions and the
Jacobian is the weighted sum.

The numerics live in :mod:`tailreg.solvers`; an estimator holds configuration and assembles
its results through the two builders here, :meth:`BaseRegressor._result` (one fit) and
:meth:`BaseRegressor._many` (R fits, standard errors from
:func:`~tailreg.inference.covariance.standard_errors`).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._linalg import Design, full_rank
from .._optional import require
from .._typing import ArrayLike
from .._validation import (
    add_constant,
    check_design,
    check_finite,
    check_many,
    check_weights,
    default_names,
)
from ..exceptions import ConvergenceWarning
from ..inference.covariance import CovContext
from ..inference.results import FitResult, ManyFits
from ..losses import Loss
from ..prediction import predict_interval as _predict_interval
from ..theory import Target

__all__ = ["BaseRegressor"]

#: attributes :func:`~tailreg.formula.fit_formula` sets, dropped by a refit on arrays
_FORMULA_ATTRS = ("model_spec_", "n_dropped_", "groups_")


class BaseRegressor(RegressorMixin, BaseEstimator):
    """Common behaviour of tailreg's regression estimators (not used directly)."""

    #: covariance kinds the estimator supports; the first is the default
    _cov_kinds: ClassVar[tuple[str, ...]] = ()
    #: the name a study file uses for this estimator (``[[estimators]] name = ...``)
    study_name: ClassVar[str] = ""
    #: parameters after the coefficients in ``params``. Rule: they are named after the
    #: parametrisation of the error law the likelihood assumes — ``sigma2`` for
    #: :math:`N(0, \sigma^2)`, ``sigma`` (and ``df``) for :math:`\sigma t_\nu`; an estimator
    #: whose scale is not a parameter of its inference has none (its scale is ``result_.scale``)
    nuisance_names: ClassVar[tuple[str, ...]] = ()
    #: what ``result_.objective`` holds
    objective_doc: ClassVar[str] = ""
    #: Wald tests and intervals use Student t with ``n - k`` degrees of freedom (True) or the
    #: normal (False): ``result_.use_t``
    use_t: ClassVar[bool] = False
    #: why that reference distribution
    use_t_doc: ClassVar[str] = ""
    #: ``fit(X, y, sample_weight=w)`` is implemented (see the module notes for the meaning)
    supports_sample_weight: ClassVar[bool] = False
    #: rows needed beyond the number of coefficients (e.g. 1 when a scale is estimated)
    _min_extra_rows: ClassVar[int] = 0
    #: ``_fit`` checks the rank itself (from a factorisation it needs anyway, by
    #: :func:`~tailreg._validation.check_design` with ``r_factor``); ``fit`` then checks
    #: only the number of rows
    _checks_rank: ClassVar[bool] = False

    fit_intercept: bool

    # -- to implement -----------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate hyperparameters (called by ``fit``; raise ``ValueError`` naming the problem)."""

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        sample_weight: np.ndarray | None = None,
    ) -> FitResult:
        raise NotImplementedError

    @property
    def loss(self) -> Loss | None:
        """The loss whose estimating equations define the fit (None if there is no single one)."""
        return None

    def target(self, law: Any) -> Target | None:
        """The pseudo-true target at an i.i.d. error law, or None when the theory has none.

        Parameters
        ----------
        law : error law
            Anything :mod:`tailreg.theory` accepts (``pdf``, ``cdf``, ``ppf``, ...).

        Returns
        -------
        tailreg.theory.Target or None
            The location functional :math:`T(F)` the intercept converges to (shifted by it),
            with the asymptotic variances of the location and the slopes.
        """
        return None

    # -- public API -------------------------------------------------------------------
    @property
    def cov_kinds(self) -> tuple[str, ...]:
        """Covariance kinds the estimator supports (the first is the default)."""
        return tuple(self._cov_kinds)

    def check_params(self) -> None:
        """Validate the hyperparameters; raise ``ValueError`` naming the bad one."""
        self._check_params()

    @property
    def default_cov_kind(self) -> str:
        """The covariance kind ``result_`` uses unless told otherwise."""
        return self._cov_kinds[0]

    # -- result builders --------------------------------------------------------------
    def _result(
        self,
        params: Any,
        names: list[str],
        ctx: CovContext,
        *,
        scale: float,
        n_iter: int = 0,
        converged: bool = True,
        objective: float | None = None,
        loglik: float | None = None,
        k_params: int | None = None,
        extra: dict[str, Any] | None = None,
        resid: np.ndarray | None = None,
    ) -> FitResult:
        """The :class:`FitResult` of one fit on the (n, k) design ``ctx.X``.

        ``params`` are the coefficients, then any nuisance parameters, named by ``names``;
        the residuals are ``resid`` (default ``ctx.resid``: pass them when the context holds
        transformed residuals, e.g. weighted least squares' ``sqrt(w_i) r_i``). The
        covariance kinds, the default kind, the estimator's name and ``use_t`` come from
        the class.
        """
        n, k = ctx.X.shape
        return FitResult(
            params=pd.Series(params, index=_index(tuple(names)), name="coef"),
            cov_context=ctx,
            cov_kinds=self.cov_kinds,
            cov_kind=self.default_cov_kind,
            nobs=n,
            df_resid=n - k,
            scale=float(scale),
            n_iter=int(n_iter),
            converged=bool(converged),
            resid=ctx.resid if resid is None else resid,
            estimator=type(self).__name__,
            use_t=self.use_t,
            loglik=None if loglik is None else float(loglik),
            objective=None if objective is None else float(objective),
            k_params=k_params,
            extra=dict(extra or {}),
        )

    @staticmethod
    def _many(
        params: np.ndarray,
        names: list[str] | tuple[str, ...],
        n_coef: int,
        se: dict[str, np.ndarray],
        *,
        scale: np.ndarray,
        converged: np.ndarray,
        n_iter: np.ndarray,
    ) -> ManyFits:
        """The :class:`ManyFits` of R fits (``se`` from :func:`standard_errors` or per fit)."""
        return ManyFits(
            params=np.asarray(params, dtype=float),
            param_names=tuple(names),
            n_coef=int(n_coef),
            se=se,
            scale=np.asarray(scale, dtype=float),
            converged=np.array(converged, dtype=bool),
            n_iter=np.array(n_iter, dtype=int),
        )

    def _coef_names(self, p: int) -> list[str]:
        names = (
            [str(c) for c in self.feature_names_in_]
            if hasattr(self, "feature_names_in_")
            else default_names(p)
        )
        if self.fit_intercept and "const" in names:
            raise ValueError(
                "a column of X is named 'const', the name of the intercept that fit_intercept "
                "adds: rename the column, or drop it and keep fit_intercept=True (or set "
                "fit_intercept=False if it is the constant)"
            )
        return (["const"] if self.fit_intercept else []) + names

    def _checked_weights(self, sample_weight: Any, shape: tuple[int, ...]) -> np.ndarray | None:
        if sample_weight is None:
            return None
        if not self.supports_sample_weight:
            raise ValueError(
                f"{type(self).__name__} does not support sample_weight (yet); fit without it"
            )
        return check_weights(sample_weight, shape)

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> BaseRegressor:
        """Fit the model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
            Regressors, without a constant column (``fit_intercept`` adds it).
        y : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional
            Non-negative observation weights (what they mean is stated by each estimator;
            case weights by default). Rows of weight 0 are dropped: ``result_.nobs`` and
            ``result_.resid`` are those of the rows with positive weight.

        Returns
        -------
        self
            With ``coef_``, ``intercept_`` and the immutable ``result_``.
        """
        for stale in _FORMULA_ATTRS:  # a refit on arrays: the formula no longer describes it
            self.__dict__.pop(stale, None)
        Xa, ya = self._validate_xy(X, y)
        self._check_params()
        w = self._checked_weights(sample_weight, ya.shape)
        names = self._coef_names(Xa.shape[1])
        design = add_constant(Xa, self.fit_intercept)
        if w is not None and not np.all(w > 0):
            keep = w > 0
            design, ya, w = design[keep], ya[keep], w[keep]
        if self._checks_rank:
            _check_rows(design.shape[0], design.shape[1], self._min_extra_rows)
        else:
            check_design(design, names, min_extra_rows=self._min_extra_rows)
        if w is None:
            result = self._fit(design, ya, names)
        else:
            result = self._fit(design, ya, names, sample_weight=w)
        self.result_ = result
        beta = result.params.to_numpy()[: design.shape[1]]
        self.intercept_ = float(beta[0]) if self.fit_intercept else 0.0
        self.coef_ = beta[int(self.fit_intercept) :].copy()
        self.n_iter_ = result.n_iter
        return self

    def _validate_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's ``validate_data``, with a shortcut for finite float64 arrays.

        The shortcut does what ``validate_data`` does to such input (sets
        ``n_features_in_``, forgets ``feature_names_in_``) in a few microseconds instead of
        a few hundred; anything else — lists, DataFrames, other dtypes, NaN, wrong shapes —
        goes through scikit-learn and gets its checks and messages.
        """
        if (
            type(X) is np.ndarray
            and type(y) is np.ndarray
            and X.dtype == np.float64
            and y.dtype == np.float64
            and X.ndim == 2
            and y.ndim == 1
            and X.shape[0] == y.shape[0]
            and X.shape[0] >= 1
            and X.shape[1] >= 1
            and np.isfinite(X).all()
            and np.isfinite(y).all()
        ):
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            return X, y
        Xa, ya = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        return Xa, ya

    def _predict_design(self, X: Any) -> np.ndarray:
        """New regressors as an (m, p) array: through the formula for a formula fit."""
        check_is_fitted(self, "result_")
        if getattr(self, "model_spec_", None) is not None and isinstance(X, pd.DataFrame | Mapping):
            return require("tailreg.formula", "predict on a formula fit").design_for(self, X)
        return np.asarray(validate_data(self, X, reset=False, dtype=np.float64))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Fitted linear predictor :math:`\\hat\\beta_0 + X\\hat\\beta`.

        ``X`` are the regressors (without the constant); for an estimator fitted by
        :func:`~tailreg.formula.fit_formula`, a DataFrame of the *data* columns, to which
        the formula's transforms and categorical levels are applied
        (:func:`~tailreg.formula.design_for`).
        """
        Xa = self._predict_design(X)
        return Xa @ self.coef_ + self.intercept_

    def predict_interval(
        self,
        X: Any,
        level: float = 0.95,
        kind: str = "confidence",
        weights: ArrayLike | None = None,
    ) -> pd.DataFrame:
        """Confidence intervals of the fitted mean, or prediction intervals of new responses.

        See :func:`tailreg.prediction.predict_interval` for the methods (delta method under
        ``result_``'s current covariance; for ``kind="prediction"``, ``predict.lm``'s
        interval for OLS and the Gaussian MLE, the estimated error law otherwise).

        Returns
        -------
        DataFrame
            Columns ``mean``, ``se`` (of the mean), ``lower``, ``upper``; the index of ``X``
            when it is a DataFrame.
        """
        return _predict_interval(self, X, level=level, kind=kind, weights=weights)

    def fit_many(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        kinds: tuple[str, ...] | list[str] | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> ManyFits:
        """Fit R data sets at once.

        Parameters
        ----------
        X : ndarray (n, p) shared by all fits, or (R, n, p) one design per fit
            Regressors without the constant column.
        Y : ndarray (R, n), whatever X is
            One response per row: replications first, as a stacked X and as every output
            (R, q). A 1-D ``y`` (n,) is one fit (R = 1). A (n, R) array is rejected with a
            message saying to pass ``Y.T`` (unless n = R, where the shapes cannot tell).
        kinds : covariance kinds whose standard errors to return (default: the default kind)
        sample_weight : ndarray (n,) shared or (R, n), optional
            Non-negative observation weights, as in :meth:`fit` (a weight of 0 acts as if the
            row were absent).

        Returns
        -------
        ManyFits
            Coefficients (R, p + fit_intercept) first in ``params``, standard errors per
            kind (NaN for a fit where a kind cannot be computed), scale, convergence flags
            and iteration counts.
        """
        self._check_params()
        Xa = np.asarray(X, dtype=float)
        Ya = np.asarray(Y, dtype=float)
        check_finite("X", Xa)
        check_finite("Y", Ya)
        # C order whatever the caller's layout: the products (hence the last bits) then do
        # not depend on it
        Ya = np.ascontiguousarray(check_many(Xa, Ya))
        W = self._checked_weights(sample_weight, Ya.shape)
        names = (["const"] if self.fit_intercept else []) + default_names(Xa.shape[-1])
        design = add_constant(Xa, self.fit_intercept)
        kinds = (self.default_cov_kind,) if kinds is None else tuple(kinds)
        for kind in kinds:
            if kind not in self._cov_kinds:
                raise ValueError(
                    f"covariance kind {kind!r} is not available for {type(self).__name__}; "
                    f"choose from {list(self._cov_kinds)}"
                )
        if design.ndim == 2 and (W is None or W.ndim == 1):
            # one design for every fit: a rank-deficient one is an error for all of them
            rows = design if W is None else design[W > 0]
            check_design(rows, names, min_extra_rows=self._min_extra_rows)
            return self._call_fit_many(design, Ya, names, kinds, W)
        _check_rows(design.shape[-2], len(names), self._min_extra_rows)
        good = self._usable_replications(design, W)
        if good.all():
            return self._call_fit_many(design, Ya, names, kinds, W)
        bad = int((~good).sum())
        if not good.any():
            raise ValueError(
                f"every one of the {good.size} replications has a rank-deficient design "
                f"(or too few rows with positive weight) for {', '.join(names)}"
            )
        warnings.warn(
            f"{type(self).__name__}.fit_many: {bad} of {good.size} replications have a "
            "rank-deficient design (or too few rows with positive weight); their rows are "
            "NaN with converged=False",
            ConvergenceWarning,
            stacklevel=2,
        )
        idx = np.flatnonzero(good)
        sub = self._call_fit_many(
            design if design.ndim == 2 else design[idx],
            Ya[idx],
            names,
            kinds,
            None if W is None else (W if W.ndim == 1 else W[idx]),
        )
        return _scatter(sub, idx, good.size)

    def _call_fit_many(
        self,
        design: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        W: np.ndarray | None,
    ) -> ManyFits:
        if W is None:
            return self._fit_many(design, Y, names, kinds)
        return self._fit_many(design, Y, names, kinds, sample_weight=W)

    def _usable_replications(self, design: np.ndarray, W: np.ndarray | None) -> np.ndarray:
        """Replications whose design (rows of positive weight) has full column rank and
        enough rows: the column-scaled rank test of every stacked design."""
        n, k = design.shape[-2:]
        need = max(k + self._min_extra_rows, 2)
        R = design.shape[0] if design.ndim == 3 else W.shape[0]  # type: ignore[union-attr]
        enough = np.full(R, n >= need) if W is None else (W > 0).sum(axis=-1) >= need
        return enough & full_rank(design, W)

    def _fit_many(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        names: list[str],
        kinds: tuple[str, ...],
        sample_weight: np.ndarray | None = None,
    ) -> ManyFits:
        """Fallback: one ``_fit`` per replication.

        A failed fit gives NaN and converged=False; a kind that cannot be computed for a fit
        gives NaN there (the NaN policy of :func:`~tailreg.inference.covariance.standard_errors`).
        """
        R = Y.shape[0]
        design = Design(X)
        results: list[FitResult | None] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for r in range(R):
                try:
                    results.append(self._fit_one(design.row(r), Y[r], names, sample_weight, r))
                except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                    results.append(None)
        q = next((len(res.params) for res in results if res is not None), X.shape[-1])
        params = np.full((R, q), np.nan)
        se = {kind: np.full((R, q), np.nan) for kind in kinds}
        scale = np.full(R, np.nan)
        converged = np.zeros(R, dtype=bool)
        n_iter = np.zeros(R, dtype=int)
        param_names: tuple[str, ...] = tuple(names)
        for r, res in enumerate(results):
            if res is None:
                continue
            param_names = tuple(res.params.index)
            params[r] = res.params.to_numpy()
            for kind in kinds:
                # a kind that cannot be computed for this fit leaves NaN
                with contextlib.suppress(ValueError, np.linalg.LinAlgError):
                    se[kind][r] = res.bse(kind).to_numpy()
            scale[r] = res.scale
            converged[r] = res.converged
            n_iter[r] = res.n_iter
        _warn_unconverged(type(self).__name__, converged)
        return self._many(
            params, param_names, X.shape[-1], se, scale=scale, converged=converged, n_iter=n_iter
        )

    def _fit_one(
        self, X: np.ndarray, y: np.ndarray, names: list[str], w: np.ndarray | None, r: int
    ) -> FitResult:
        """Replication ``r`` of the fallback: its weights (zeros dropped), or none."""
        if w is None:
            return self._fit(X, y, names)
        wr = w if w.ndim == 1 else w[r]
        keep = wr > 0
        return self._fit(X[keep], y[keep], names, sample_weight=wr[keep])


@functools.lru_cache(maxsize=512)
def _index(names: tuple[str, ...]) -> pd.Index:
    """The (immutable) parameter index, built once per set of names: pandas spends more time
    constructing a string index than OLS spends fitting at n = 1000."""
    return pd.Index(names)


def _check_rows(n: int, k: int, extra: int) -> None:
    if n < k + extra or n < 2:
        raise ValueError(
            f"too few rows: n_samples={n} but the model has {k} coefficient(s); "
            f"need at least {max(k + extra, 2)} rows"
        )


def _scatter(sub: ManyFits, idx: np.ndarray, R: int) -> ManyFits:
    """The ManyFits of R replications from those of the replications ``idx``: NaN elsewhere."""

    def full(a: np.ndarray, fill: Any) -> np.ndarray:
        out = np.full((R, *a.shape[1:]), fill, dtype=a.dtype)
        out[idx] = a
        return out

    return ManyFits(
        params=full(sub.params, np.nan),
        param_names=sub.param_names,
        n_coef=sub.n_coef,
        se={kind: full(v, np.nan) for kind, v in sub.se.items()},
        scale=full(sub.scale, np.nan),
        converged=full(sub.converged, False),
        n_iter=full(sub.n_iter, 0),
    )


def _warn_unconverged(name: str, converged: np.ndarray) -> None:
    bad = int((~converged).sum())
    if bad:
        warnings.warn(
            f"{name}: {bad} of {converged.size} fits did not converge (converged=False)",
            ConvergenceWarning,
            stacklevel=3,
        )
