r"""Student-t regression by maximum likelihood: the likelihood answer to heavy tails.

Model: :math:`y_i = x_i^\top\beta + \sigma e_i` with :math:`e_i \sim t_\nu`, so

.. math::
    \ell(\beta, \sigma, \nu) = \sum_i \Big[\log\Gamma\big(\tfrac{\nu+1}{2}\big)
    - \log\Gamma\big(\tfrac{\nu}{2}\big) - \tfrac12\log(\nu\pi) - \log\sigma
    - \tfrac{\nu+1}{2}\log\big(1 + u_i^2/\nu\big)\Big], \qquad u_i = (y_i - x_i^\top\beta)/\sigma,

i.e. ``StudentT(df).logpdf(u) - log(sigma)`` summed. For fixed :math:`\nu` it is maximised
by EM (Lange, Little & Taylor 1989, sec. 3): with weights
:math:`w_i = (\nu+1)/(\nu+u_i^2)` (the loss's IRLS weight) :math:`\beta` is the weighted least
squares fit and :math:`\sigma^2 = \sum w_i r_i^2/\sum w_i` — the parameter-expanded scale step
(Kent, Tyler & Vardi 1994; Liu, Rubin & Wu 1998), whose fixed points are those of
:math:`\sum w_i r_i^2/n` (at the MLE :math:`\sum w_i = n`) and which converges faster.
Newton steps on :math:`(\beta, \log\sigma)` with the analytic Hessian polish the EM answer.
With :math:`\nu` unknown the profile likelihood is maximised over :math:`\log\nu`, then
:math:`(\beta, \log\sigma, \log\nu)` are polished jointly.

The likelihood is not concave and can have several local maxima for small :math:`\nu`
(Lange et al. 1989, sec. 2), so every fit starts from several regression lines and keeps the best.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .. import population, theory
from .._linalg import lstsq
from .._validation import check_positive
from ..exceptions import ConvergenceWarning, MultipleOptimaWarning
from ..inference.covariance import CovContext, covariance, xtx_inv
from ..inference.results import FitResult, ManyFits
from ..losses import Huber as HuberLoss
from ..losses import StudentT
from ..theory import Target
from ._base import BaseRegressor, _warn_unconverged

__all__ = ["StudentTMLE", "t_loglik", "t_scores_hessian"]

PERFECT_FIT_MESSAGE = (
    "perfect fit: y is an exact linear function of X, so sigma -> 0 and the Student-t "
    "likelihood is unbounded"
)
#: EM runs until one iteration gains less than this in loglik, then Newton takes over
_EM_SWITCH = 1e-4
#: back-tracking halvings allowed per batched Newton step
_MAX_HALVINGS = 30
#: two converged starts closer than this (in standard errors) are the same optimum
_SAME_POINT = 1e-4
#: distinct local maxima: coefficients this many standard errors apart ...
_DISTINCT_SE = 1e-3
#: ... and logliks differing by more than this (relative)
_DISTINCT_LL = 1e-9


# --------------------------------------------------------------------------------------
# likelihood, scores and Hessian (batched over leading axes; nu a scalar)


def _xw(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i w_i x_i` for X (n, k) or (..., n, k) and w (..., n)."""
    return np.einsum("...ij,...i->...j", X, w)


def _xwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...i,...ik->...jk", X, w, X)


