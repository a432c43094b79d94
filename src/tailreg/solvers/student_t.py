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
(Lange et al. 1989, sec. 2), so every fit starts from several regression lines and keeps the best
(:func:`fit_student_t`; :func:`fit_student_t_many` for R fits with df fixed).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .._linalg import Design, EinsumDesign, lstsq, xtx_inv
from .._typing import BoolArray, FloatArray, IntArray
from ..exceptions import ConvergenceWarning
from ..losses import Huber as HuberLoss
from ..losses import StudentT
from .irls import irls
from .quantile_lp import solve_quantile
from .t_likelihood import log_param_derivatives, t_loglik, t_scores_hessian

__all__ = [
    "PERFECT_FIT_MESSAGE",
    "StudentTFit",
    "StudentTManyFit",
    "fit_fixed_df",
    "fit_student_t",
    "fit_student_t_many",
    "t_loglik",
    "t_scores_hessian",
]

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
# fixed-df core: batched EM + Newton


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares by QR of :math:`W^{1/2}X`, batched over the rows of ``y``."""
    sw = np.sqrt(w)
    q, r = np.linalg.qr(sw[..., None] * X)
    qty = np.einsum("...nk,...n->...k", q, sw * y)
    return np.linalg.solve(r, qty[..., None])[..., 0]


def _em_step(
    des: Design, Y: FloatArray, beta: FloatArray, sigma: FloatArray, loss: StudentT
) -> tuple[FloatArray, FloatArray]:
    """One PX-EM step (Liu, Rubin & Wu 1998) for fixed df."""
    w = loss.weight((Y - des.fitted(beta)) / sigma[:, None])
    beta = _wls(des.X, Y, w)
    r = Y - des.fitted(beta)
    sigma = np.sqrt((w * r * r).sum(axis=1) / w.sum(axis=1))
    return beta, sigma


def fit_fixed_df(
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
    des = EinsumDesign(X)
    beta, sigma = beta.copy(), sigma.copy()
    ll = t_loglik(Y - des.fitted(beta), sigma, df)
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
            di = des.take(idx)
            g, H = log_param_derivatives(di.X, Y[idx] - di.fitted(beta[idx]), sigma[idx], df, False)
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
                lt = t_loglik(Y[idx] - di.fitted(bt), st, df)
                good = trial & (lt >= ll[idx] - 1e-12 * np.abs(ll[idx]))
                sel = idx[good]
                beta[sel], sigma[sel], ll[sel] = bt[good], st[good], lt[good]
                accepted |= good
                t = np.where(trial & ~good, 0.5 * t, t)
            done[idx[ok & (dec <= tol)]] = True
            step_em[idx[~accepted & ~(ok & (dec <= tol))]] = True
        if step_em.any():
            idx = np.flatnonzero(step_em)
            di = des.take(idx)
            b_new, s_new = _em_step(di, Y[idx], beta[idx], sigma[idx], loss)
            l_new = t_loglik(Y[idx] - di.fitted(b_new), s_new, df)
            gain = l_new - ll[idx]
            beta[idx], sigma[idx], ll[idx] = b_new, s_new, l_new
            em[idx[gain < _EM_SWITCH]] = False
    return beta, sigma, ll, n_iter, done


# --------------------------------------------------------------------------------------
# starting values


def _lad(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact LAD fit (the median regression line), used as a start."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Frisch-Newton: an order of magnitude faster than HiGHS here, same exact answer
        return solve_quantile(X, y, 0.5, solver="interior-point")


def _huber(X: np.ndarray, Y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Huber (k = 1.345, MAD scale) fits by the shared batched IRLS (a start only: tol 1e-6)."""
    res = irls(X, Y, HuberLoss(1.345), scale="mad", beta0=beta, tol=1e-6, maxiter=50)
    return np.where(np.isfinite(res.beta), res.beta, beta)


def _initial_sigma(X: np.ndarray, Y: np.ndarray, beta: np.ndarray, df: float) -> np.ndarray:
    """Median absolute residual over the t quartile (the MAD scale of a t_df law)."""
    r = np.abs(Y - EinsumDesign(X).fitted(beta))
    s = np.median(r, axis=1) / stats.t.ppf(0.75, df)
    rms = np.sqrt((r * r).mean(axis=1))
    return np.where(s > 1e-8 * rms, s, rms)


