r"""Pseudo-true regression lines from a discretised population, for any error process.

Under skewed *and* heteroscedastic errors :math:`e = \sigma(x)u` the estimators target
different lines, and for losses whose location functional is not scale-equivariant (Huber,
bisquare, the Student-t likelihood) the target is not :math:`b_0 + aT + (\beta + bT)x`. It is
the solution of the estimator's defining equations in the population, computed here on a
discretised population: Gauss–Legendre nodes :math:`x_j` with weights :math:`w_j` for the
regressors times :math:`m` equal-probability strata of the error law (midpoint quantiles
:math:`u_k = F^{-1}((k + 1/2)/m)`), i.e. the points
:math:`(x_j, b_0 + x_j^\top\beta + \sigma(x_j)u_k)` with weights :math:`w_j/m`.

The fits, one per kind of estimator (:func:`population_line` picks by capability):

* :func:`least_squares_line` — weighted least squares (the mean line; a check of the
  discretisation, which must return the nominal line for mean-zero errors);
* :func:`quantile_line` — the conditional :math:`\tau`-quantile line: in closed form
  :math:`b_0 + aq_\tau + (\beta + bq_\tau)^\top x` when :math:`\sigma(x) = a + b^\top x`,
  otherwise the root of the population check-loss equations
  :math:`\sum_j w_j\tilde x_j[\tau - F((\tilde x_j^\top\theta - \mu_j)/\sigma_j)] = 0`
  (exact in :math:`u`: it uses the law's distribution function, not the strata);
* :func:`m_line` — M-regression by IRLS with the weighted MAD scale
  :math:`\operatorname{med}_w|r|/0.6745` re-estimated every step (MASS ``rlm``'s rule, as
  :class:`tailreg.Huber` and :class:`tailreg.Bisquare` with ``scale="mad"``), or a fixed scale;
* :func:`t_line` — the weighted Student-t log-likelihood maximised over the line, the scale
  and (unless fixed) the degrees of freedom.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ..losses import Huber, Loss, StudentT
from ._access import median, ppf
from .functional import MAD_CONSTANT

__all__ = [
    "Population",
    "discretise",
    "least_squares_line",
    "m_line",
    "population_line",
    "quantile_line",
    "t_line",
    "uniform_nodes",
    "weighted_median",
]


@dataclass(frozen=True, eq=False)
class Population:
    r"""A discretised population of :math:`y = b_0 + x^\top\beta + \sigma(x)u`.

    Attributes
    ----------
    X : ndarray (N, p)
        Regressors (without the intercept column) of the N = k m points.
    y : ndarray (N,)
    w : ndarray (N,)
        Probability weights (summing to 1 up to the x rule's rounding).
    law : object
        The law of :math:`u`.
    intercept : float
    beta : ndarray (p,)
    x_nodes : ndarray (k, p)
    x_weights : ndarray (k,)
    sigma : ndarray (k,)
        :math:`\sigma(x_j)`.
    affine_sigma : (a, b) or None
        :math:`\sigma(x) = a + b^\top x` on the nodes, when known exactly.
    """

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    law: Any
    intercept: float
    beta: np.ndarray
    x_nodes: np.ndarray
    x_weights: np.ndarray
    sigma: np.ndarray
    affine_sigma: tuple[float, np.ndarray] | None


def uniform_nodes(low: float, high: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes (n, 1) and probability weights (n,) of U(low, high)."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(f"need finite low < high, got {low!r}, {high!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    g, gw = np.polynomial.legendre.leggauss(int(n))
    x = low + (high - low) * (g + 1) / 2
    return x[:, None], gw / 2


def discretise(
    law: Any,
    x_nodes: np.ndarray,
    x_weights: np.ndarray,
    *,
    intercept: float,
    beta: Sequence[float] | np.ndarray,
    process: Any = None,
    u_strata: int = 2000,
) -> Population:
    r"""The discretised population of :math:`(x, b_0 + x^\top\beta + \sigma(x)u)`.

    Parameters
    ----------
    law : object
        Law of :math:`u` (vectorised ``ppf``; ``cdf``/``pdf`` for :func:`quantile_line`).
    x_nodes : ndarray (k, p) or (k,)
        Regressor nodes, e.g. from :func:`uniform_nodes`; ``x_weights`` their probabilities.
    intercept, beta
        The nominal line.
    process : object, optional
        The error model: ``None`` for i.i.d. errors (:math:`\sigma = 1`), or anything with
        ``scale(X) -> sigma`` (e.g. :class:`tailreg.processes.Heteroscedastic`), optionally
        with ``affine_coefficients(X)``. Processes without ``scale`` (AR(1)) have no
        population of independent rows and are refused.
    u_strata : int
        Number of equal-probability strata of the error law.
    """
    x = np.asarray(x_nodes, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    wx = np.asarray(x_weights, dtype=float)
    b = np.asarray(beta, dtype=float).reshape(-1)
    if x.ndim != 2 or wx.shape != (x.shape[0],) or b.shape != (x.shape[1],):
        raise ValueError(
            f"x_nodes (k, p) = {x.shape}, x_weights (k,) = {wx.shape} and beta (p,) = "
            f"{b.shape} do not fit together"
        )
    if isinstance(u_strata, bool) or not isinstance(u_strata, int | np.integer) or u_strata < 1:
        raise ValueError(f"u_strata must be a positive integer, got {u_strata!r}")
    affine: tuple[float, np.ndarray] | None
    if process is None:
        sig, affine = np.ones(x.shape[0]), (1.0, np.zeros(x.shape[1]))
    elif callable(getattr(process, "scale", None)):
        sig = np.asarray(process.scale(x), dtype=float)
        coef = getattr(process, "affine_coefficients", None)
        affine = coef(x) if callable(coef) else None
    else:
        raise ValueError(
            f"{process!r}: the population fit needs errors sigma(x) u independent across rows "
            "(a process with a scale(X) method, or None for i.i.d. errors)"
        )
    m = int(u_strata)
    u = np.asarray(law.ppf((np.arange(m) + 0.5) / m), float)
    xx = np.repeat(x, m, axis=0)
    # (xx * b).sum(axis=1), not xx @ b: exact products for one regressor, whatever the BLAS
    yy = intercept + (xx * b).sum(axis=1) + np.repeat(sig, m) * np.tile(u, x.shape[0])
    w = np.repeat(wx, m) / m
    return Population(xx, yy, w, law, float(intercept), b, x, wx, sig, affine)


def weighted_median(v: np.ndarray, w: np.ndarray) -> float:
    """The lower weighted median: the smallest ``v`` whose cumulative weight reaches 1/2."""
    o = np.argsort(v)
    cw = np.cumsum(w[o])
    return float(v[o][np.searchsorted(cw, 0.5 * cw[-1])])


def _design(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(X.shape[0]), X])


def _wls(A: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = np.sqrt(w)
    return np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]


def _residuals(pop: Population, coef: np.ndarray) -> np.ndarray:
    return pop.y - coef[0] - (pop.X * coef[1:]).sum(axis=1)


def least_squares_line(pop: Population) -> np.ndarray:
    """(intercept, slopes) of the weighted least-squares fit: the population mean line."""
    return _wls(_design(pop.X), pop.y, pop.w)


def quantile_line(pop: Population, tau: float = 0.5) -> np.ndarray:
    r"""(intercept, slopes) of the population :math:`\tau`-quantile regression.

    Closed form :math:`(b_0 + aq_\tau, \beta + bq_\tau)` when ``pop.affine_sigma`` is
    :math:`(a, b)` (:math:`q_\tau = F_u^{-1}(\tau)`, the law's ``median`` at 1/2); otherwise
    Newton's method on the population check-loss equations (see the module notes) from the
    weighted least-squares fit of the conditional quantiles.
    """
    tau = float(tau)
    if not 0.0 < tau < 1.0:
        raise ValueError(f"tau must lie in (0, 1), got {tau!r}")
    q = median(pop.law) if tau == 0.5 else ppf(pop.law, tau)
    if pop.affine_sigma is not None:
        a, b = pop.affine_sigma
        return np.concatenate([[pop.intercept + a * q], pop.beta + b * q])
    A = _design(pop.x_nodes)
    mu = pop.intercept + (pop.x_nodes * pop.beta).sum(axis=1)
    theta = _wls(A, mu + pop.sigma * q, pop.x_weights)

    def eq(th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = (A @ th - mu) / pop.sigma
        F = np.asarray(pop.law.cdf(z), dtype=float)
        f = np.asarray(pop.law.pdf(z), dtype=float) / pop.sigma
        return A.T @ (pop.x_weights * (tau - F)), -(A.T * (pop.x_weights * f)) @ A

    g, J = eq(theta)
    for _ in range(100):
        step = np.linalg.solve(J, -g)
        t = 1.0
        while True:  # halve the step until the equations' norm decreases
            g_new, J_new = eq(theta + t * step)
            if np.linalg.norm(g_new) < np.linalg.norm(g) or t < 1e-10:
                break
            t *= 0.5
        theta, g, J = theta + t * step, g_new, J_new
        if np.max(np.abs(t * step)) <= 1e-13 * max(1.0, np.max(np.abs(theta))):
            return theta
    warnings.warn("population quantile line did not converge", RuntimeWarning, stacklevel=2)
    return theta


def m_line(
    pop: Population,
    loss: Loss,
    scale: str | float = "mad",
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 2000,
) -> np.ndarray:
    r"""(intercept, slopes) of M-regression with ``loss`` on the population, by IRLS.

    ``scale="mad"``: the scale :math:`\operatorname{med}_w|r|/0.6744897501960817` is
    re-estimated from the residuals at every step (MASS ``rlm``'s rule); a float holds it
    fixed. Started at ``start`` (default: least squares, as the estimators start); stops when
    no coefficient moves by ``tol``, else warns.
    """
    if not (scale == "mad" or (isinstance(scale, int | float) and scale > 0)):
        raise ValueError(f'scale must be "mad" or a positive number, got {scale!r}')
    A = _design(pop.X)
    c = np.asarray(least_squares_line(pop) if start is None else start, float)
    for _ in range(max_iter):
        r = _residuals(pop, c)
        s = weighted_median(np.abs(r), pop.w) / MAD_CONSTANT if scale == "mad" else float(scale)
        new = _wls(A, pop.y, pop.w * loss.weight(r / s))
        if np.max(np.abs(new - c)) < tol:
            return new
        c = new
    warnings.warn("population IRLS did not converge", RuntimeWarning, stacklevel=2)
    return c


def t_line(
    pop: Population,
    df: float | None = None,
    *,
    df_bounds: tuple[float, float] = (0.1, 1000.0),
    start: np.ndarray | None = None,
    s0: float | None = None,
) -> np.ndarray:
    r"""(intercept, slopes) maximising the weighted Student-t log-likelihood.

    Over :math:`(b_0, \beta, \log\sigma)` and, when ``df`` is None, :math:`\log\nu` within
    ``df_bounds`` (from 5), by L-BFGS-B. Started at ``start`` and ``s0`` (default: the
    Huber(1.345) MAD line and the weighted MAD of its residuals).
    """
    if start is None:
        start = m_line(pop, Huber(1.345))
    start = np.asarray(start, float)
    if s0 is None:
        s0 = weighted_median(np.abs(_residuals(pop, start)), pop.w) / MAD_CONSTANT
    k = start.size
    fixed = df is not None

    def nll(th: np.ndarray) -> float:
        r = _residuals(pop, th[:k])
        s = math.exp(th[k])
        nu = float(df) if df is not None else math.exp(th[k + 1])
        return -float(pop.w @ (StudentT(nu).logpdf(r / s) - th[k]))

    th0 = [*start, math.log(s0)] + ([] if fixed else [math.log(5.0)])
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * (k + 1)
    if not fixed:
        bounds.append((math.log(df_bounds[0]), math.log(df_bounds[1])))
    res = optimize.minimize(
        nll,
        np.array(th0),
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000},
    )
    return res.x[:k]


def population_line(pop: Population, estimator: Any) -> np.ndarray:
    r"""The pseudo-true (intercept, slopes) of ``estimator`` on the population.

    Chosen by what the estimator states, never by its name:

    * a ``df`` attribute: a Student-t likelihood fit (:func:`t_line`; ``df`` None means
      estimated, within ``df_bounds`` when the estimator has them);
    * otherwise its ``loss`` (:attr:`tailreg.losses.Loss.functional`): ``"mean"`` —
      :func:`least_squares_line`; ``"quantile"`` — :func:`quantile_line` at ``loss.tau``;
      ``"m"`` — :func:`m_line` when its ``scale`` rule is ``"mad"`` or a number.

    Anything else (no loss, Huber's proposal 2, the S-scale of MM, ...) has no population fit
    here: NaN of length p + 1.
    """
    if hasattr(estimator, "df"):
        bounds = tuple(getattr(estimator, "df_bounds", (0.1, 1000.0)))
        return t_line(pop, estimator.df, df_bounds=bounds)
    loss = getattr(estimator, "loss", None)
    if isinstance(loss, Loss):
        if loss.functional == "mean":
            return least_squares_line(pop)
        if loss.functional == "quantile":
            return quantile_line(pop, loss.tau)  # type: ignore[attr-defined]
        rule = getattr(estimator, "scale", None)
        if rule == "mad" or (isinstance(rule, int | float) and not isinstance(rule, bool)):
            return m_line(pop, loss, rule)
    return np.full(pop.X.shape[1] + 1, np.nan)
