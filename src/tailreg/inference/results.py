"""Immutable fit results shared by every estimator.

A :class:`FitResult` holds the estimates and what the covariance strategies need; each
covariance kind (with its options) is computed on first request and memoised.
:meth:`FitResult.with_cov` returns a new result with another default kind and options,
leaving the original untouched. Nothing inside a result can be edited in place: its arrays
are read-only views, and ``params`` (a pandas object, which copy-on-write would let an
assignment rewrite) is a fresh copy at every access. :class:`ManyFits` is the array
counterpart returned by ``fit_many``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..reporting import summary_text as _summary_text
from . import hypothesis
from .covariance import REGISTRY, CovContext, covariance

__all__ = ["FitResult", "FrozenMapping", "ManyFits", "read_only"]


def read_only(value: Any) -> Any:
    """A read-only view of an ndarray (its base is untouched), or ``value`` itself.

    A view whose base is writeable could be made writeable again by its holder; that is the
    caller's own array (e.g. the ``X`` of a fit without intercept), never one a result hands out.
    """
    if isinstance(value, np.ndarray) and value.flags.writeable:
        view = value.view()
        view.flags.writeable = False
        return view
    return value


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping: arrays are read-only views, pandas objects are copied on access.

    Used for ``FitResult.extra`` and ``FitResult.cov_options``; picklable, compares equal to a
    dict with the same items.
    """

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = {
            k: tuple(v) if isinstance(v, list) else read_only(v) for k, v in (data or {}).items()
        }

    def __getitem__(self, key: str) -> Any:
        v = self._data[key]
        return v.copy() if isinstance(v, pd.Series | pd.DataFrame | pd.Index) else v

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"


class _CopiedSeries:
    """Dataclass field descriptor: stores a private copy, hands out a fresh copy.

    pandas >= 3 is copy-on-write, so a read-only backing array does not stop
    ``result.params.iloc[0] = 0`` from rewriting the Series object; a copy per access does.
    """

    def __init__(self, name: str) -> None:
        self._name = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> pd.Series:
        if obj is None:
            return self  # class access: the descriptor
        return getattr(obj, self._name).copy()

    def __set__(self, obj: Any, value: pd.Series) -> None:
        object.__setattr__(obj, self._name, pd.Series(value, copy=True))


def read_only_series(series: pd.Series) -> pd.Series:
    """``series`` backed by a read-only array (copies of it are writeable again)."""
    values = np.array(series.to_numpy(), copy=True)
    values.flags.writeable = False
    return pd.Series(values, index=series.index, name=series.name, copy=False)


def _frozen_context(ctx: CovContext) -> CovContext:
    """``ctx`` with read-only views of its arrays (and of the arrays in its options)."""
    changes = {
        name: read_only(getattr(ctx, name))
        for name in ("X", "resid", "scores", "jacobian", "weights", "gram_inv")
        if isinstance(getattr(ctx, name), np.ndarray)
    }
    if isinstance(ctx.scale, np.ndarray):
        changes["scale"] = read_only(ctx.scale)
    changes["options"] = {k: read_only(v) for k, v in ctx.options.items()}
    return dataclasses.replace(ctx, **changes)