def _se_proxy(X: np.ndarray, Y: np.ndarray, beta_ols: np.ndarray) -> np.ndarray:
    """Classical OLS standard errors: the yardstick for 'two starts reached the same point'."""
    n, k = X.shape[-2:]
    r = Y - EinsumDesign(X).fitted(beta_ols)
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
    des = Design(X)
    lad = np.stack([_lad(des.row(r), Y[r]) for r in range(len(Y))])
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


def _oim_se_many(jac: FloatArray) -> FloatArray:
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
        return log_param_derivatives(X, r, s, nu, True)

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


# --------------------------------------------------------------------------------------
# fits


@dataclass(frozen=True)
class StudentTFit:
    """The best of the starts of one Student-t fit (:func:`fit_student_t`).

    Attributes
    ----------
    beta : ndarray (k,)
    sigma, df, loglik : float
        ``df`` is the fixed value or the profile-likelihood estimate.
    converged, df_at_bound : bool
    n_iter : int
        EM + Newton iterations of the best start (df fixed) or profile evaluations.
    n_starts : int
    local_optima : tuple of float
        Log-likelihoods of the distinct other local maxima.
    resid : ndarray (n,)
    scores : ndarray (n, q)
    jacobian : ndarray (q, q)
        Minus the Hessian of :math:`(\\beta, \\sigma[, \\nu])`; ``q = k + 1`` with df fixed.
    """

    beta: FloatArray
    sigma: float
    df: float
    loglik: float
    converged: bool
    df_at_bound: bool
    n_iter: int
    n_starts: int
    local_optima: tuple[float, ...]
    resid: FloatArray
    scores: FloatArray
    jacobian: FloatArray


def _check_not_perfect(X: FloatArray, y: FloatArray, ols: FloatArray) -> None:
    n = X.shape[0]
    rss = float(((y - X @ ols) ** 2).sum())
    if rss <= (1e-13 * max(float(np.abs(y).max()), 1e-300)) ** 2 * n:
        raise ValueError(PERFECT_FIT_MESSAGE)


def _profile(
    X: FloatArray,
    y: FloatArray,
    beta0: FloatArray,
    se0: FloatArray,
    df_bounds: tuple[float, float],
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray, float, bool, int]:
    """Profile likelihood over log df (bounded Brent), then a joint Newton polish.

    Returns the chains' beta, sigma, loglik and converged flags, the best chain's df, whether
    it lies on a bound, and the number of profile evaluations.
    """
    n, k = X.shape
    lo = max(float(df_bounds[0]), 2.0 * k / (n - k))
    hi = float(df_bounds[1])
    if lo >= hi:
        raise ValueError(
            f"df_bounds {df_bounds!r} leave no room above the existence bound "
            f"2k/(n-k)={2.0 * k / (n - k):.4g} (n_samples={n}, k={k})"
        )
    chains = {"beta": beta0, "sigma": _initial_sigma(X, y[None, :], beta0, 4.0)}
    calls = [0]

    def profile(log_df: float) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        calls[0] += 1
        Y = np.broadcast_to(y, (len(chains["beta"]), y.size))
        b, s, ll, _, conv = fit_fixed_df(
            X, Y, np.exp(log_df), chains["beta"], chains["sigma"], tol, max_iter
        )
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
            polished = _joint_polish(X, y, beta[j], sigma[j], df[j], lo, hi, tol)
            if polished is not None and polished[3] >= ll[j]:
                beta[j], sigma[j], df[j], ll[j], conv[j] = polished
    best = int(np.argmax(ll))
    # the other chains' maxima are at their own df; compare them at face value
    return beta, sigma, ll, conv, float(df[best]), at_bound, calls[0]


