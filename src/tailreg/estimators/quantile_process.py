r"""The quantile regression process: :math:`\hat\beta(\tau)` on a grid of quantiles.

As R quantreg's ``rq(y ~ x, tau = taus)`` with ``plot(summary(...))`` and ``anova(...)``:
one :class:`~tailreg.estimators.quantile.QuantileRegression` fit per :math:`\tau`, solved
together (:func:`~tailreg.solvers.quantile_path.solve_quantile_path`: one full problem, the
others preprocessed from their neighbour's solution), with predictions that can be rearranged
into monotone quantile curves, coefficient-vs-:math:`\tau` plots, the equal-slopes Wald test
and rank-inversion intervals per :math:`\tau`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._optional import require
from .._typing import ArrayLike
from .._validation import SeedLike, add_constant, check_design, default_names
from ..exceptions import ConvergenceWarning
from ..inference.quantile_rank import rank_conf_int_frame
from ..inference.quantile_tests import equal_slopes_wald
from ..inference.results import FitResult
from ..solvers.quantile_lp import QuantileSolution, check_solver
from ..solvers.quantile_path import solve_quantile_path
from .ols import OLS
from .quantile import QuantileRegression

__all__ = ["GRID", "QuantileProcess"]

#: ``taus="grid"``: 0.05, 0.10, ..., 0.95 (R's ``tau = 1:19/20``)
GRID = tuple(j / 20 for j in range(1, 20))


def _resolve_taus(taus: Any) -> np.ndarray:
    """The sorted quantile grid; ``"grid"`` is :data:`GRID`, an integer m is ``(1..m)/(m+1)``."""
    if isinstance(taus, str):
        if taus != "grid":
            raise ValueError(f'taus must be "grid", an integer m >= 2 or quantiles, got {taus!r}')
        return np.array(GRID)
    if isinstance(taus, Integral) and not isinstance(taus, bool):
        if taus < 1:
            raise ValueError(f"an integer taus is the grid size m >= 1, got {taus}")
        return np.arange(1, int(taus) + 1) / (int(taus) + 1)
    arr = np.asarray(taus, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"taus must be a non-empty 1-D sequence of quantiles, got {taus!r}")
    if not np.all((arr > 0.0) & (arr < 1.0)):
        raise ValueError(f"every tau must lie in (0, 1), got {arr.tolist()}")
    arr = np.sort(arr)
    if np.any(np.diff(arr) == 0.0):
        raise ValueError(f"taus must be distinct, got {np.asarray(taus).tolist()}")
    return arr


class QuantileProcess(RegressorMixin, BaseEstimator):
    r"""Linear quantile regression at several quantiles at once (R ``rq(tau = taus)``).

    Parameters
    ----------
    taus : sequence of floats in (0, 1), ``"grid"`` or int, default (0.1, 0.25, 0.5, 0.75, 0.9)
        The quantiles (sorted). ``"grid"`` is 0.05, 0.10, ..., 0.95 (R's ``1:19/20``); an
        integer m the m-point grid :math:`j/(m+1)`, :math:`j = 1..m`.
    solver : {"interior-point", "highs"}, default "interior-point"
        Solver of the full problems (see Notes).
    cov : str, default "nid"
        Default covariance kind of every ``results_[tau]`` (a kind of
        :class:`~tailreg.estimators.quantile.QuantileRegression`); the ``plot`` bands use it.
    fit_intercept : bool, default True
    bandwidth, n_boot, random_state
        As :class:`~tailreg.estimators.quantile.QuantileRegression`, for each :math:`\tau`.

    Attributes
    ----------
    taus_ : ndarray
        The fitted quantiles, increasing.
    coef_ : pandas.DataFrame
        Rows :math:`\tau` (index ``tau``), columns the coefficient names (``const`` and the
        feature names, taken from a DataFrame ``X``).
    results_ : mapping tau -> FitResult
        Each exactly what ``QuantileRegression(tau=tau, ...).fit(X, y).result_`` holds
        (read-only mapping; the results are immutable).
    reused_ : ndarray of bool
        Which quantiles were solved from their neighbour (preprocessed) rather than whole.

    Notes
    -----
    Work reuse: the design is factored once; the :math:`\tau` nearest 1/2 is solved whole by
    ``solver`` (the single fit's own path), and each next :math:`\tau` outward is solved on a
    band of :math:`0.4((k+1)n)^{2/3}` observations around the hyperplane predicted by the
    neighbouring solution(s), the others held at their known signs (Portnoy & Koenker 1997
    preprocessing), then certified optimal on the full data by the exact vertex polish. So
    every coefficient vector is the certified optimal vertex a single fit returns (identical
    when the optimum is unique; a :math:`\tau` that cannot be certified is fitted whole).
    ``benchmarks/bench_quantile_process.py`` measures it against a loop of single fits.

    With ``sample_weight``, every :math:`\tau` is fitted by ``QuantileRegression.fit`` with
    the weights (no reuse); estimators without weight support raise as it does.
    """

    def __init__(
        self,
        taus: Any = (0.1, 0.25, 0.5, 0.75, 0.9),
        solver: str = "interior-point",
        cov: str = "nid",
        fit_intercept: bool = True,
        bandwidth: str = "hs",
        n_boot: int = 200,
        random_state: SeedLike = None,
    ) -> None:
        self.taus = taus
        self.solver = solver
        self.cov = cov
        self.fit_intercept = fit_intercept
        self.bandwidth = bandwidth
        self.n_boot = n_boot
        self.random_state = random_state

    def _estimator(self, tau: float) -> QuantileRegression:
        return QuantileRegression(
            tau=float(tau),
            solver=self.solver,
            fit_intercept=self.fit_intercept,
            bandwidth=self.bandwidth,
            n_boot=self.n_boot,
            random_state=self.random_state,
        )

    def _check_params(self) -> np.ndarray:
        taus = _resolve_taus(self.taus)
        check_solver(self.solver)
        probe = self._estimator(float(taus[0]))
        probe.check_params()
        if self.cov not in probe.cov_kinds:
            raise ValueError(f"cov must be one of {list(probe.cov_kinds)}, got {self.cov!r}")
        return taus

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> QuantileProcess:
        """Fit every quantile.

        Parameters
        ----------
        X : array-like or DataFrame (n, p)
            Regressors without the constant column.
        y : array-like (n,)
        sample_weight : array-like (n,), optional
            Passed to each ``QuantileRegression.fit``.

        Returns
        -------
        self
        """
        Xa, ya = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        taus = self._check_params()
        p = Xa.shape[1]
        names = [str(c) for c in getattr(self, "feature_names_in_", default_names(p))]
        names = (["const"] if self.fit_intercept else []) + names
        Xin = pd.DataFrame(Xa, columns=names[int(self.fit_intercept) :])
        if sample_weight is not None:
            self._estimator(0.5)._checked_weights(sample_weight, ya.shape)  # raises if unsupported
            fits = [self._estimator(t).fit(Xin, ya, sample_weight=sample_weight) for t in taus]
            results = [f.result_ for f in fits]
            reused = np.zeros(taus.size, dtype=bool)
        else:
            design = add_constant(Xa, self.fit_intercept)
            check_design(design, names)
            sols, used = solve_quantile_path(design, ya, taus, self.solver)
            results = [
                self._result(design, ya, names, float(t), s)
                for t, s in zip(taus, sols, strict=True)
            ]
            reused = np.array(used, dtype=bool)
        results = [r if r.cov_kind == self.cov else r.with_cov(self.cov) for r in results]
        self.taus_ = taus
        self.results_: Mapping[float, FitResult] = MappingProxyType(
            {float(t): r for t, r in zip(taus, results, strict=True)}
        )
        coef = np.array([r.params.to_numpy()[: len(names)] for r in results])
        self.coef_ = pd.DataFrame(coef, index=pd.Index(taus, name="tau"), columns=names)
        self.reused_ = reused
        return self

    def _result(
        self, X: np.ndarray, y: np.ndarray, names: list[str], tau: float, sol: QuantileSolution
    ) -> FitResult:
        """The result ``QuantileRegression._fit`` builds, from an already solved vertex."""
        est = self._estimator(tau)
        if not sol.converged:
            warnings.warn(
                f"{type(self).__name__}: the LP optimum at tau={tau} was not reached "
                "(converged=False)",
                ConvergenceWarning,
                stacklevel=3,
            )
        return est._solved_result(X, y, names, sol)

    def predict(self, X: ArrayLike, rearrange: bool = False) -> np.ndarray:
        r"""Fitted conditional quantiles, (n, n_taus), one column per :math:`\tau`.

        ``rearrange=True`` sorts each row: the monotone rearrangement of the estimated
        quantile curve :math:`\tau \mapsto x^\top\hat\beta(\tau)` on the grid (Chernozhukov,
        Fernández-Val & Galichon 2010), which removes quantile crossing and is never farther
        from a monotone true curve (in any :math:`L^p` norm on the grid).
        """
        check_is_fitted(self, "results_")
        Xa = validate_data(self, X, reset=False, dtype=np.float64)
        pred = add_constant(Xa, self.fit_intercept) @ self.coef_.to_numpy().T
        return np.sort(pred, axis=1) if rearrange else pred

    # -- inference --------------------------------------------------------------------
    def _slopes(self, params: Sequence[str] | str | None) -> list[str]:
        check_is_fitted(self, "results_")
        if params is None:
            return [c for c in self.coef_.columns if not (self.fit_intercept and c == "const")]
        return [params] if isinstance(params, str) else list(params)

    def test_equal_slopes(
        self, params: Sequence[str] | str | None = None, joint: bool = True
    ) -> pd.DataFrame:
        """Koenker–Bassett Wald test of equal coefficients across the fitted quantiles.

        As ``anova(rq(y ~ x, tau = taus), test = "Wald", joint = joint)``: the joint ``nid``
        covariance across quantiles (whatever ``cov`` is, as quantreg), see
        :func:`~tailreg.inference.quantile_tests.equal_slopes_wald`.

        Parameters
        ----------
        params : str or sequence of str, optional
            Coefficients to test; default every slope (the intercept excluded).
        joint : bool
            One joint F test, or one per coefficient.

        Returns
        -------
        pandas.DataFrame
            ``statistic``, ``df_num``, ``df_denom``, ``pvalue`` per test.
        """
        names = self._slopes(params)
        return equal_slopes_wald([self.results_[float(t)] for t in self.taus_], names, joint=joint)

    def rank_conf_int(self, level: float = 0.95, iid: bool = True) -> pd.DataFrame:
        """Rank-inversion intervals (Koenker 1994) at every :math:`\\tau`.

        ``QuantileRegression.rank_conf_int`` per quantile; rows (tau, parameter), columns
        ``lower``, ``upper``. Cost and use: see
        :func:`~tailreg.inference.quantile_rank.rank_conf_int`.
        """
        check_is_fitted(self, "results_")
        frames = {
            float(t): rank_conf_int_frame(
                self.results_[float(t)], level=level, iid=iid, bandwidth=self.bandwidth
            )
            for t in self.taus_
        }
        return pd.concat(frames, names=["tau", "param"])

    # -- figure -----------------------------------------------------------------------
    def plot(
        self, params: Sequence[str] | str | None = None, level: float = 0.90, ols: bool = True
    ):
        r"""Coefficients against :math:`\tau` with pointwise bands (quantreg ``plot.summary.rqs``).

        One panel per coefficient: :math:`\hat\beta_j(\tau)` (line with markers, its data
        equal to ``coef_[j]``) and the pointwise ``level`` Wald band from each fit's ``cov``
        kind (t with n - k df); with ``ols=True`` the least-squares estimate (solid
        horizontal line) and its ``level`` interval (dashed), as quantreg draws them.

        Parameters
        ----------
        params : str or sequence of str, optional
            Coefficients to draw (default all, the intercept included, as quantreg).
        level : float in (0, 1)
        ols : bool

        Returns
        -------
        matplotlib.figure.Figure
            Not registered with pyplot (save it with ``fig.savefig``, or show it in a
            notebook by leaving it as a cell's value).
        """
        check_is_fitted(self, "results_")
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must lie in (0, 1), got {level!r}")
        names = list(self.coef_.columns) if params is None else self._slopes(params)
        unknown = [p for p in names if p not in self.coef_.columns]
        if unknown:
            raise ValueError(f"unknown params {unknown}; choose from {list(self.coef_.columns)}")
        alpha = 1.0 - level
        bands = [self.results_[float(t)].conf_int(alpha=alpha) for t in self.taus_]
        ols_ci = self._ols_interval(alpha) if ols else None
        ncol = min(3, len(names))
        nrow = math.ceil(len(names) / ncol)
        # a Figure outside pyplot: no global state, no backend chosen for the caller
        figure = require("matplotlib.figure", "QuantileProcess.plot")
        fig = figure.Figure(figsize=(4.0 * ncol, 3.2 * nrow))
        axes = fig.subplots(nrow, ncol, squeeze=False)
        flat = axes.ravel()
        for ax in flat[len(names) :]:
            fig.delaxes(ax)
        for ax, name in zip(flat, names, strict=False):
            lo = np.array([b.loc[name].iloc[0] for b in bands])
            hi = np.array([b.loc[name].iloc[1] for b in bands])
            ax.fill_between(self.taus_, lo, hi, color="0.8", label=f"{level:.0%} band")
            ax.plot(self.taus_, self.coef_[name].to_numpy(), "o-", color="k", ms=3, label="rq")
            if ols_ci is not None:
                est, olo, ohi = ols_ci.loc[name]
                ax.axhline(est, color="tab:red", label="OLS")
                ax.axhline(olo, color="tab:red", ls="--")
                ax.axhline(ohi, color="tab:red", ls="--")
            ax.set_title(name)
            ax.set_xlabel(r"$\tau$")
        flat[0].legend(fontsize="small")
        fig.tight_layout()
        return fig

    def _ols_interval(self, alpha: float) -> pd.DataFrame:
        """OLS estimate and its (1 - alpha) interval per coefficient, on the fitted rows."""
        ctx = next(iter(self.results_.values())).cov_context
        names = list(self.coef_.columns)
        fit = OLS(fit_intercept=False).fit(pd.DataFrame(ctx.X, columns=names), ctx.options["y"])
        ci = fit.result_.conf_int(alpha=alpha)
        return pd.DataFrame(
            {"estimate": fit.result_.params[names], "lower": ci.iloc[:, 0], "upper": ci.iloc[:, 1]}
        ).loc[names]