def _option_key(options: Mapping[str, Any]) -> tuple:
    """A hashable key of resolved options (arrays by shape, dtype and bytes)."""
    items = []
    for k in sorted(options):
        v = options[k]
        if isinstance(v, np.ndarray):
            v = ("ndarray", v.shape, v.dtype.str, np.ascontiguousarray(v).tobytes())
        items.append((k, v))
    return tuple(items)


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
        Estimator-specific values (``tau``, ``df``, ``groups``, ``sample_weight``, ...),
        read-only.
    cov_options : mapping
        The options of the default covariance kind, as given to :meth:`with_cov` (empty by
        default; options the kind takes from ``extra``, e.g. the formula's ``groups``, are
        not repeated here), read-only.
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
    cov_options: Mapping[str, Any] = field(default_factory=dict)
    _cache: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._check_kind(self.cov_kind)
        self._freeze()
        if self.cov_options:
            self._resolve(self.cov_kind, self.cov_options)  # check them now, not at first use

    def _freeze(self) -> None:
        """Read-only views of every array, frozen mappings (also after unpickling)."""
        object.__setattr__(self, "resid", read_only(self.resid))
        object.__setattr__(self, "cov_context", _frozen_context(self.cov_context))
        for name in ("extra", "cov_options"):
            value = getattr(self, name)
            if not isinstance(value, FrozenMapping):
                object.__setattr__(self, name, FrozenMapping(value))
        object.__setattr__(self, "_params", read_only_series(self.__dict__["_params"]))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._freeze()

    # -- covariance -------------------------------------------------------------------
    def _check_kind(self, kind: str) -> str:
        if kind not in self.cov_kinds:
            raise ValueError(
                f"covariance kind {kind!r} is not available for {self.estimator or 'this fit'}; "
                f"choose one of {list(self.cov_kinds)}"
            )
        return kind

    def _resolve(self, kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """The checked options of ``kind``: the caller's, then defaults from ``extra``."""
        strategy = REGISTRY[kind]
        given = dict(options)
        unknown = [key for key in given if key not in strategy.options]
        if unknown:  # before anything from extra is added, so the message names the caller's
            strategy.check_options(given, self.cov_context)
        for opt, key in strategy.options_from_extra.items():
            if given.get(opt) is None and self.extra.get(key) is not None:
                given[opt] = self.extra[key]
        if not given and not strategy.requires:
            return {}
        return strategy.check_options(given, self.cov_context)

    def _cov_array(self, kind: str | None, options: Mapping[str, Any] | None = None) -> np.ndarray:
        use = self.cov_kind if kind is None else kind
        use = self._check_kind(use)
        given = {**(self.cov_options if use == self.cov_kind else {}), **(options or {})}
        resolved = self._resolve(use, given)
        key: Any = use if not resolved else (use, _option_key(resolved))
        if key not in self._cache:
            V = np.array(covariance(use, self.cov_context, resolved or None), dtype=float)
            V.flags.writeable = False
            self._cache[key] = V
        return self._cache[key]

    def cov(self, kind: str | None = None, **options: Any) -> pd.DataFrame:
        """Covariance matrix of ``params`` under ``kind`` (default: ``cov_kind``) and options.

        ``options`` are the kind's (``CovarianceKind.options``, e.g. ``maxlags=`` for
        ``"HAC"``, ``groups=`` for ``"cluster"``); for the default kind they extend
        :attr:`cov_options`. The frame is a copy.
        """
        names = self.params.index
        return pd.DataFrame(self._cov_array(kind, options), index=names, columns=names, copy=True)

    def bse(self, kind: str | None = None, **options: Any) -> pd.Series:
        """Standard errors, the square roots of the covariance diagonal (options as :meth:`cov`)."""
        se = np.sqrt(np.diag(self._cov_array(kind, options)))
        return pd.Series(se, index=self.params.index, name="std err")

    def with_cov(self, kind: str, **options: Any) -> FitResult:
        """A new result whose default covariance is ``kind`` with ``options``.

        The options are checked now: an unknown one is a ``ValueError`` naming those the
        kind accepts (``CovarianceKind.options``), a bad value (e.g. ``maxlags >= n``) a
        ``ValueError`` saying why. Memoised covariances are shared with this result.

        Examples
        --------
        >>> import numpy as np
        >>> from tailreg import Huber
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((60, 1))
        >>> y = 1 + X[:, 0] + rng.standard_t(3, 60)
        >>> res = Huber().fit(X, y).result_.with_cov("HAC", maxlags=2)
        >>> res.cov_kind, dict(res.cov_options)
        ('HAC', {'maxlags': 2})
        """
        kind = self._check_kind(kind)
        checked = self._resolve(kind, options)
        kept = {k: checked[k] for k in options if k in checked}
        return dataclasses.replace(
            self, cov_kind=kind, cov_options=FrozenMapping(kept), _cache=self._cache
        )

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

    # -- linear hypotheses ------------------------------------------------------------
    def _test_inputs(
        self, constraints: Any, kind: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, dict[str, Any]]:
        params = self.params
        R, q = hypothesis.constraint_matrix(constraints, list(params.index))
        use = self.cov_kind if kind is None else self._check_kind(kind)
        V = self._cov_array(use)
        options = dict(self.cov_options) if use == self.cov_kind else {}
        return params.to_numpy(), V, R, q, use, options

    def wald_test(self, constraints: Any, kind: str | None = None) -> hypothesis.WaldTest:
        """Joint Wald test of linear restrictions under the result's covariance.

        Parameters
        ----------
        constraints : str, (R, q) or R
            ``"x1 = 0, x2 = x3"`` (linear equations in the names of ``params``, e.g.
            ``"2*x1 - x2 = 1"``), or arrays: ``R`` (m, len(params)) and ``q`` (m,).
        kind : covariance kind (default: ``cov_kind`` with ``cov_options``)

        Returns
        -------
        WaldTest
            ``statistic`` (F = W/m on (m, df_resid) when ``use_t``, else chi-square W on m),
            ``df``, ``pvalue``, ``distribution``; see :mod:`tailreg.inference.hypothesis`.
        """
        theta, V, R, q, use, options = self._test_inputs(constraints, kind)
        return hypothesis.wald_test(
            theta,
            V,
            R,
            q,
            df_resid=self.df_resid if self.use_t else None,
            cov_kind=use,
            cov_options=options,
        )

    def t_test(
        self, constraints: Any, kind: str | None = None, alpha: float = 0.05
    ) -> hypothesis.TTest:
        r"""t (``use_t``) or z tests of single linear combinations, e.g. ``"x1 - x2 = 0"``.

        One test per equation (or row of ``R``): estimate :math:`r^\top\hat\theta`, its
        standard error :math:`(r^\top V r)^{1/2}`, the statistic
        :math:`(r^\top\hat\theta - q)/se`, the two-sided p-value and the ``1 - alpha``
        interval; ``constraints`` and ``kind`` as in :meth:`wald_test`.
        """
        theta, V, R, q, use, _ = self._test_inputs(constraints, kind)
        return hypothesis.t_test(
            theta,
            V,
            R,
            q,
            df_resid=self.df_resid if self.use_t else None,
            alpha=alpha,
            cov_kind=use,
        )

    # -- presentation -----------------------------------------------------------------
    def summary_text(self, kind: str | None = None, alpha: float = 0.05, digits: int = 4) -> str:
        """A statsmodels-style text summary: the fit's facts (estimator, nobs, scale,
        covariance kind with its options, convergence, weights and clusters) above the
        coefficient table (:func:`tailreg.reporting.summary_text`)."""
        return _summary_text(self, kind=kind, alpha=alpha, digits=digits)

    def __str__(self) -> str:
        return self.summary_text()

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


# installed after the dataclass is built, so that ``params`` stays a plain required field for
# the generated ``__init__`` (a data descriptor on the class intercepts its assignment there)
FitResult.params = _CopiedSeries("params")


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
