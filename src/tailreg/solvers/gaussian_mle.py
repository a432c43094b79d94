r"""The Gaussian linear model by maximum likelihood: the likelihood maximised directly.

Least squares *is* the Gaussian MLE of :math:`\beta`. This module reaches the same point by a
separate road — maximising

.. math::
    \ell(\beta, \sigma) = -\frac n2\log(2\pi\sigma^2)
        - \frac{1}{2\sigma^2}\sum_i (y_i - x_i^\top\beta)^2

jointly over :math:`(\beta, \log\sigma)` with a Newton-type optimiser (:func:`fit_gaussian`;
:func:`fit_gaussian_many` for R fits at once) — so that the equivalence "OLS = Gaussian MLE"
is checked by two code paths rather than assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._linalg import EinsumDesign
from .._typing import BoolArray, FloatArray, IntArray

__all__ = [
    "PERFECT_FIT_MESSAGE",
    "GaussianFit",
    "GaussianManyFit",
    "Standardised",
    "fit_gaussian",
    "fit_gaussian_many",
    "gaussian_scores_information",
]

_LOG_2PI = np.log(2.0 * np.pi)
PERFECT_FIT_MESSAGE = (
    "perfect fit: residual variance is zero, the Gaussian likelihood is unbounded "
    "(y is an exact linear function of X)"
)
#: Newton steps polishing the optimiser's answer (quadratic convergence: 2 reach rounding level)
_POLISH_STEPS = 3
#: back-tracking halvings allowed per batched Newton step
_MAX_HALVINGS = 40


def gaussian_scores_information(
    X: np.ndarray,
    resid: np.ndarray,
    sigma2: np.ndarray | float,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-observation scores and observed information of :math:`\theta = (\beta, \sigma^2)`.

    With :math:`r_i = y_i - x_i^\top\beta`,

    .. math::
        s_i = \left(\frac{x_i r_i}{\sigma^2},\;
              -\frac{1}{2\sigma^2} + \frac{r_i^2}{2\sigma^4}\right), \qquad
        J = -\sum_i \frac{\partial s_i}{\partial\theta^\top} =
        \begin{pmatrix} X^\top X/\sigma^2 & X^\top r/\sigma^4 \\
                        r^\top X/\sigma^4 & -n/(2\sigma^4) + \sum r_i^2/\sigma^6
        \end{pmatrix},

    which at the MLE (:math:`X^\top r = 0`, :math:`\sigma^2 = RSS/n`) is
    :math:`\operatorname{diag}(X^\top X/\sigma^2,\ n/(2\sigma^4))`.

    Parameters
    ----------
    X : ndarray (n, k) shared or (R, n, k)
    resid : ndarray (n,) or (R, n)
    sigma2 : float or ndarray (R,)
    weights : ndarray (n,) or (R, n), optional
        Observation weights of the weighted log-likelihood: the scores stay per-observation
        (unit) contributions, the information is the weighted sum (:math:`X^\top WX/\sigma^2`,
        :math:`-\sum w_i/(2\sigma^4) + \sum w_ir_i^2/\sigma^6`, ...).

    Returns
    -------
    scores : ndarray (..., n, k + 1)
    information : ndarray (..., k + 1, k + 1)
    """
    resid = np.asarray(resid, dtype=float)
    s2 = np.asarray(sigma2, dtype=float)
    n, k = X.shape[-2:]
    batch = np.broadcast_shapes(X.shape[:-2], resid.shape[:-1], s2.shape)
    s2n = s2[..., None]  # (..., 1) against the n axis
    scores = np.empty((*batch, n, k + 1))
    scores[..., :k] = X * (resid / s2n)[..., None]
    scores[..., k] = -0.5 / s2n + 0.5 * resid**2 / s2n**2
    info = np.empty((*batch, k + 1, k + 1))
    s2m = s2[..., None, None]
    if weights is None:
        info[..., :k, :k] = np.swapaxes(X, -1, -2) @ X / s2m
        cross = np.einsum("...ij,...i->...j", X, resid) / s2n**2
        rss = (resid**2).sum(axis=-1)
        n_w: float | np.ndarray = n
    else:
        w = np.asarray(weights, dtype=float)
        info[..., :k, :k] = np.einsum("...ij,...i,...ik->...jk", X, w, X) / s2m
        cross = np.einsum("...ij,...i->...j", X, w * resid) / s2n**2
        rss = (w * resid**2).sum(axis=-1)
        n_w = w.sum(axis=-1)
    info[..., :k, k] = cross
    info[..., k, :k] = cross
    info[..., k, k] = -0.5 * n_w / s2**2 + rss / s2**3
    return scores, info