def _fitted(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return beta @ X.T if X.ndim == 2 else np.einsum("...nk,...k->...n", X, beta)


def t_loglik(resid: np.ndarray, sigma: np.ndarray | float, df: float) -> np.ndarray:
    r"""Log-likelihood :math:`\sum_i \log f_\nu(r_i/\sigma) - n\log\sigma` (batched).

    Parameters
    ----------
    resid : ndarray (..., n)
    sigma : float or ndarray (...)
    df : float, degrees of freedom :math:`\nu`
    """
    sigma = np.asarray(sigma, dtype=float)
    u = resid / sigma[..., None]
    return StudentT(df).logpdf(u).sum(axis=-1) - resid.shape[-1] * np.log(sigma)


def t_scores_hessian(
    X: np.ndarray, resid: np.ndarray, sigma: np.ndarray | float, df: float, with_df: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-observation scores and Hessian of the t log-likelihood in :math:`(\beta,\sigma,\nu)`.

    With :math:`u = r/\sigma`, :math:`\psi(u) = (\nu+1)u/(\nu+u^2)` and
    :math:`c(\nu) = \log\Gamma(\frac{\nu+1}2) - \log\Gamma(\frac\nu2) - \frac12\log(\nu\pi)`,

    .. math::
        s_{\beta} = \psi(u)\,x/\sigma,\quad s_\sigma = (u\psi(u) - 1)/\sigma,\quad
        s_\nu = c'(\nu) - \tfrac12\log(1 + u^2/\nu) + u\psi(u)/(2\nu),

    and the second derivatives (summed over observations)

    .. math::
        H_{\beta\beta} = -\sum\psi'(u)xx^\top/\sigma^2,\;
        H_{\beta\sigma} = -\sum x(u\psi' + \psi)/\sigma^2,\;
        H_{\sigma\sigma} = \sum(1 - 2u\psi - u^2\psi')/\sigma^2,

        H_{\beta\nu} = \sum x\,\frac{u(u^2-1)}{\sigma(\nu+u^2)^2},\;
        H_{\sigma\nu} = \sum\frac{u^2(u^2-1)}{\sigma(\nu+u^2)^2},\;
        H_{\nu\nu} = \sum\Big[c''(\nu) + \frac{u^2}{2\nu(\nu+u^2)}
            - \frac{u^2(\nu^2 + 2\nu + u^2)}{2\nu^2(\nu+u^2)^2}\Big].

    Parameters
    ----------
    X : ndarray (n, k) or (..., n, k)
    resid : ndarray (..., n)
    sigma : float or ndarray (...)
    df : float
    with_df : bool
        Include the :math:`\nu` score and Hessian row (``q = k + 2``), else ``q = k + 1``.

    Returns
    -------
    scores : ndarray (..., n, q)
    hessian : ndarray (..., q, q)
    """
    loss = StudentT(df)
    nu = float(df)
    sigma = np.asarray(sigma, dtype=float)
    s = sigma[..., None]
    u = resid / s
    psi, dpsi = loss.psi(u), loss.psi_prime(u)
    k = X.shape[-1]
    q = k + 1 + int(with_df)
    lead = resid.shape[:-1]
    n = resid.shape[-1]
    scores = np.empty((*lead, n, q))
    scores[..., :k] = (psi / s)[..., None] * X
    scores[..., k] = (u * psi - 1.0) / s
    hess = np.empty((*lead, q, q))
    s2 = (sigma**2)[..., None, None]
    hess[..., :k, :k] = -_xwx(X, dpsi) / s2
    hbs = -_xw(X, u * dpsi + psi) / s2[..., 0]
    hess[..., :k, k] = hbs
    hess[..., k, :k] = hbs
    hess[..., k, k] = (1.0 - 2.0 * u * psi - u * u * dpsi).sum(axis=-1) / sigma**2
    if with_df:
        u2 = u * u
        c1 = 0.5 * (special.digamma((nu + 1.0) / 2.0) - special.digamma(nu / 2.0)) - 0.5 / nu
        c2 = (
            0.25 * (special.polygamma(1, (nu + 1.0) / 2.0) - special.polygamma(1, nu / 2.0))
            + 0.5 / nu**2
        )
        scores[..., k + 1] = c1 - 0.5 * np.log1p(u2 / nu) + u * psi / (2.0 * nu)
        d = (nu + u2) ** 2
        hbn = _xw(X, u * (u2 - 1.0) / d) / s
        hess[..., :k, k + 1] = hbn
        hess[..., k + 1, :k] = hbn
        hsn = (u2 * (u2 - 1.0) / d).sum(axis=-1) / sigma
        hess[..., k, k + 1] = hsn
        hess[..., k + 1, k] = hsn
        hess[..., k + 1, k + 1] = (
            c2 + u2 / (2.0 * nu * (nu + u2)) - u2 * (nu * nu + 2.0 * nu + u2) / (2.0 * nu**2 * d)
        ).sum(axis=-1)
    return scores, hess


def _log_param_derivatives(
    X: np.ndarray, resid: np.ndarray, sigma: np.ndarray, df: float, with_df: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient and Hessian in :math:`\phi = (\beta, \log\sigma[, \log\nu])` by the chain rule.

    :math:`g_\phi = D g_\theta`, :math:`H_\phi = D H_\theta D + \operatorname{diag}(g_\theta \odot
    \theta_{\log})` with :math:`D = \operatorname{diag}(1, \sigma[, \nu])`.
    """
    scores, hess = t_scores_hessian(X, resid, sigma, df, with_df)
    g = scores.sum(axis=-2)
    k = X.shape[-1]
    d = np.ones(g.shape)
    d[..., k] = sigma
    if with_df:
        d[..., k + 1] = df
    gphi = g * d
    hphi = hess * d[..., :, None] * d[..., None, :]
    idx = np.arange(k, g.shape[-1])
    hphi[..., idx, idx] += gphi[..., k:]
    return gphi, hphi


# --------------------------------------------------------------------------------------
# fixed-df core: batched EM + Newton


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares by QR of :math:`W^{1/2}X`, batched over the rows of ``y``."""
    sw = np.sqrt(w)
    q, r = np.linalg.qr(sw[..., None] * X)
    qty = np.einsum("...nk,...n->...k", q, sw * y)
    return np.linalg.solve(r, qty[..., None])[..., 0]


def _em_step(X, Y, beta, sigma, loss):
    """One PX-EM step (Liu, Rubin & Wu 1998) for fixed df."""
    w = loss.weight((Y - _fitted(X, beta)) / sigma[:, None])
    beta = _wls(X, Y, w)
    r = Y - _fitted(X, beta)
    sigma = np.sqrt((w * r * r).sum(axis=1) / w.sum(axis=1))
    return beta, sigma


def _fit_fixed_df(
    X: np.ndarray,
    Y: np.ndarray,
    df: float,
    beta: np.ndarray,
    sigma: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximise the t likelihood over (beta, sigma) at fixed df for B problems at once.

    EM until an iteration gains less than ``_EM_SWITCH``, then Newton on (beta, log sigma)
    with back-tracking (an EM step where the Hessian is not negative definite or the line
    search fails). Converged when the Newton decrement :math:`g^\\top(-H)^{-1}g/2` — the
    predicted loglik gain, invariant to affine reparametrisation — is at most ``tol``.

    Returns beta (B, k), sigma (B,), loglik (B,), n_iter (B,), converged (B,).
    """
    loss = StudentT(df)
    B, k = beta.shape
    beta, sigma = beta.copy(), sigma.copy()
    ll = t_loglik(Y - _fitted(X, beta), sigma, df)
    n_iter = np.zeros(B, dtype=int)
    em = np.ones(B, dtype=bool)
    done = np.zeros(B, dtype=bool)
    it = 0
    while it < max_iter and not done.all():
        it += 1
        n_iter[~done] += 1
        step_em = em & ~done
        newton = ~em & ~done
        if newton.any():
            idx = np.flatnonzero(newton)
            Xi = X if X.ndim == 2 else X[idx]
            g, H = _log_param_derivatives(
                Xi, Y[idx] - _fitted(Xi, beta[idx]), sigma[idx], df, False
            )
            negh = -H
            ok = np.linalg.eigvalsh(negh)[:, 0] > 0
            negh[~ok] = np.eye(k + 1)
            delta = np.linalg.solve(negh, g[..., None])[..., 0]
            dec = 0.5 * np.einsum("bi,bi->b", g, delta)
            t = np.ones(idx.size)
            accepted = np.zeros(idx.size, dtype=bool)
            for _ in range(_MAX_HALVINGS):
                trial = ok & ~accepted
                if not trial.any():
                    break
                bt = beta[idx] + t[:, None] * delta[:, :k]
                st = sigma[idx] * np.exp(t * delta[:, k])
                lt = t_loglik(Y[idx] - _fitted(Xi, bt), st, df)
                good = trial & (lt >= ll[idx] - 1e-12 * np.abs(ll[idx]))
                sel = idx[good]
                beta[sel], sigma[sel], ll[sel] = bt[good], st[good], lt[good]
                accepted |= good
                t = np.where(trial & ~good, 0.5 * t, t)
            done[idx[ok & (dec <= tol)]] = True
            step_em[idx[~accepted & ~(ok & (dec <= tol))]] = True
        if step_em.any():
            idx = np.flatnonzero(step_em)
            Xi = X if X.ndim == 2 else X[idx]
            b_new, s_new = _em_step(Xi, Y[idx], beta[idx], sigma[idx], loss)
            l_new = t_loglik(Y[idx] - _fitted(Xi, b_new), s_new, df)
            gain = l_new - ll[idx]
            beta[idx], sigma[idx], ll[idx] = b_new, s_new, l_new
            em[idx[gain < _EM_SWITCH]] = False
    return beta, sigma, ll, n_iter, done


# --------------------------------------------------------------------------------------
# starting values


def _lad(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact LAD fit (the median regression line), used as a start."""
    from .quantile import solve_quantile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Frisch-Newton: an order of magnitude faster than HiGHS here, same exact answer
        return solve_quantile(X, y, 0.5, solver="interior-point")


def _huber(X: np.ndarray, Y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Huber (k = 1.345, MAD scale) fits by the shared batched IRLS (a start only: tol 1e-6)."""
    from ._mestimation import irls

    res = irls(X, Y, HuberLoss(1.345), scale="mad", beta0=beta, tol=1e-6, maxiter=50)
    return np.where(np.isfinite(res.beta), res.beta, beta)


def _initial_sigma(X: np.ndarray, Y: np.ndarray, beta: np.ndarray, df: float) -> np.ndarray:
    """Median absolute residual over the t quartile (the MAD scale of a t_df law)."""
    r = np.abs(Y - _fitted(X, beta))
    s = np.median(r, axis=1) / stats.t.ppf(0.75, df)
    rms = np.sqrt((r * r).mean(axis=1))
    return np.where(s > 1e-8 * rms, s, rms)


def _se_proxy(X: np.ndarray, Y: np.ndarray, beta_ols: np.ndarray) -> np.ndarray:
    """Classical OLS standard errors: the yardstick for 'two starts reached the same point'."""
    n, k = X.shape[-2:]
    r = Y - _fitted(X, beta_ols)
    s2 = (r * r).sum(axis=-1) / max(n - k, 1)
    return np.sqrt(s2[..., None] * np.diagonal(xtx_inv(X), axis1=-2, axis2=-1))


def _starts(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Starting lines for R problems (S = 5, R, k): OLS, LAD, Huber, (OLS + LAD)/2, 2 OLS - LAD.

    The last two probe the direction in which outliers pull OLS away from LAD: a second mode
    usually lies beyond OLS (when OLS and LAD agree they coincide with OLS and are merged).
    LAD is solved exactly, one LP per problem: IRLS approximations crawl on the flat LAD
    objectives of clustered data and then miss basins.
    """
    ols = lstsq(X, Y)
    lad = np.stack([_lad(X if X.ndim == 2 else X[r], Y[r]) for r in range(len(Y))])
    return np.stack([ols, lad, _huber(X, Y, lad), 0.5 * (ols + lad), 2.0 * ols - lad])


def _distinct(
    beta: np.ndarray, ll: np.ndarray, ok: np.ndarray, best: int, se: np.ndarray
) -> list[int]:
    """Indices of local maxima distinct from ``best`` and from each other.

    Distinct: some coefficient differs by more than ``_DISTINCT_SE`` standard errors *and* the
    loglik differs by more than rounding (a flat ridge is not two optima).
    """
    kept = [best]
    for j in np.argsort(-ll):
        if not (ok[j] and np.isfinite(ll[j])) or j in kept:
            continue
        far = all(np.max(np.abs(beta[j] - beta[i]) / se) > _DISTINCT_SE for i in kept)
        differ = all(abs(ll[j] - ll[i]) > _DISTINCT_LL * max(1.0, abs(ll[i])) for i in kept)
        if far and differ:
            kept.append(int(j))
    return kept[1:]


def _dedupe(beta: np.ndarray, sigma: np.ndarray, ll: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Indices of chains to keep: best first, dropping chains that reached the same point."""
    keep: list[int] = []
    for j in np.argsort(-ll):
        if not np.isfinite(ll[j]):
            continue
        if all(
            np.max(np.abs(beta[j] - beta[i]) / se) > _SAME_POINT
            or abs(np.log(sigma[j] / sigma[i])) > _SAME_POINT
            for i in keep
        ):
            keep.append(int(j))
    return np.array(keep)


class StudentTMLE(BaseRegressor):
    r"""Regression with Student-t errors by maximum likelihood, df fixed or estimated.

    :math:`y_i = x_i^\top\beta + \sigma e_i`, :math:`e_i \sim t_\nu` (Lange, Little & Taylor
    1989). Outlying observations get EM weight :math:`(\nu+1)/(\nu+u_i^2)`, so the fit is
    resistant to heavy-tailed errors in y (not to bad leverage points: :math:`\psi` redescends
    only slowly). When the errors are t, it attains the Cramér–Rao bound where OLS does not;
    with :math:`\nu\to\infty` it is the Gaussian MLE.

    Parameters
    ----------
    df : float > 0 or None, default None
        Degrees of freedom :math:`\nu`. ``None`` estimates it by maximising the profile
        likelihood over :math:`\log\nu` in ``df_bounds``.
    fit_intercept : bool, default True
    tol : float, default 1e-10
        Convergence when the Newton decrement :math:`g^\top(-H)^{-1}g/2`, the predicted
        loglik gain of one more step, is at most ``tol``.
    max_iter : int, default 500
        Iterations (EM plus Newton) per start and per value of df.
    df_bounds : (float, float), default (0.1, 1000)
        Search interval for ``df=None``. The lower end is raised to :math:`2k/(n-k)`: for
        :math:`\nu(n-k) < k` the likelihood is unbounded (a fit through k points with
        :math:`\sigma\to 0`). ``result_.extra["df_at_bound"]`` flags an estimate on a bound
        (at the normal the profile likelihood often increases up to the upper bound, where
        :math:`t_{1000}` is practically Gaussian).

    Attributes
    ----------
    result_ : FitResult
        ``params`` = coefficients, ``sigma`` and — only when estimated — ``df``;
        ``n_iter``: EM + Newton iterations of the best start (df fixed) or the number of
        profile-likelihood evaluations (df estimated);
        ``loglik``, ``aic``, ``bic`` (``k_params = len(params)``), ``scale`` = sigma, and
        ``extra``: ``df``, ``df_fixed``, ``df_at_bound``, ``n_starts``,
        ``local_optima`` (loglik of the distinct other local maxima found).

    Notes
    -----
    *Starts.* The likelihood is multimodal for small :math:`\nu`. Each fit starts from the OLS,
    LAD and Huber lines, their midpoint :math:`(\hat\beta_{OLS} + \hat\beta_{LAD})/2` and
    :math:`2\hat\beta_{OLS} - \hat\beta_{LAD}` (these two differ from OLS only where OLS and
    LAD disagree; starts reaching the same point are merged); the highest maximum is
    kept. A :class:`~tailreg.exceptions.MultipleOptimaWarning` reports distinct local maxima
    (coefficients more than 1e-3 standard errors apart and different logliks).
    With ``df=None`` the starts are followed as chains along the profile likelihood, whose
    value at each :math:`\nu` is the best chain's.

    *Covariance kinds.* ``oim`` (default): the inverse observed information
    :math:`(-H)^{-1}` of :math:`(\beta, \sigma, \nu)` (analytic Hessian, see
    :func:`t_scores_hessian`); ``sandwich``: :math:`J^{-1}(\sum_i s_is_i^\top)J^{-1}` with the
    per-observation scores, valid when the errors are not t (White 1982). With df fixed,
    df is not a parameter: it is left out of ``params`` and of both matrices (and of
    ``k_params``), and is reported in ``result_.extra["df"]``. Reference distribution: normal.

    *fit_many* with df fixed runs all replications and all five starts as one batched EM and
    Newton iteration (only the LAD starts are solved one by one); with df estimated it loops
    over ``fit``. Either way it returns what separate fits return, and one
    ``MultipleOptimaWarning`` counts the replications with several local maxima.
    """

    _cov_kinds = ("oim", "sandwich")
    study_name = "student_t"
    nuisance_names = ("sigma", "df")
    objective_doc = "negative log-likelihood"
    _min_extra_rows = 1

    def __init__(
        self,
        df: float | None = None,
        fit_intercept: bool = True,
        tol: float = 1e-10,
        max_iter: int = 500,
        df_bounds: tuple[float, float] = (0.1, 1000.0),
    ) -> None:
        self.df = df
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.df_bounds = df_bounds

    @property
    def loss(self) -> StudentT | None:
        """The t negative log-density at fixed df (None when df is estimated)."""
        return None if self.df is None else StudentT(float(self.df))

    def target(self, law: Any) -> Target | None:
        """With df fixed: the t location at the likelihood's limit scale; None with df estimated.

        The likelihood scale's influence enters the intercept's variance unless the law is
        symmetric (``avar`` NaN for asymmetric laws).
        """
        if self.df is None:
            return None
        df = float(self.df)
        scale = population.t_mle_functional(law, df)[1]
        if not math.isfinite(scale):
            return None
        return theory.target(StudentT(df), law, scale, symmetric_only_avar=True)

    def _check_params(self) -> None:
        if self.df is not None:
            check_positive("df", self.df, allow_inf=False)
        check_positive("tol", self.tol)
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int | np.integer)
            or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        try:
            lo, hi = self.df_bounds
        except (TypeError, ValueError):
            raise ValueError(
                f"df_bounds must be a pair (low, high), got {self.df_bounds!r}"
            ) from None
        check_positive("df_bounds[0]", lo)
        check_positive("df_bounds[1]", hi)
        if not lo < hi:
            raise ValueError(f"df_bounds must satisfy low < high, got {self.df_bounds!r}")

    # -- one fit ----------------------------------------------------------------------
    def _fit(self, X, y, names):
        n, k = X.shape
        beta0 = _starts(X, y[None, :])[:, 0]
        ols = beta0[:1]
        rss = float(((y - X @ ols[0]) ** 2).sum())
        if rss <= (1e-13 * max(float(np.abs(y).max()), 1e-300)) ** 2 * n:
            raise ValueError(PERFECT_FIT_MESSAGE)
        se0 = _se_proxy(X, y[None, :], ols)[0]
        if self.df is not None:
            df = float(self.df)
            beta, sigma, ll, it, conv = self._fixed(X, y, df, beta0)
            ll = np.where(np.isfinite(ll) & (sigma > 0), ll, -np.inf)
            at_bound = False
            nfev = int(it[int(np.argmax(ll))])
        else:
            beta, sigma, ll, conv, df, at_bound, nfev = self._profile(X, y, beta0, se0)
        best = int(np.argmax(ll))
        with_df = self.df is None
        resid = y - X @ beta[best]
        scores, hess = t_scores_hessian(X, resid, sigma[best], df, with_df)
        jac = -hess
        se = _safe_se(jac)[:k]
        local = _distinct(beta, ll, conv, best, np.where(se > 0, se, se0))
        if local:
            warnings.warn(
                f"StudentTMLE(df={self.df}): the likelihood has {len(local) + 1} distinct local "
                f"maxima among {len(beta0)} starts (loglik {ll[best]:.6f} kept; others "
                f"{', '.join(f'{ll[j]:.6f}' for j in local)})",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        converged = bool(conv[best])
        if not converged:
            hint = (
                f"; with df={df:g} < k/(n-k)={k / (n - k):.3g} the likelihood is unbounded "
                "(sigma -> 0), choose a larger df"
                if df * (n - k) < k
                else "; raise max_iter or tol"
            )
            warnings.warn(
                f"StudentTMLE did not converge in max_iter={self.max_iter} iterations "
                f"(converged=False){hint}",
                ConvergenceWarning,
                stacklevel=3,
            )
        values = [*beta[best], sigma[best]] + ([df] if with_df else [])
        pnames = [*names, "sigma"] + (["df"] if with_df else [])
        ctx = CovContext(
            X=X,
            resid=resid,
            scale=float(sigma[best]),
            loss=StudentT(df),
            scores=scores,
            jacobian=jac,
        )
        return FitResult(
            params=pd.Series(values, index=pnames, name="coef"),
            cov_context=ctx,
            cov_kinds=self._cov_kinds,
            cov_kind=self.default_cov_kind,
            nobs=n,
            df_resid=n - k,
            scale=float(sigma[best]),
            n_iter=nfev,
            converged=converged,
            resid=resid,
            estimator="StudentTMLE",
            use_t=False,
            loglik=float(ll[best]),
            objective=float(-ll[best]),
            extra={
                "df": df,
                "df_fixed": not with_df,
                "df_at_bound": at_bound,
                "n_starts": len(beta0),
                "local_optima": tuple(float(ll[j]) for j in local),
            },
        )

    def _fixed(self, X, y, df, beta0):
        Y = np.broadcast_to(y, (len(beta0), y.size))
        sigma0 = _initial_sigma(X, Y, beta0, df)
        return _fit_fixed_df(X, Y, df, beta0, sigma0, self.tol, self.max_iter)

    def _profile(self, X, y, beta0, se0):
        """Profile likelihood over log df (bounded Brent), then a joint Newton polish."""
        n, k = X.shape
        lo = max(float(self.df_bounds[0]), 2.0 * k / (n - k))
        hi = float(self.df_bounds[1])
        if lo >= hi:
            raise ValueError(
                f"df_bounds {self.df_bounds!r} leave no room above the existence bound "
                f"2k/(n-k)={2.0 * k / (n - k):.4g} (n_samples={n}, k={k})"
            )
        chains = {"beta": beta0, "sigma": _initial_sigma(X, y[None, :], beta0, 4.0)}
        calls = [0]

        def profile(log_df: float):
            calls[0] += 1
            b, s, ll, _, conv = self._fixed_from(X, y, np.exp(log_df), chains)
            keep = _dedupe(b, s, np.where(s > 0, ll, np.nan), se0)
            if keep.size == 0:
                raise ValueError(
                    f"the Student-t likelihood could not be evaluated at df={np.exp(log_df):.4g}"
                )
            chains["beta"], chains["sigma"] = b[keep], s[keep]
            return b[keep], s[keep], ll[keep], conv[keep]

        res = optimize.minimize_scalar(
            lambda t: -profile(t)[2].max(),
            bounds=(np.log(lo), np.log(hi)),
            method="bounded",
            options={"xatol": 1e-3},  # the joint polish finishes the job
        )
        log_df, best_ll, at_bound = float(res.x), -float(res.fun), False
        for edge in (np.log(lo), np.log(hi)):
            if abs(log_df - edge) < 1e-3 and profile(edge)[2].max() >= best_ll:
                log_df, at_bound = edge, True
        beta, sigma, ll, conv = profile(log_df)
        df = np.full(len(ll), np.exp(log_df))
        if not at_bound:
            for j in range(len(ll)):
                polished = _joint_polish(X, y, beta[j], sigma[j], df[j], lo, hi, self.tol)
                if polished is not None and polished[3] >= ll[j]:
                    beta[j], sigma[j], df[j], ll[j], conv[j] = polished
        best = int(np.argmax(ll))
        # the other chains' maxima are at their own df; compare them at face value
        return beta, sigma, ll, conv, float(df[best]), at_bound, calls[0]

    def _fixed_from(self, X, y, df, chains):
        Y = np.broadcast_to(y, (len(chains["beta"]), y.size))
        return _fit_fixed_df(X, Y, df, chains["beta"], chains["sigma"], self.tol, self.max_iter)

    # -- many fits --------------------------------------------------------------------
    def _fit_many(self, X, Y, names, kinds):
        if self.df is None:
            return self._loop_many(X, Y, names, kinds)
        df = float(self.df)
        R = Y.shape[0]
        k = X.shape[-1]
        starts = _starts(X, Y)  # (S, R, k)
        S = starts.shape[0]
        XS = X if X.ndim == 2 else np.tile(X, (S, 1, 1))
        YS = np.tile(Y, (S, 1))
        b0 = starts.reshape(S * R, k)
        b, s, ll, it, conv = _fit_fixed_df(
            XS, YS, df, b0, _initial_sigma(XS, YS, b0, df), self.tol, self.max_iter
        )
        b, s, ll, conv = b.reshape(S, R, k), s.reshape(S, R), ll.reshape(S, R), conv.reshape(S, R)
        ll_ok = np.where(np.isfinite(ll), ll, -np.inf)
        best = np.argmax(ll_ok, axis=0)
        rows = np.arange(R)
        beta, sigma = b[best, rows], s[best, rows]
        resid = Y - _fitted(X, beta)
        scores, hess = t_scores_hessian(X, resid, sigma, df, False)
        jac = -hess

        def ctx_of(jac):
            return CovContext(
                X=X, resid=resid, scale=sigma, loss=StudentT(df), scores=scores, jacobian=jac
            )

        se_beta = _batched_se("oim", ctx_of(jac=jac))[:, :k]
        se_beta = np.where(se_beta > 0, se_beta, _se_proxy(X, Y, starts[0]))
        n_multi = 0
        for r in range(R):
            if len(_distinct(b[:, r], ll_ok[:, r], conv[:, r], int(best[r]), se_beta[r])):
                n_multi += 1
        if n_multi:
            warnings.warn(
                f"StudentTMLE(df={df:g}): {n_multi} of {R} fits had distinct local maxima of the "
                "likelihood among their starts (the best is kept)",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        ctx = ctx_of(jac=jac)
        se = {kind: _batched_se(kind, ctx) for kind in kinds}
        converged = conv[best, rows]
        _warn_unconverged("StudentTMLE", converged)
        return ManyFits(
            np.column_stack([beta, sigma]),
            (*names, "sigma"),
            k,
            se,
            sigma,
            converged,
            it.reshape(S, R)[best, rows],
        )

    def _loop_many(self, X, Y, names, kinds):
        """df estimated: one ``_fit`` per replication, optima warnings summed into one."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = BaseRegressor._fit_many(self, X, Y, names, kinds)
        n_multi = 0
        for w in caught:
            if issubclass(w.category, MultipleOptimaWarning):
                n_multi += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if n_multi:
            warnings.warn(
                f"StudentTMLE(df=None): {n_multi} of {len(Y)} fits had distinct local maxima "
                "of the likelihood among their starts (the best is kept)",
                MultipleOptimaWarning,
                stacklevel=3,
            )
        return out


def _batched_se(kind: str, ctx: CovContext) -> np.ndarray:
    """Standard errors (R, q) of ``kind``; one replication at a time (NaN where singular) only
    when the batched inverse fails."""
    with np.errstate(invalid="ignore"):
        try:
            return np.sqrt(np.diagonal(covariance(kind, ctx), axis1=-2, axis2=-1))
        except np.linalg.LinAlgError:
            pass
        out = np.full(ctx.scores.shape[::2], np.nan)
        for r in range(len(out)):
            one = CovContext(
                X=ctx.X if ctx.X.ndim == 2 else ctx.X[r],
                resid=ctx.resid[r],
                scale=ctx.scale[r],
                loss=ctx.loss,
                scores=ctx.scores[r],
                jacobian=ctx.jacobian[r],
            )
            with contextlib.suppress(np.linalg.LinAlgError):
                out[r] = np.sqrt(np.diag(covariance(kind, one)))
        return out


def _safe_se(jac: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of ``inv(jac)``; NaN where it is singular or not PD."""
    try:
        v = np.diag(np.linalg.inv(jac))
    except np.linalg.LinAlgError:
        return np.full(jac.shape[-1], np.nan)
    with np.errstate(invalid="ignore"):
        return np.sqrt(v)


def _joint_polish(X, y, beta, sigma, df, lo, hi, tol):
    r"""Maximise over :math:`\phi = (\beta, \log\sigma, \log\nu)` from a profile maximum.

    scipy's ``trust-exact`` with the analytic gradient and Hessian, in coordinates whitened
    by the Cholesky factor of :math:`-H(\phi_0)` so that its gradient tolerance is scale-free.
    Returns ``(beta, sigma, df, loglik, converged)``, or None when the polish fails or leaves
    ``[lo, hi]``.
    """
    k = X.shape[1]
    phi0 = np.concatenate([beta, [np.log(sigma), np.log(df)]])

    def parts(phi):
        r = y - X @ phi[:k]
        return r, np.exp(phi[k]), np.exp(phi[k + 1])

    def fun(phi):
        r, s, nu = parts(phi)
        return -float(t_loglik(r, s, nu))

    def derivs(phi):
        r, s, nu = parts(phi)
        return _log_param_derivatives(X, r, s, nu, True)

    _, h0 = derivs(phi0)
    try:
        m = np.linalg.inv(np.linalg.cholesky(-h0)).T
    except np.linalg.LinAlgError:
        return None
    with np.errstate(all="ignore"):
        res = optimize.minimize(
            lambda z: fun(phi0 + m @ z),
            np.zeros(k + 2),
            jac=lambda z: -(m.T @ derivs(phi0 + m @ z)[0]),
            hess=lambda z: -(m.T @ derivs(phi0 + m @ z)[1] @ m),
            method="trust-exact",
            options={"gtol": 1e-8, "maxiter": 200},
        )
    phi = phi0 + m @ res.x
    if not (np.all(np.isfinite(phi)) and np.log(lo) <= phi[k + 1] <= np.log(hi)):
        return None
    g, h = derivs(phi)
    # trust-exact's own success flag can fail on rounding-level gradients; judge convergence
    # by the Newton decrement, as the fixed-df fits do
    try:
        chol = np.linalg.cholesky(-h)
    except np.linalg.LinAlgError:
        converged = False
    else:
        z = np.linalg.solve(chol, g)
        converged = bool(0.5 * z @ z <= tol)
    return phi[:k], np.exp(phi[k]), np.exp(phi[k + 1]), -float(res.fun), converged