def fit_student_t(
    X: FloatArray,
    y: FloatArray,
    df: float | None,
    *,
    tol: float,
    max_iter: int,
    df_bounds: tuple[float, float] = (0.1, 1000.0),
) -> StudentTFit:
    """Maximum likelihood fit of ``y = X beta + sigma e``, ``e ~ t_df`` (df None: estimated).

    Every start of :func:`_starts` is followed (as chains along the profile likelihood when
    df is estimated, :func:`_profile`); the highest maximum is kept. Raises ``ValueError`` for
    a perfect fit (the likelihood is unbounded).
    """
    k = X.shape[1]
    beta0 = _starts(X, y[None, :])[:, 0]
    ols = beta0[:1]
    _check_not_perfect(X, y, ols[0])
    se0 = _se_proxy(X, y[None, :], ols)[0]
    with_df = df is None
    if df is not None:
        Y = np.broadcast_to(y, (len(beta0), y.size))
        sigma0 = _initial_sigma(X, Y, beta0, df)
        beta, sigma, ll, it, conv = fit_fixed_df(X, Y, df, beta0, sigma0, tol, max_iter)
        ll = np.where(np.isfinite(ll) & (sigma > 0), ll, -np.inf)
        at_bound = False
        nfev = int(it[int(np.argmax(ll))])
    else:
        beta, sigma, ll, conv, df, at_bound, nfev = _profile(
            X, y, beta0, se0, df_bounds, tol, max_iter
        )
    best = int(np.argmax(ll))
    resid = y - X @ beta[best]
    scores, hess = t_scores_hessian(X, resid, sigma[best], df, with_df)
    jac = -hess
    se = _safe_se(jac)[:k]
    local = _distinct(beta, ll, conv, best, np.where(se > 0, se, se0))
    return StudentTFit(
        beta=beta[best],
        sigma=float(sigma[best]),
        df=float(df),
        loglik=float(ll[best]),
        converged=bool(conv[best]),
        df_at_bound=at_bound,
        n_iter=nfev,
        n_starts=len(beta0),
        local_optima=tuple(float(ll[j]) for j in local),
        resid=resid,
        scores=scores,
        jacobian=jac,
    )


@dataclass(frozen=True)
class StudentTManyFit:
    """R Student-t fits with df fixed (:func:`fit_student_t_many`).

    Attributes
    ----------
    beta : ndarray (R, k)
    sigma : ndarray (R,)
    converged : ndarray of bool (R,)
    n_iter : ndarray of int (R,)
    n_multimodal : int
        Replications whose starts reached distinct local maxima.
    resid : ndarray (R, n)
    scores : ndarray (R, n, k + 1)
    jacobian : ndarray (R, k + 1, k + 1)
    """

    beta: FloatArray
    sigma: FloatArray
    converged: BoolArray
    n_iter: IntArray
    n_multimodal: int
    resid: FloatArray
    scores: FloatArray
    jacobian: FloatArray


def fit_student_t_many(
    X: FloatArray, Y: FloatArray, df: float, *, tol: float, max_iter: int
) -> StudentTManyFit:
    """R fits with df fixed: all replications and all starts as one batched EM + Newton.

    Only the LAD starts are solved one by one. Each replication keeps its best start, as
    :func:`fit_student_t` does.
    """
    R = Y.shape[0]
    des = EinsumDesign(X)
    k = des.k
    starts = _starts(X, Y)  # (S, R, k)
    S = starts.shape[0]
    XS = des.repeat(S).X
    YS = np.tile(Y, (S, 1))
    b0 = starts.reshape(S * R, k)
    b, s, ll, it, conv = fit_fixed_df(XS, YS, df, b0, _initial_sigma(XS, YS, b0, df), tol, max_iter)
    b, s, ll, conv = b.reshape(S, R, k), s.reshape(S, R), ll.reshape(S, R), conv.reshape(S, R)
    ll_ok = np.where(np.isfinite(ll), ll, -np.inf)
    best = np.argmax(ll_ok, axis=0)
    rows = np.arange(R)
    beta, sigma = b[best, rows], s[best, rows]
    resid = Y - des.fitted(beta)
    scores, hess = t_scores_hessian(X, resid, sigma, df, False)
    jac = -hess
    se_beta = _oim_se_many(jac)[:, :k]
    se_beta = np.where(se_beta > 0, se_beta, _se_proxy(X, Y, starts[0]))
    n_multi = 0
    for r in range(R):
        if len(_distinct(b[:, r], ll_ok[:, r], conv[:, r], int(best[r]), se_beta[r])):
            n_multi += 1
    return StudentTManyFit(
        beta=beta,
        sigma=sigma,
        converged=conv[best, rows],
        n_iter=it.reshape(S, R)[best, rows],
        n_multimodal=n_multi,
        resid=resid,
        scores=scores,
        jacobian=jac,
    )