class Standardised:
    r"""The problem in standardised coordinates, where one Newton method fits every data set.

    When the design has a constant column, the other regressors are centred and scaled to
    unit standard deviation and the response centred and scaled likewise; without one,
    columns and response are only scaled to unit root mean square. This affine change of
    coordinates leaves the MLE equivariant (it maps back exactly) but removes the
    intercept--regressor collinearity that otherwise slows the optimisers to a crawl
    (a regressor with mean 1e5 and sd 1 makes :math:`X^\top X` condition ~1e20).

    Batched: ``X`` (n, k) shared or (R, n, k); ``Y`` (R, n).
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray) -> None:
        first = X[..., :1, :]
        self.const = np.all(first == X, axis=-2) & (first[..., 0, :] != 0)  # (..., k)
        has_const = self.const.any(axis=-1, keepdims=True)
        self.m = np.where(has_const & ~self.const, X.mean(axis=-2), 0.0)
        sd = np.sqrt(np.mean((X - self.m[..., None, :]) ** 2, axis=-2))
        # a zero-variance column (rank deficiency in one replication of a stacked design)
        # keeps s = 1 and is caught as a perfect fit below
        self.s = np.where(self.const, first[..., 0, :], np.where(sd > 0, sd, 1.0))
        self.Z = (X - self.m[..., None, :]) / self.s[..., None, :]
        self.mu = np.where(np.broadcast_to(has_const[..., 0], Y.shape[:-1]), Y.mean(axis=-1), 0.0)
        Yc = Y - self.mu[:, None]
        self.c = np.sqrt(np.mean(Yc * Yc, axis=-1))  # (R,)
        self.degenerate = self.c == 0
        self.V = Yc / np.where(self.degenerate, 1.0, self.c)[:, None]

    def beta(self, b: np.ndarray) -> np.ndarray:
        """Coefficients on the original scale (R, k) from standardised ones ``b`` (R, k)."""
        beta = self.c[:, None] * b / self.s
        shift = self.mu - np.sum(self.m * beta, axis=-1)
        return beta + shift[:, None] * self.const / self.s

    def perfect_fit(self) -> np.ndarray:
        """True where the response is (to rounding) an exact linear function of X (R,).

        Decided by the smallest singular value of the augmented matrix ``[Z, v]``, with
        the relative tolerance of the design's rank check: an exact-fit test that does not
        solve the least-squares problem.
        """
        n, k = self.Z.shape[-2:]
        Zb = np.broadcast_to(self.Z, (*self.V.shape[:-1], n, k))
        sv = np.linalg.svd(np.concatenate([Zb, self.V[..., None]], axis=-1), compute_uv=False)
        tiny = sv[..., -1] <= 10.0 * max(n, k + 1) * np.finfo(float).eps * sv[..., 0]
        return self.degenerate | tiny


@dataclass(frozen=True)
class GaussianFit:
    r"""One fit of :func:`fit_gaussian`.

    Attributes
    ----------
    beta : ndarray (k,)
    sigma2, loglik : float
        The MLE :math:`\hat\sigma^2 = RSS/n` and the maximised log-likelihood.
    resid : ndarray (n,)
    n_iter : int
        Trust-region iterations plus Newton polish steps.
    converged : bool
        The Newton decrement of :math:`-\ell/n` met ``tol``.
    why : str
        Why it did not converge ("" when it did).
    """

    beta: FloatArray
    sigma2: float
    loglik: float
    resid: FloatArray
    n_iter: int
    converged: bool
    why: str


class _Objective:
    """Standardised negative log-likelihood per observation (constants dropped).

    :math:`f(b, \\eta) = \\eta + \\lVert v - Zb\rVert^2 e^{-2\\eta}/(2n)`, with its gradient and
    Hessian.
    """

    def __init__(self, Z: FloatArray, v: FloatArray, n_eff: float | None = None) -> None:
        self.Z, self.v = Z, v
        self.n, self.k = Z.shape
        if n_eff is not None:  # weighted: rows scaled by sqrt(w), n replaced by sum(w)
            self.n = n_eff
        self.zz = Z.T @ Z

    def parts(self, theta: FloatArray) -> tuple[FloatArray, float, float]:
        k = self.k
        b, eta = theta[:k], theta[k]
        r = self.v - self.Z @ b
        w = np.exp(-2.0 * eta) / self.n
        return r, w, float(r @ r)

    def fun(self, theta: FloatArray) -> float:
        _, w, rss = self.parts(theta)
        return float(theta[self.k] + 0.5 * rss * w)

    def jac(self, theta: FloatArray) -> FloatArray:
        r, w, rss = self.parts(theta)
        return np.append(-w * (self.Z.T @ r), 1.0 - w * rss)

    def hess(self, theta: FloatArray) -> FloatArray:
        k = self.k
        r, w, rss = self.parts(theta)
        h = np.empty((k + 1, k + 1))
        h[:k, :k] = w * self.zz
        h[:k, k] = h[k, :k] = 2.0 * w * (self.Z.T @ r)
        h[k, k] = 2.0 * w * rss
        return h


def _polish(f: _Objective, theta: FloatArray, tol: float) -> tuple[FloatArray, int, float]:
    """Newton steps from ``theta``; returns the point, the steps taken and the last decrement.

    Convergence is judged by the Newton decrement :math:`\\lambda^2 = g^\top H^{-1}g`, which is
    affine invariant: a gradient test is not (in near-perfect fits rounding alone puts
    :math:`|g| \\sim \\epsilon/\\sigma^2` at the optimum).
    """
    decrement = np.inf
    steps = 0
    for _ in range(_POLISH_STEPS):
        g = f.jac(theta)
        try:
            step = -np.linalg.solve(f.hess(theta), g)
        except np.linalg.LinAlgError:
            break
        decrement = float(-g @ step)
        if not decrement >= 0:  # Hessian not positive definite here
            decrement = np.inf
            break
        theta = theta + step
        steps += 1
        if decrement <= (1e-3 * tol) ** 2:
            break
    return theta, steps, decrement


def fit_gaussian(
    X: FloatArray,
    y: FloatArray,
    *,
    tol: float,
    max_iter: int,
    weights: FloatArray | None = None,
) -> GaussianFit:
    r"""The Gaussian MLE of one data set: scipy's ``trust-exact``, then Newton polish steps.

    In the standardised coordinates of :class:`Standardised`, from the crude start
    :math:`\beta = 0`. Raises ``ValueError`` for a perfect fit (unbounded likelihood).
    With positive ``weights`` the weighted log-likelihood
    :math:`\sum_i w_i\log\phi_\sigma(r_i)` is maximised: the rows are scaled by
    :math:`\sqrt{w_i}` and n becomes :math:`\sum_i w_i` (so :math:`\hat\beta` is weighted least
    squares and :math:`\hat\sigma^2 = \sum w_ir_i^2/\sum w_i`).
    """
    n, k = X.shape
    n_w = float(n) if weights is None else float(weights.sum())
    if weights is not None:
        sw = np.sqrt(weights)
        std = Standardised(sw[:, None] * X, (sw * y)[None, :])
    else:
        std = Standardised(X, y[None, :])
    if std.perfect_fit()[0]:
        raise ValueError(PERFECT_FIT_MESSAGE)
    v, c = std.V[0], float(std.c[0])
    f = _Objective(std.Z, v, None if weights is None else n_w)
    # crude start: beta = 0 with the sigma that goes with it (unit, by the scaling)
    theta0 = np.zeros(k + 1)
    theta0[k] = 0.5 * np.log(np.mean(v * v) if weights is None else float(v @ v) / n_w)
    res = optimize.minimize(
        f.fun,
        theta0,
        jac=f.jac,
        hess=f.hess,
        method="trust-exact",
        options={"gtol": tol, "maxiter": int(max_iter)},
    )
    theta, n_iter = res.x, int(res.nit)
    decrement = np.inf
    # skipped when the iteration budget ran out, so that max_iter means what it says
    if res.status != 1 and np.all(np.isfinite(theta)):
        theta, steps, decrement = _polish(f, theta, tol)
        n_iter += steps
    converged = bool(np.all(np.isfinite(theta)) and np.sqrt(decrement) <= tol)
    why = ""
    if not converged:
        why = (
            f"stopped at max_iter={max_iter}"
            if res.status == 1
            else f"Newton decrement {np.sqrt(decrement):.3g} > tol={tol:g}; {res.message}"
        )
    beta = std.beta(theta[None, :k])[0]
    sigma2 = c * c * np.exp(2.0 * theta[k])
    resid = y - X @ beta
    rss = float(resid @ resid) if weights is None else float(weights @ resid**2)
    loglik = -0.5 * n_w * (_LOG_2PI + np.log(sigma2)) - 0.5 * rss / sigma2
    return GaussianFit(beta, float(sigma2), float(loglik), resid, n_iter, converged, why)


@dataclass(frozen=True)
class GaussianManyFit:
    """R fits of :func:`fit_gaussian_many` (NaN and ``converged=False`` for perfect fits).

    Attributes
    ----------
    beta : ndarray (R, k)
    sigma2 : ndarray (R,)
    converged : ndarray of bool (R,)
    n_iter : ndarray of int (R,)
    perfect : ndarray of bool (R,)
        The response is an exact linear function of the design.
    """

    beta: FloatArray
    sigma2: FloatArray
    converged: BoolArray
    n_iter: IntArray
    perfect: BoolArray


def fit_gaussian_many(
    X: FloatArray,
    Y: FloatArray,
    *,
    tol: float,
    max_iter: int,
    weights: FloatArray | None = None,
) -> GaussianManyFit:
    r"""Batched Newton on the joint likelihood, all R replications in stacked arrays.

    Uses Olsen's (1978) reparametrisation :math:`\gamma = \beta/\sigma`,
    :math:`\tau = 1/\sigma`, in which the negative log-likelihood
    :math:`-n\log\tau + \tfrac12\lVert\tau v - Z\gamma\rVert^2` is strictly convex, so
    Newton with back-tracking converges from the crude start :math:`\gamma = 0` for every
    replication at once; the loop runs over iterations, never over R. (One function: the
    iteration's state is a handful of arrays updated together.)
    """
    R = Y.shape[0]
    k = X.shape[-1]
    if weights is None:
        n: float | np.ndarray = float(X.shape[-2])
    else:
        # weighted log-likelihood: rows scaled by sqrt(w) (a weight of 0 removes the row),
        # n replaced by sum(w) in the likelihood
        sw = np.sqrt(weights)
        X = sw[..., None] * X
        Y = sw * Y
        n = weights.sum(axis=-1)
    std = Standardised(X, Y)
    Z, V, c = std.Z, std.V, std.c
    des = EinsumDesign(Z)
    bad = std.perfect_fit()

    zz = np.swapaxes(Z, -1, -2) @ Z  # (k, k) or (R, k, k)
    zv = des.tdot(V)  # (R, k)
    vv = np.einsum("rn,rn->r", V, V)

    def nll(gam, tau):
        e = tau[:, None] * V - des.fitted(gam)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -n * np.log(tau) + 0.5 * np.einsum("rn,rn->r", e, e)

    gam = np.zeros((R, k))
    tau = np.ones(R)  # sigma = 1 is the scale that goes with beta = 0 (unit-RMS v)
    f = nll(gam, tau)
    active = ~bad
    converged = np.zeros(R, dtype=bool)
    n_iter = np.zeros(R, dtype=int)
    hess = np.empty((R, k + 1, k + 1))
    hess[:, :k, :k] = zz
    for _ in range(int(max_iter)):
        if not active.any():
            break
        e = tau[:, None] * V - des.fitted(gam)
        grad = np.concatenate([-des.tdot(e), (-n / tau + np.einsum("rn,rn->r", V, e))[:, None]], 1)
        hess[:, :k, k] = hess[:, k, :k] = -zv
        hess[:, k, k] = n / tau**2 + vv
        hess[bad] = np.eye(k + 1)  # keep the batched solve defined; results set to NaN
        step = -np.linalg.solve(hess, grad[..., None])[..., 0]
        step[~active] = 0.0
        decrement = -np.einsum("rq,rq->r", grad, step) / n  # lambda^2 of -loglik/n
        # Back-tracking (Armijo) keeps tau > 0 and the likelihood increasing. f is
        # self-concordant (Nesterov & Nemirovski 1994), so once lambda < 1/4 the full
        # step converges quadratically; there the Armijo test could not even resolve
        # the decrease at rounding level, so it is skipped.
        t = np.ones(R)
        for _ in range(_MAX_HALVINGS):
            new_tau = tau + t * step[:, k]
            f_new = nll(gam + t[:, None] * step[:, :k], np.where(new_tau > 0, new_tau, 1.0))
            ok = (new_tau > 0) & (f_new <= f - 1e-4 * t * n * decrement)
            ok |= ~active | (n * decrement < 1.0 / 16.0)
            if ok.all():
                break
            t = np.where(ok, t, 0.5 * t)
        gam = gam + t[:, None] * step[:, :k]
        tau = tau + t * step[:, k]
        # exact minimisation along the ray (t gam, t tau), i.e. sigma^2 = RSS(beta)/n for
        # the current beta: without it tau only doubles per step when the fit is tight
        e = tau[:, None] * V - des.fitted(gam)
        ray = np.sqrt(n / np.einsum("rn,rn->r", e, e))
        ray = np.where(active & np.isfinite(ray), ray, 1.0)
        gam *= ray[:, None]
        tau *= ray
        f = nll(gam, tau)
        n_iter += active
        done = active & (np.sqrt(decrement) <= tol)
        converged |= done
        active &= ~done

    beta = std.beta(gam / tau[:, None])
    sigma2 = (c / tau) ** 2
    beta[bad] = np.nan
    sigma2[bad] = np.nan
    converged &= np.isfinite(sigma2)
    return GaussianManyFit(beta, sigma2, converged, n_iter, bad)
