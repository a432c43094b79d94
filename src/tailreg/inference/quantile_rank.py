r"""Rank-inversion confidence intervals for linear quantile regression coefficients.

The interval for :math:`\beta_j(\tau)` collects the values :math:`b` that the regression
rank-score test of Gutenbrunner, Jurečková, Koenker & Portnoy (1993) does not reject
(Koenker 1994, "Confidence intervals for regression quantiles"; Koenker 2005, sec. 3.5).
For :math:`H_0: \beta_j = b`, regress :math:`y - b x_j` on the other columns
:math:`X_{-j}` at :math:`\tau`; with its rank scores :math:`\hat a_i(b) \in [0, 1]`,

.. math::
    T_n(b) = \frac{\sum_i x_{ij}\,(\hat a_i(b) - (1-\tau))}{\sqrt{q_j\,\tau(1-\tau)}},

rejected when :math:`|T_n(b)| \ge c`, with :math:`c = t_{n-k}(1-\alpha/2)` (or
:math:`z_{1-\alpha/2}`). Because the constraint :math:`X_{-j}^\top(\hat a - (1-\tau)) = 0`
holds, :math:`x_j` in the numerator may be replaced by any residual of :math:`x_j` on
:math:`X_{-j}`; only the scale differs between the two cases of R quantreg's ``rq.fit.br``:

``iid=True``
    :math:`q_j = 1 / [(X^\top X)^{-1}]_{jj}`, the residual sum of squares of :math:`x_j` on
    :math:`X_{-j}`.
``iid=False``
    :math:`q_j = \sum_i (x_{ij} - x_{i,-j}^\top \hat g)^2`, :math:`\hat g` the weighted least
    squares coefficients of :math:`x_j` on :math:`X_{-j}` with the Hendricks–Koenker density
    weights :math:`f_i = \max(\epsilon, 2h / (x_i^\top(\hat\beta(\tau+h) -
    \hat\beta(\tau-h)) - \epsilon))`, :math:`\epsilon = \epsilon_{mach}^{2/3}`, and ``hs``
    the Hall–Sheather bandwidth (quantreg always uses ``hs = TRUE`` here, whatever
    ``summary.rq``'s ``hs`` says; ``bandwidth="bofinger"`` is an extension).

:math:`T_n(b)` is a step function, monotone in :math:`b`, with jumps at kinks
:math:`\hat\beta_j = b_0, b_1, \dots` where the restricted fit's basis changes;
:func:`~._rank_simplex.rank_score_path` finds them exactly by a parametric dual-simplex walk
outward from the estimate. As in quantreg, each kink carries the statistic just beyond it,
:math:`T_m = T_n(b_m+)`; above the estimate the walk keeps the last accepted kink
:math:`(b_u, T_u)` and the first rejected one :math:`(b_U, T_U)` and reports

.. math::
    \text{upper} = b_u + |b_U - b_u| \frac{c - |T_u|}{|T_U - T_u|},

and symmetrically below (``rq.fit.br`` with ``interp = TRUE``). Before any kink is accepted
:math:`b_u = \hat\beta_j` with :math:`T_u = 0`; if the test never rejects, the side is
unbounded.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from .._validation import check_design, check_finite, check_in_range
from ..exceptions import ConvergenceWarning
from ._rank_simplex import Vertex, WalkError, rank_score_path, vertex_fit
from .quantile_cov import BANDWIDTHS
from .results import FitResult

__all__ = ["RankInterval", "rank_conf_int", "rank_conf_int_fitted", "rank_conf_int_frame"]

#: ``rq.fit.br``'s tolerance, ``.Machine$double.eps^(2/3)``, also its density floor
_EPS = float(np.finfo(float).eps ** (2.0 / 3.0))


@dataclasses.dataclass(frozen=True)
class RankInterval:
    """Rank-inversion confidence intervals, one per coefficient.

    Attributes
    ----------
    coef : ndarray (k,)
        The quantile regression estimate :math:`\\hat\\beta(\\tau)` (an exact vertex).
    lower, upper : ndarray (k,)
        Interpolated interval end points (``-inf``/``inf`` when the test never rejects on
        that side; R reports ``-/+ .Machine$double.xmax`` there).
    bounds : ndarray (4, k)
        Before interpolation, quantreg's rows "lower bd", "lower", "upper", "upper bd": the
        first rejected and last accepted kinks below the estimate, then the last accepted and
        first rejected kinks above it (``rq.fit.br(..., ci=TRUE, interp=FALSE)``).
    statistics : ndarray (4, k)
        The signed rank statistics :math:`T_n(b+)` belonging to ``bounds`` (quantreg's
        ``Tn``), 0 on the middle rows when the first kink already rejects.
    cutoff : float
        The critical value :math:`c`.
    unique : bool
        The point estimate is the unique optimum (quantreg warns "Solution may be nonunique"
        otherwise, and the interval then depends on which optimum is used).
    converged : bool
        The estimate was certified optimal and every walk ended; ``False`` leaves NaN (for
        every coefficient if the estimate is uncertified, else where a walk did not end).
    """

    coef: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    bounds: np.ndarray
    statistics: np.ndarray
    cutoff: float
    unique: bool
    converged: bool


def rank_conf_int(
    X: np.ndarray,
    y: np.ndarray,
    tau: float,
    *,
    level: float = 0.90,
    iid: bool = True,
    bandwidth: str = "hs",
    tcrit: bool = True,
) -> RankInterval:
    r"""Rank-inversion confidence intervals of quantile regression coefficients.

    Reproduces R quantreg's ``summary(rq(y ~ X, tau), se = "rank", iid = iid,
    alpha = 1 - level)``, i.e. ``rq.fit.br(X, y, tau, ci = TRUE, iid = iid)``, with the
    test statistic, critical value and interpolation described in the module docstring.

    Parameters
    ----------
    X : ndarray (n, k)
        Design matrix including the constant column; full column rank, ``n > k``.
    y : ndarray (n,)
    tau : float in (0, 1)
    level : float in (0, 1)
        Confidence level, ``1 - alpha`` (quantreg's default ``alpha = 0.1``).
    iid : bool
        Scale the statistic for i.i.d. errors (``True``) or with local density weights from
        the fits at :math:`\tau \pm h` (``False``); then :math:`0 < \tau - h` and
        :math:`\tau + h < 1` are required (quantreg fails there too).
    bandwidth : {"hs", "bofinger"}
        The :math:`h` of ``iid=False``; quantreg uses Hall–Sheather.
    tcrit : bool
        Critical value from Student's t with :math:`n - k` degrees of freedom (quantreg's
        default) or from the normal.

    Returns
    -------
    RankInterval

    Notes
    -----
    Cost: one certified vertex for the estimate (two more, at :math:`\tau \pm h`, for
    ``iid=False``), then per coefficient and side one exact parametric walk whose kinks each
    cost a :math:`k \times k` solve and :math:`O(nk)` vector work. A walk crosses about
    :math:`c\sqrt{n\tau(1-\tau)}` observations before the test rejects, so the total is
    :math:`O(k^2 n^{3/2})` (``benchmarks/bench_quantile_rank.py``: about 6-10 ms at n = 100
    and 0.05-0.14 s at n = 5000 for k = 3, against R's 0.4-1 ms and 0.07-0.18 s).

    When to use: quantreg's ``summary.rq`` defaults to these intervals for ``n < 1001``
    (otherwise to the ``nid`` sandwich). They need no sparsity estimate with ``iid=True``,
    are asymmetric where the data are, and keep their level in small samples where Wald
    intervals with an estimated density do not; but they give no covariance matrix (so no
    joint Wald tests), cost grows like :math:`n^{3/2}`, and they may be unbounded in small
    samples at extreme :math:`\tau`.

    For ``k = 1`` the interval is the classical order-statistic (sign-test) interval;
    quantreg computes no rank interval for a single regressor. Several residuals reaching
    zero at the same :math:`b` (tied or duplicated observations) are taken together, which
    gives the rank-score statistic of the restricted fit exactly; quantreg's ``rq.fit.br``
    takes them one at a time and on heavily tied data can report different intervals.

    References
    ----------
    Koenker, R. (1994). Confidence intervals for regression quantiles. In *Asymptotic
    Statistics*, Physica, 349–359. Koenker, R. (2005). *Quantile Regression*, sec. 3.5.
    """
    X, y = _check_inputs(X, y)
    tau = check_in_range("tau", tau, 0.0, 1.0)
    alpha = 1.0 - check_in_range("level", level, 0.0, 1.0)
    if bandwidth not in BANDWIDTHS:
        raise ValueError(f"bandwidth must be one of {sorted(BANDWIDTHS)}, got {bandwidth!r}")
    n, k = X.shape
    dist = stats.t(n - k) if tcrit else stats.norm()
    cutoff = float(dist.ppf(1.0 - alpha / 2.0))
    vertex = vertex_fit(X, y, tau)
    qn = _scale_iid(X) if iid else _scale_nid(X, y, tau, BANDWIDTHS[bandwidth](tau, n))
    if vertex.certified and not vertex.unique:
        warnings.warn("Solution may be nonunique", RuntimeWarning, stacklevel=2)
    bounds = np.full((4, k), np.nan)
    statistics = np.full((4, k), np.nan)
    converged = vertex.certified
    if converged:
        scale = np.sqrt(qn * tau * (1.0 - tau))
        for j in range(k):
            for rows, direction in (((2, 3), 1), ((1, 0), -1)):
                side = _side(X, y, tau, j, vertex, direction, scale[j], cutoff)
                if side is None:
                    converged = False
                    break
                bounds[rows, j], statistics[rows, j] = side
    if not converged:
        warnings.warn(
            "rank interval not computed: the quantile regression vertex could not be "
            "certified or a parametric walk did not end",
            ConvergenceWarning,
            stacklevel=2,
        )
    lower, upper = _interpolate(bounds, statistics, cutoff)
    return RankInterval(
        vertex.beta, lower, upper, bounds, statistics, cutoff, vertex.unique, converged
    )


def _check_inputs(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n, k), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    check_finite("X", X)
    check_finite("y", y)
    n, k = X.shape
    if n <= k:
        raise ValueError(f"need n > k, got n={n} rows for k={k} columns")
    check_design(X, [f"x{j}" for j in range(k)], min_extra_rows=1)
    return X, y


def _scale_iid(X: np.ndarray) -> np.ndarray:
    """:math:`q_j`: residual sum of squares of column j on the others (``1/diag((X'X)^-1)``)."""
    return np.array([_rss(np.delete(X, j, axis=1), X[:, j], None) for j in range(X.shape[1])])


def _scale_nid(X: np.ndarray, y: np.ndarray, tau: float, h: float) -> np.ndarray:
    """:math:`q_j` with Hendricks–Koenker density weights from the fits at tau +- h."""
    if not (tau - h > 0.0 and tau + h < 1.0):
        raise ValueError(
            f"iid=False needs 0 < tau - h and tau + h < 1, but tau={tau} and the bandwidth "
            f"h={h:.4g} for n={len(y)}: use iid=True, a larger sample or a tau nearer 0.5"
        )
    dyhat = X @ (vertex_fit(X, y, tau + h).beta - vertex_fit(X, y, tau - h).beta)
    if np.any(dyhat <= 0):
        warnings.warn(
            f"{100.0 * np.mean(dyhat <= 0):g} percent fis <= 0", RuntimeWarning, stacklevel=3
        )
    with np.errstate(divide="ignore"):
        f = np.maximum(_EPS, 2.0 * h / (dyhat - _EPS))
    return np.array([_rss(np.delete(X, j, axis=1), X[:, j], f) for j in range(X.shape[1])])


def _rss(Z: np.ndarray, x: np.ndarray, weights: np.ndarray | None) -> float:
    """Sum of squared (unweighted) residuals of the (weighted) least squares of x on Z."""
    w = np.ones_like(x) if weights is None else np.sqrt(weights)
    g = np.linalg.lstsq(Z * w[:, None], x * w, rcond=None)[0]
    r = x - Z @ g
    return float(r @ r)


def _side(X, y, tau, j, vertex: Vertex, direction, scale, cutoff):
    """``(b_in, b_out), (T_in, T_out)``: last accepted and first rejected kink on one side.

    Mirrors ``rq.fit.br``'s bookkeeping: before any kink is accepted ``b_in`` is the estimate
    with statistic 0; when the test never rejects both rows are ``direction * inf`` with the
    last statistic.
    """
    b_in, t_in = float(vertex.beta[j]), 0.0
    try:
        for b, s in rank_score_path(X, y, tau, j, vertex, direction):
            t = s / scale
            if abs(t) >= cutoff:
                return (b_in, b), (t_in, t)
            b_in, t_in = b, t
    except WalkError:
        return None
    return (direction * np.inf, direction * np.inf), (t_in, t_in)


def _interpolate(bounds: np.ndarray, tn: np.ndarray, cutoff: float):
    """quantreg's linear interpolation to :math:`|T_n| = c` between the kept kinks."""
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = bounds[2] + np.abs(bounds[3] - bounds[2]) * (cutoff - np.abs(tn[2])) / np.abs(
            tn[3] - tn[2]
        )
        lower = bounds[1] - np.abs(bounds[0] - bounds[1]) * (cutoff - np.abs(tn[1])) / np.abs(
            tn[0] - tn[1]
        )
    upper = np.where(np.isinf(bounds[2]), np.inf, upper)
    lower = np.where(np.isinf(bounds[1]), -np.inf, lower)
    return lower, upper


def rank_conf_int_frame(
    result: FitResult, *, level: float = 0.95, iid: bool = True, bandwidth: str = "hs"
) -> pd.DataFrame:
    """:func:`rank_conf_int` of a quantile regression fit, as a DataFrame.

    Parameters
    ----------
    result : FitResult
        A ``QuantileRegression`` result (``extra["tau"]``); the design and response are
        those its covariance kinds use (``cov_context.X`` and ``options["y"]``).
    level, iid, bandwidth
        As :func:`rank_conf_int` (``bandwidth`` is the estimator's; quantreg always uses
        Hall–Sheather, the default).

    Returns
    -------
    pandas.DataFrame
        Index the coefficient names, columns ``lower`` and ``upper`` (``-inf``/``inf`` for an
        unbounded side).
    """
    ctx = result.cov_context
    names = list(result.params.index)[: ctx.X.shape[1]]
    ri = rank_conf_int(
        ctx.X,
        np.asarray(ctx.options["y"]),
        float(result.extra["tau"]),
        level=level,
        iid=iid,
        bandwidth=bandwidth,
    )
    return pd.DataFrame({"lower": ri.lower, "upper": ri.upper}, index=pd.Index(names))


def rank_conf_int_fitted(estimator: Any, *, level: float = 0.95, iid: bool = True) -> pd.DataFrame:
    """:func:`rank_conf_int_frame` of a fitted ``QuantileRegression`` (its ``bandwidth``).

    Raises scikit-learn's ``NotFittedError`` before ``fit``.
    """
    check_is_fitted(estimator, "result_")
    return rank_conf_int_frame(
        estimator.result_, level=level, iid=iid, bandwidth=estimator.bandwidth
    )
