r"""Student-t regression by maximum likelihood: likelihood, scores, EM + Newton, profile over df.

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
(Lange et al. 1989, sec. 2), so every fit starts several chains from regression lines at
spread scales and keeps the best (:func:`fit_student_t_many`; one fit is R = 1; df estimated:
:mod:`~tailreg.solvers.student_t_profile`).

Observation weights give the weighted log-likelihood :math:`\sum_i w_i\log f(e_i)`: the EM
weights are multiplied by :math:`w_i`, the starts are weighted least squares, weighted LAD
(the check loss is positively homogeneous: LAD of :math:`(w_iy_i, w_ix_i)`) and weighted Huber,
and a weight of 0 removes a row.

The data are divided by a power of two near the spread of the response before fitting (exact
in floating point; the answer is scaled back), so that responses near the overflow threshold
(:math:`10^{300}`) or the underflow threshold fit as well as unit-scale ones.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .._linalg import Design, EinsumDesign, lstsq, xtx_inv
from .._typing import BoolArray, FloatArray, IntArray
from ..losses import Huber as HuberLoss
from .irls import irls
from .quantile_lp import solve_quantile_many
from .t_likelihood import (
    DfLike,
    _xw,
    _xwx,
    log_param_derivatives,
    t_em_weight,
    t_loglik,
    t_scores_hessian,
)

__all__ = [
    "CHAIN_STARTS",
    "PERFECT_FIT_MESSAGE",
    "Chains",
    "StudentTManyFit",
    "distinct_optima",
    "fit_fixed_df",
    "fit_student_t_many",
    "initial_sigma",
    "merge_chains",
    "perfect_fits",
    "power_of_two_scale",
    "se_proxy",
    "starts",
    "t_loglik",
    "t_scores_hessian",
]

PERFECT_FIT_MESSAGE = (
    "perfect fit: y is an exact linear function of X, so sigma -> 0 and the Student-t "
    "likelihood is unbounded"
)
#: EM runs until one iteration gains less than this in loglik, then Newton takes over
_EM_SWITCH = 1.0
#: back-tracking halvings allowed per batched Newton step
_MAX_HALVINGS = 30
#: two chains closer than this (coefficients in standard errors, log sigma) are one
_SAME_POINT = 1e-4
#: the chains started per problem: (start line of :func:`starts`, multiple of its initial
#: scale). Every line at its MAD scale; OLS and LAD also at a tenth of it, where EM locks on
#: to the cluster of points nearest the line instead of averaging over clusters
CHAIN_STARTS = ((0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (0, 0.1), (1, 0.1))
#: the first pass of the fixed-df fits stops at this Newton decrement; the chains that
#: remain distinct then finish at ``tol``
_FIRST_TOL = 1e-6
#: distinct local maxima: coefficients this many standard errors apart ...
_DISTINCT_SE = 1e-3
#: ... and logliks differing by more than this (relative)
_DISTINCT_LL = 1e-9


# --------------------------------------------------------------------------------------
# fixed-df core: batched EM + Newton


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares, batched over the rows of ``y``.

    By the normal equations :math:`(X^\top WX)\beta = X^\top Wy`: the fits run on the
    orthonormal Q factor of the design (:func:`prepare`), where their condition number is
    that of the weights alone. QR of :math:`W^{1/2}X` where a Gram matrix is singular.
    """
    try:
        return np.linalg.solve(_xwx(X, w), _xw(X, w * y)[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pass
    sw = np.sqrt(w)
    q, r = np.linalg.qr(sw[..., None] * X)
    qty = np.einsum("...nk,...n->...k", q, sw * y)
    try:
        return np.linalg.solve(r, qty[..., None])[..., 0]
    except np.linalg.LinAlgError:
        # some problem's weights vanish on all but < k rows: it fails (NaN), the rest go on
        out = np.full(qty.shape, np.nan)
        for i in np.ndindex(qty.shape[:-1]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(r[i], qty[i])
        return out


def _em_step(
    des: Design,
    Y: FloatArray,
    beta: FloatArray,
    sigma: FloatArray,
    df: DfLike,
    weights: FloatArray | None,
) -> tuple[FloatArray, FloatArray]:
    """One PX-EM step (Liu, Rubin & Wu 1998) for fixed df (one df, or one per problem)."""
    r_old = Y - des.fitted(beta)
    u = r_old / sigma[:, None]
    w = t_em_weight(u, df)
    if weights is not None:
        w = w * weights
    beta = _wls(des.X, Y, w)
    r = Y - des.fitted(beta)
    if np.all(np.abs(u) < 1e100):
        sigma = np.sqrt((w * r * r).sum(axis=1) / w.sum(axis=1))
    else:
        # w r^2 = sigma^2 (w u^2)(r / r_old)^2, where w u^2 -> nu + 1 stays finite
        uc = np.clip(u, -1e50, 1e50)
        wu2 = t_em_weight(uc, df) * uc * uc
        if weights is not None:
            wu2 = wu2 * weights
        with np.errstate(all="ignore"):
            q = np.where(r_old != 0, r / r_old, 0.0)
        sigma = sigma * np.sqrt((wu2 * q * q).sum(axis=1) / w.sum(axis=1))
    return beta, sigma


def _at_df(df: DfLike, idx: IntArray) -> DfLike:
    """Rows ``idx`` of a per-problem df (a scalar is shared)."""
    return df if np.ndim(df) == 0 else np.asarray(df)[idx]


def _at_w(w: FloatArray | None, idx: IntArray) -> FloatArray | None:
    """Rows ``idx`` of per-problem weights (None is shared)."""
    return None if w is None else w[idx]


def fit_fixed_df(
    X: np.ndarray,
    Y: np.ndarray,
    df: DfLike,
    beta: np.ndarray,
    sigma: np.ndarray,
    tol: float,
    max_iter: int,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximise the t likelihood over (beta, sigma) at fixed df for B problems at once.

    EM until an iteration gains less than ``_EM_SWITCH``, then Newton on (beta, log sigma)
    with back-tracking (an EM step where the Hessian is not negative definite or the line
    search fails). Converged when the Newton decrement :math:`g^\\top(-H)^{-1}g/2` — the
    predicted loglik gain, invariant to affine reparametrisation — is at most ``tol`` (the
    step that meets it is still taken). ``df`` is one value or one per problem (B,);
    ``weights`` (B, n) are observation weights of the weighted log-likelihood.

    Returns beta (B, k), sigma (B,), loglik (B,), n_iter (B,), converged (B,).
    """
    B, k = beta.shape
    des = EinsumDesign(X)
    beta, sigma = beta.copy(), sigma.copy()
    ll = t_loglik(Y - des.fitted(beta), sigma, df, weights)
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
            di, dfi, wi = des.take(idx), _at_df(df, idx), _at_w(weights, idx)
            g, H = log_param_derivatives(
                di.X, Y[idx] - di.fitted(beta[idx]), sigma[idx], dfi, False, wi
            )
            negh = -H
            finite = np.all(np.isfinite(negh), axis=(1, 2))
            negh[~finite] = np.eye(k + 1)
            ok = finite & (np.linalg.eigvalsh(negh)[:, 0] > 0)
            negh[~ok] = np.eye(k + 1)
            g = np.where(ok[:, None], g, 0.0)
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
                lt = t_loglik(Y[idx] - di.fitted(bt), st, dfi, wi)
                good = trial & (lt >= ll[idx] - 1e-12 * np.abs(ll[idx]))
                sel = idx[good]
                beta[sel], sigma[sel], ll[sel] = bt[good], st[good], lt[good]
                accepted |= good
                t = np.where(trial & ~good, 0.5 * t, t)
            done[idx[ok & (dec <= tol)]] = True
            step_em[idx[~accepted & ~(ok & (dec <= tol))]] = True
        if step_em.any():
            idx = np.flatnonzero(step_em)
            di, dfi, wi = des.take(idx), _at_df(df, idx), _at_w(weights, idx)
            b_new, s_new = _em_step(di, Y[idx], beta[idx], sigma[idx], dfi, wi)
            l_new = t_loglik(Y[idx] - di.fitted(b_new), s_new, dfi, wi)
            gain = l_new - ll[idx]
            beta[idx], sigma[idx], ll[idx] = b_new, s_new, l_new
            em[idx[gain < _EM_SWITCH]] = False
    return beta, sigma, ll, n_iter, done


# --------------------------------------------------------------------------------------
# scaling, starting values


def power_of_two_scale(Y: FloatArray, weights: FloatArray | None) -> FloatArray:
    """Per problem a power of two near the response's spread (R,): dividing by it is exact.

    The spread is the median absolute deviation from the median over the rows of positive
    weight, or the largest absolute deviation where that is 0 (1 for a constant response).
    """
    Yz = Y if weights is None else np.where(weights > 0, Y, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        dev = np.abs(Yz - np.nanmedian(Yz, axis=1, keepdims=True))
        spread = np.nanmedian(dev, axis=1)
        spread = np.where(spread > 0, spread, np.nanmax(dev, axis=1))
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    return np.ldexp(1.0, np.frexp(spread)[1])


def perfect_fits(X: FloatArray, Y: FloatArray, weights: FloatArray | None) -> BoolArray:
    """True where y is (to rounding) an exact linear function of X (R,): unbounded likelihood."""
    W = np.ones_like(Y) if weights is None else weights
    sw = np.sqrt(W)
    Xw = sw[..., None] * X
    big = np.max(np.abs(sw * Y), axis=1)
    yw = sw * Y / np.where(big > 0, big, 1.0)[:, None]
    q = np.linalg.qr(Xw)[0]
    r = yw - np.einsum("...nk,...k->...n", q, np.einsum("...nk,...n->...k", q, yw))
    return np.sqrt((r * r).sum(axis=1)) <= 1e-13 * np.sqrt(Y.shape[1])


def _rms(r: FloatArray, W: FloatArray | None) -> FloatArray:
    """(Weighted) root mean square over the last axis, scaled so that it cannot overflow."""
    m = np.max(np.abs(r), axis=-1, keepdims=True)
    m = np.where(m > 0, m, 1.0)
    z = r / m
    if W is None:
        return m[..., 0] * np.sqrt((z * z).mean(axis=-1))
    return m[..., 0] * np.sqrt((W * z * z).sum(axis=-1) / W.sum(axis=-1))


def _weighted_median(a: FloatArray, w: FloatArray | None) -> FloatArray:
    """Median over the last axis; with weights the lower weighted median (weight 0 ignored)."""
    if w is None:
        return np.median(a, axis=-1)
    w = np.broadcast_to(w, a.shape)
    order = np.argsort(a, axis=-1)
    a_s = np.take_along_axis(a, order, axis=-1)
    cw = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    j = np.argmax(cw >= 0.5 * cw[..., -1:], axis=-1)
    return np.take_along_axis(a_s, j[..., None], axis=-1)[..., 0]


def _huber(X: np.ndarray, Y: np.ndarray, beta: np.ndarray, W: np.ndarray | None) -> np.ndarray:
    """Huber (k = 1.345, MAD scale) fits: the shared batched IRLS, or with weights a weighted
    IRLS at the weighted MAD scale of the start (a start only: 30 steps)."""
    if W is None:
        res = irls(X, Y, HuberLoss(1.345), scale="mad", beta0=beta, tol=1e-6, maxiter=50)
        return np.where(np.isfinite(res.beta), res.beta, beta)
    des = EinsumDesign(X)
    r = Y - des.fitted(beta)
    s = _weighted_median(np.abs(r), W) / 0.6745
    s = np.where(s > 0, s, 1.0)
    b = beta
    for _ in range(30):
        u = np.abs(Y - des.fitted(b)) / s[:, None]
        b = _wls(X, Y, W * np.minimum(1.0, 1.345 / np.maximum(u, 1e-300)))
    return np.where(np.isfinite(b), b, beta)


def initial_sigma(
    X: np.ndarray, Y: np.ndarray, lines: np.ndarray, df: DfLike, W: np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) median absolute residual over the t quartile, the MAD scale of a t_df law.

    ``lines`` (S, R, k), ``df`` one value or (R,); returns (S, R).
    """
    r = np.abs(Y - EinsumDesign(X).fitted(lines))
    q = stats.t.ppf(0.75, df)
    s = _weighted_median(r, W) / q
    # the RMS only where the MAD vanishes (more than half the residuals zero): a gross outlier
    # must not set the start scale
    return np.where(s > 0, s, _rms(r, W))


def se_proxy(
    X: np.ndarray, Y: np.ndarray, beta_ols: np.ndarray, W: np.ndarray | None = None
) -> np.ndarray:
    """Classical (weighted) least-squares standard errors (R, k): the yardstick for 'two
    chains reached the same point'."""
    # yardstick only: the scale of the residuals times sqrt(diag (X^T X)^-1)
    r = Y - EinsumDesign(X).fitted(beta_ols)
    # the normalised MAD of the residuals (their RMS where it is 0): a robust yardstick
    mad = _weighted_median(np.abs(r), W) / 0.6744897501960817
    s = np.where(mad > 0, mad, _rms(r, W))
    if W is None:
        return s[..., None] * np.sqrt(np.diagonal(xtx_inv(X), axis1=-2, axis2=-1))
    Xw = np.sqrt(W)[..., None] * X
    return s[..., None] * np.sqrt(np.diagonal(xtx_inv(Xw), axis1=-2, axis2=-1))


def starts(X: np.ndarray, Y: np.ndarray, W: np.ndarray | None = None) -> np.ndarray:
    """Start lines (S = 5, R, k) and scale multiples: OLS, LAD, Huber, (OLS + LAD)/2, 2 OLS - LAD.

    The last two probe the direction in which outliers pull OLS away from LAD: a second mode
    usually lies beyond OLS (when OLS and LAD agree they coincide with OLS and are merged).
    LAD is solved exactly (the batched Frisch-Newton with a certified vertex): IRLS
    approximations crawl on the flat LAD objectives of clustered data and then miss basins.
    :data:`CHAIN_STARTS` says which lines start chains at which multiples of their scale.
    """
    if W is None:
        ols = lstsq(X, Y)
        lad = solve_quantile_many(X, Y, 0.5, "interior-point")[0]
    else:
        sw = np.sqrt(W)
        ols = lstsq(sw[..., None] * X, sw * Y)
        lad = solve_quantile_many(W[..., None] * X, W * Y, 0.5, "interior-point")[0]
    lad = np.where(np.isfinite(lad), lad, ols)
    lines = np.stack([ols, lad, _huber(X, Y, lad, W), 0.5 * (ols + lad), 2.0 * ols - lad])
    return lines


def distinct_optima(
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


# --------------------------------------------------------------------------------------
# chains: (problem, start) pairs fitted together


class Chains:
    """B chains — (problem, start) pairs — with their design rows, responses, weights, state."""

    def __init__(self, X, Y, W, rep, beta, sigma) -> None:
        des = Design(X)
        self.rep = rep
        self.X = des.X if des.shared else des.X[rep]
        self.Y = Y[rep]
        self.W = None if W is None else W[rep]
        self.beta, self.sigma = beta, sigma
        self.ll = np.full(rep.size, -np.inf)
        self.conv = np.zeros(rep.size, dtype=bool)
        self.n_iter = np.zeros(rep.size, dtype=int)
        self.log_df = np.zeros(rep.size)
        #: the R factor of the problems' designs (the chains run on their Q factors)
        self.rx = np.eye(beta.shape[1])

    def keep(self, idx: IntArray) -> None:
        """Keep the chains ``idx`` only."""
        self.rep = self.rep[idx]
        self.X = self.X if self.X.ndim == 2 else self.X[idx]
        self.Y = self.Y[idx]
        self.W = None if self.W is None else self.W[idx]
        self.beta, self.sigma = self.beta[idx], self.sigma[idx]
        self.ll, self.conv, self.log_df = self.ll[idx], self.conv[idx], self.log_df[idx]
        self.n_iter = self.n_iter[idx]

    def fit(self, df: DfLike, rows: IntArray, tol: float, max_iter: int) -> None:
        """Fixed-df fits of the chains ``rows`` (df one value or per chain) from their state."""
        X = self.X if self.X.ndim == 2 else self.X[rows]
        W = None if self.W is None else self.W[rows]
        dfr = df if np.ndim(df) == 0 else np.asarray(df)[rows]
        with np.errstate(all="ignore"):
            b, s, ll, it, conv = fit_fixed_df(
                X, self.Y[rows], dfr, self.beta[rows], self.sigma[rows], tol, max_iter, W
            )
        ok = np.isfinite(ll) & (s > 0) & np.all(np.isfinite(b), axis=1)
        self.beta[rows] = np.where(ok[:, None], b, self.beta[rows])
        self.sigma[rows] = np.where(ok, s, self.sigma[rows])
        self.ll[rows] = np.where(ok, ll, -np.inf)
        self.conv[rows] = conv & ok
        self.n_iter[rows] += it


def merge_chains(ch: Chains, se: FloatArray, R: int) -> None:
    """Drop failed chains and chains that reached the point of a better chain of their problem.

    Same point: coefficients within ``_SAME_POINT`` standard errors (``se`` (R, k)) and
    log sigma within ``_SAME_POINT``. The chains must be in their initial layout, C per
    problem, start-major (``rep == tile(arange(R), C)``); the comparison runs over pairs of
    chain ranks, vectorised over the problems.
    """
    C = ch.rep.size // R
    k = ch.beta.shape[1]
    ll = ch.ll.reshape(C, R)
    order = np.argsort(-ll, axis=0, kind="stable")  # (C, R): chain rank -> start
    cols = np.arange(R)
    beta = ch.beta.reshape(C, R, k)[order, cols]
    sigma = ch.sigma.reshape(C, R)[order, cols]
    finite = np.isfinite(ll[order, cols])
    keep = finite.copy()
    for p in range(1, C):
        for q in range(p):
            db = np.max(np.abs(beta[p] - beta[q]) / se, axis=1)
            with np.errstate(all="ignore"):
                ds = np.abs(np.log(sigma[p] / sigma[q]))
            keep[p] &= ~(keep[q] & (db <= _SAME_POINT) & (ds <= _SAME_POINT))
    idx = (order * R + cols)[keep]
    ch.keep(np.sort(idx))


def best_chains(ch: Chains, R: int) -> IntArray:
    """Index of each problem's highest-loglik chain (R,); -1 where a problem has none."""
    order = np.lexsort((-ch.ll, ch.rep))
    rep = ch.rep[order]
    first = np.r_[True, rep[1:] != rep[:-1]] if rep.size else np.zeros(0, dtype=bool)
    out = np.full(R, -1)
    out[rep[first]] = order[first]
    return out


def local_optima(ch: Chains, best: IntArray, se: FloatArray) -> tuple[tuple[float, ...], ...]:
    """Per problem, the log-likelihoods of the distinct local maxima other than the best."""
    out: list[tuple[float, ...]] = []
    for r, b in enumerate(best.tolist()):
        mine = np.flatnonzero(ch.rep == r)
        if b < 0 or mine.size < 2:
            out.append(())
            continue
        j = int(np.flatnonzero(mine == b)[0])
        others = distinct_optima(ch.beta[mine], ch.ll[mine], ch.conv[mine], j, se[r])
        out.append(tuple(float(ch.ll[mine][i]) for i in others))
    return tuple(out)


def oim_se_many(jac: FloatArray) -> FloatArray:
    """Square roots of the diagonals of ``inv(jac)`` (R, q); per replication (NaN where
    singular) only when the batched inverse fails."""
    with np.errstate(invalid="ignore"):
        try:
            return np.sqrt(np.diagonal(np.linalg.inv(jac), axis1=-2, axis2=-1))
        except np.linalg.LinAlgError:
            pass
        out = np.full(jac.shape[:2], np.nan)
        for r in range(len(out)):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[r] = np.sqrt(np.diag(np.linalg.inv(jac[r])))
        return out


# --------------------------------------------------------------------------------------
# fits


@dataclass(frozen=True)
class StudentTManyFit:
    """R Student-t fits (:func:`fit_student_t_many`, df fixed; or
    :func:`~tailreg.solvers.student_t_profile.fit_student_t_df_many`, df estimated).

    A problem whose response is an exact linear function of the design (``perfect``) has
    NaN everywhere and ``converged=False``.

    Attributes
    ----------
    beta : ndarray (R, k)
    sigma, df, loglik : ndarray (R,)
    converged, df_at_bound, perfect : ndarray of bool (R,)
    n_iter : ndarray of int (R,)
        EM + Newton iterations of the kept chain (df fixed); grid evaluations plus joint
        Newton iterations (df estimated).
    n_starts : int
        Chains started per problem (start lines times scale multiples).
    local_optima : tuple of tuples of float
        Per problem, the log-likelihoods of the distinct other local maxima found.
    resid : ndarray (R, n)
    scores : ndarray (R, n, q)
        Per-observation scores, ``q = k + 1`` with df fixed, ``k + 2`` with df estimated.
    jacobian : ndarray (R, q, q)
        Minus the (weighted) Hessian in :math:`(\\beta, \\sigma[, \\nu])`.
    """

    beta: FloatArray
    sigma: FloatArray
    df: FloatArray
    loglik: FloatArray
    converged: BoolArray
    df_at_bound: BoolArray
    perfect: BoolArray
    n_iter: IntArray
    n_starts: int
    local_optima: tuple[tuple[float, ...], ...]
    resid: FloatArray
    scores: FloatArray
    jacobian: FloatArray

    @property
    def n_optima(self) -> IntArray:
        """Distinct local maxima found per problem (R,): 1 + the other ones (0 if failed)."""
        found = np.array([1 + len(o) for o in self.local_optima], dtype=int)
        return np.where(np.isfinite(self.loglik), found, 0)


def assemble(
    X: FloatArray,
    Y: FloatArray,
    W: FloatArray | None,
    ch: Chains,
    scale: FloatArray,
    se: FloatArray,
    perfect: BoolArray,
    *,
    with_df: bool,
    df_at_bound: BoolArray | None = None,
    n_iter: IntArray | None = None,
    n_starts: int,
    df_fixed: float | None = None,
) -> StudentTManyFit:
    """Each problem's best chain back in the original units, with scores and information.

    The chains were fitted to ``Y / scale``: coefficients and sigma scale back by ``scale``
    (exactly: a power of two), the loglik by :math:`-\\sum_i w_i\\log(\\text{scale})`.
    """
    R = Y.shape[0]
    k = X.shape[-1]
    best = best_chains(ch, R)
    if ch.rep.size == 0:  # every chain failed: NaN results (a clear error in fit)
        ch = Chains(X, Y, W, np.zeros(1, dtype=int), np.full((1, k), np.nan), np.ones(1))
        ch.rx = np.eye(k)
    has = best >= 0
    b = np.where(has, best, 0)
    fine = has & ~perfect
    rx = np.broadcast_to(ch.rx, (R, k, k))
    beta = np.linalg.solve(rx, ch.beta[b][..., None])[..., 0]
    beta = np.where(fine[:, None], beta * scale[:, None], np.nan)
    sigma = np.where(fine, ch.sigma[b] * scale, np.nan)
    df = np.where(fine, np.exp(ch.log_df[b]) if df_fixed is None else df_fixed, np.nan)
    n_w = float(Y.shape[1]) if W is None else W.sum(axis=1)
    loglik = np.where(fine, ch.ll[b] - n_w * np.log(scale), np.nan)
    resid = Y - EinsumDesign(X).fitted(np.where(fine[:, None], beta, 0.0))
    safe_sigma = np.where(fine, sigma, 1.0)
    safe_df = np.where(fine, df, 1.0)
    with np.errstate(all="ignore"):
        scores, hess = t_scores_hessian(X, resid, safe_sigma, safe_df, with_df, W)
    scores[~fine] = np.nan
    hess[~fine] = np.nan
    others = local_optima(ch, best, se)
    shift = n_w * np.log(scale) * np.ones(R)
    others = tuple(
        tuple(v - float(shift[r]) for v in o) if fine[r] else () for r, o in enumerate(others)
    )
    return StudentTManyFit(
        beta=beta,
        sigma=sigma,
        df=df,
        loglik=loglik,
        converged=fine & ch.conv[b],
        df_at_bound=np.zeros(R, dtype=bool) if df_at_bound is None else fine & df_at_bound[b],
        perfect=perfect,
        n_iter=np.where(has, ch.n_iter[b] if n_iter is None else n_iter, 0),
        n_starts=n_starts,
        local_optima=others,
        resid=resid,
        scores=scores,
        jacobian=-hess,
    )


def prepare(
    X: FloatArray, Y: FloatArray, W: FloatArray | None, df: DfLike
) -> tuple[FloatArray, FloatArray, BoolArray, Chains, FloatArray, int]:
    """Scaling, perfect-fit test, starts and chains (initial scale at ``df``) of R problems.

    Returns the scale (R,), the scaled responses, the perfect-fit mask, the chains, the
    standard-error yardstick (R, k) and the number of chains per problem.
    """
    R = Y.shape[0]
    k = X.shape[-1]
    scale = power_of_two_scale(Y, W)
    Ys = Y / scale[:, None]
    perfect = perfect_fits(X, Ys, W)
    # a perfect fit keeps the arithmetic finite with a unit response (its results are NaN)
    Ys = np.where(perfect[:, None], np.linspace(-1.0, 1.0, Y.shape[1]) ** 3, Ys)
    # the start lines are fitted to the response clipped far outside its bulk (any line is a
    # valid start; a y near the overflow threshold would only break the start solvers)
    med = np.median(Ys, axis=1, keepdims=True)
    Yc = np.clip(Ys, med - 1e6, med + 1e6)
    lines = starts(X, Yc, W)
    sig0 = initial_sigma(X, Ys, lines, df, W)  # (S, R)
    which = np.array([j for j, _ in CHAIN_STARTS])
    mult = np.array([m for _, m in CHAIN_STARTS])
    # the chains run on the orthonormal Q of X = Q Rx, gamma = Rx beta: the likelihood is
    # the same, the EM normal equations and the Newton steps are well conditioned
    q, rx = np.linalg.qr(X)
    gam = np.einsum("...ij,s...j->s...i", rx, lines)
    C = len(CHAIN_STARTS)
    gam0 = gam[which].reshape(C * R, k)
    sigma0 = (sig0[which] * mult[:, None]).reshape(C * R)
    rep = np.tile(np.arange(R), C)
    ch = Chains(q, Ys, W, rep, gam0, sigma0)
    ch.rx = rx
    return scale, Ys, perfect, ch, se_proxy(q, Yc, gam[0], W), C


def fit_student_t_many(
    X: FloatArray,
    Y: FloatArray,
    df: float,
    *,
    tol: float,
    max_iter: int,
    weights: FloatArray | None = None,
) -> StudentTManyFit:
    """R fits with df fixed: all problems and all chains as one batched EM + Newton.

    Every chain (start line times scale multiple, :func:`starts`) is fitted to
    ``_FIRST_TOL``; chains that reached the same point are merged and the rest finish at
    ``tol``; each problem keeps its best chain. One fit is R = 1.

    Parameters
    ----------
    X : ndarray (n, k) shared or (R, n, k)
    Y : ndarray (R, n)
    df : float
    tol, max_iter : float, int
        Newton-decrement tolerance and iteration limit of the EM + Newton fits.
    weights : ndarray (R, n), optional
        Weights of the weighted log-likelihood :math:`\\sum_i w_i\\log f(e_i)` (0 drops a row).
    """
    R = Y.shape[0]
    scale, _, perfect, ch, se, C = prepare(X, Y, weights, df)
    ch.fit(df, np.arange(ch.rep.size), max(tol, _FIRST_TOL), max_iter)
    merge_chains(ch, se, R)
    ch.fit(df, np.arange(ch.rep.size), tol, max_iter)
    return assemble(
        X, Y, weights, ch, scale, se, perfect, with_df=False, n_starts=C, df_fixed=float(df)
    )
