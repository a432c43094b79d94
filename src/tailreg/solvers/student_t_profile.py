r"""Student-t regression with df estimated: a batched profile walk over df, then joint Newton.

For R problems at once (one fit is R = 1, so single fits and ``fit_many`` run the same
arithmetic) the log-likelihood :math:`\ell(\beta, \sigma, \nu)` of
:mod:`~tailreg.solvers.t_likelihood` is maximised in three batched stages:

1. *Starts.* Every chain of :data:`~tailreg.solvers.student_t.CHAIN_STARTS` (OLS, LAD,
   Huber and their combinations, at spread scales) is fitted at :math:`\nu_0` nearest 4 on the
   grid below (EM + Newton, :func:`~tailreg.solvers.student_t.fit_fixed_df`, all problems
   and all starts in one array program); starts that reached the same point are merged.
2. *Profile walk.* On a grid of :data:`GRID_POINTS` values of :math:`\log\nu`, equally spaced
   over :math:`[\log\nu_{lo}, \log\nu_{hi}]`, the chains are carried from :math:`\nu_0`
   upwards and downwards (warm starts), each problem until its profile log-likelihood
   :math:`\max_{chains}\max_{\beta,\sigma}\ell` falls — a bracket of the profile maximum.
3. *Joint Newton.* From each chain's state at its problem's best grid point, Newton steps on
   :math:`\phi = (\beta, \log\sigma, \log\nu)` with the analytic Hessian (eigenvalues
   replaced by their absolute values where :math:`-H` is not positive definite, a
   back-tracking line search, :math:`\log\nu` projected onto its bounds and held there while
   the gradient points outwards). Converged when the Newton decrement
   :math:`g^\top(-H)^{-1}g/2` is at most ``tol``; the step that meets it is still taken, so
   that quadratic convergence leaves :math:`\nu` accurate far below the decrement's
   :math:`\sqrt{tol}` (the profile is flat in :math:`\nu` for large :math:`\nu`: a decrement
   test alone would leave :math:`\hat\nu` relatively uncertain at :math:`10^{-5}`).

Each problem keeps its best chain; the others that reached distinct maxima are reported.
"""

from __future__ import annotations

import numpy as np

from .._linalg import EinsumDesign
from .._typing import BoolArray, FloatArray
from .student_t import Chains, StudentTManyFit, assemble, merge_chains, prepare
from .t_likelihood import log_param_derivatives, t_loglik

__all__ = ["GRID_POINTS", "df_lower_bound", "fit_student_t_df_many"]

#: grid of log df over the search interval
GRID_POINTS = 9
#: the grid walk starts at the grid point nearest this df (a typical heavy-tail value)
_DF_START = 4.0
#: fixed-df fits along the grid stop at this Newton decrement (the joint Newton finishes)
_GRID_TOL = 1e-6
#: a direction of the walk ends after this many decreases of the profile in a row
_FALLS = 1
#: back-tracking halvings per joint Newton step
_MAX_HALVINGS = 40


def df_lower_bound(lo: float, n_eff: np.ndarray, k: int) -> np.ndarray:
    r"""The search interval's lower end, raised to :math:`2k/(n-k)` per problem.

    For :math:`\nu(n-k) < k` the likelihood is unbounded (a fit through k points with
    :math:`\sigma \to 0`); ``n_eff`` counts the rows of positive weight.
    """
    with np.errstate(divide="ignore"):
        return np.maximum(float(lo), np.where(n_eff > k, 2.0 * k / (n_eff - k), np.inf))


def _profile_walk(ch: Chains, grid: FloatArray, j0: int, max_iter: int):
    """Walk the grid from ``j0`` up and down; returns the chains' states per grid point.

    ``grid`` is (R, G). A problem stops walking in a direction once its profile has
    decreased from one grid point to the next. Returns beta (G, B, k), sigma (G, B), ll (G, B)
    (``-inf`` where not evaluated) and the number of grid evaluations per problem (R,).
    """
    R, G = grid.shape
    B, k = ch.beta.shape
    betas = np.full((G, B, k), np.nan)
    sigmas = np.full((G, B), np.nan)
    lls = np.full((G, B), -np.inf)
    evals = np.ones(R, dtype=int)

    def record(j: int) -> None:
        betas[j], sigmas[j], lls[j] = ch.beta, ch.sigma, ch.ll

    def profile(j: int) -> FloatArray:
        out = np.full(R, -np.inf)
        np.maximum.at(out, ch.rep, lls[j])
        return out

    record(j0)
    for step in (1, -1):
        ch.beta, ch.sigma = betas[j0].copy(), sigmas[j0].copy()
        best = profile(j0)
        falls = np.zeros(R, dtype=int)
        j = j0 + step
        while 0 <= j < G:
            walking = falls < _FALLS
            if not walking.any():
                break
            rows = np.flatnonzero(walking[ch.rep])
            ch.ll[:] = -np.inf
            ch.fit(np.exp(grid[ch.rep, j]), rows, _GRID_TOL, max_iter)
            record(j)
            evals += walking
            prof = profile(j)
            up = prof > best
            falls = np.where(walking & ~up, falls + 1, np.where(walking, 0, falls))
            best = np.where(walking & up, prof, best)
            j += step
    return betas, sigmas, lls, evals


def _newton_direction(g: FloatArray, negh: FloatArray) -> tuple[FloatArray, BoolArray]:
    """:math:`(-H)^{-1}g` with the eigenvalues of ``-H`` replaced by their absolute values."""
    finite = np.all(np.isfinite(negh), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
    negh = np.where(finite[:, None, None], negh, np.eye(negh.shape[-1]))
    g = np.where(finite[:, None], g, 0.0)
    lam, vec = np.linalg.eigh(negh)
    pd = finite & (lam[:, 0] > 0)
    top = np.max(np.abs(lam), axis=1, keepdims=True)
    lam = np.maximum(np.abs(lam), 1e-12 * top)
    lam = np.where(lam > 0, lam, 1.0)
    coef = np.einsum("bqi,bq->bi", vec, g) / lam
    return np.einsum("bqi,bi->bq", vec, coef), pd


def _joint_newton(ch: Chains, lo: FloatArray, hi: float, tol: float, max_iter: int):
    r"""Newton on :math:`(\beta, \log\sigma, \log\nu)` for all chains; ``ch.ll`` is updated.

    Sets ``ch.log_df``, ``ch.ll`` and ``ch.conv``; returns at-bound flags and iterations (B,).
    """
    B, k = ch.beta.shape
    des = EinsumDesign(ch.X)
    log_lo, log_hi = np.log(lo), np.log(hi)
    log_df = ch.log_df
    done = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=int)
    ll = t_loglik(ch.Y - des.fitted(ch.beta), ch.sigma, np.exp(log_df), ch.W)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        n_iter[act] += 1
        da = des.take(act)
        Wa = None if ch.W is None else ch.W[act]
        nu = np.exp(log_df[act])
        g, H = log_param_derivatives(
            da.X, ch.Y[act] - da.fitted(ch.beta[act]), ch.sigma[act], nu, True, Wa
        )
        # df on a bound is held there while the likelihood rises beyond it
        at_lo = log_df[act] <= log_lo[act]
        at_hi = log_df[act] >= log_hi
        pin = (at_lo & (g[:, -1] < 0)) | (at_hi & (g[:, -1] > 0))
        g[pin, -1] = 0.0
        negh = -H
        negh[pin, -1, :] = 0.0
        negh[pin, :, -1] = 0.0
        negh[pin, -1, -1] = 1.0
        delta, pd = _newton_direction(g, negh)
        dec = 0.5 * np.einsum("bq,bq->b", g, delta)
        final = pd & (dec <= tol)
        t = np.ones(act.size)
        moved = np.zeros(act.size, dtype=bool)
        for _ in range(_MAX_HALVINGS):
            trial = ~moved
            if not trial.any():
                break
            bt = ch.beta[act] + t[:, None] * delta[:, :k]
            st = ch.sigma[act] * np.exp(t * delta[:, k])
            lt_df = np.clip(log_df[act] + t * delta[:, k + 1], log_lo[act], log_hi)
            with np.errstate(all="ignore"):
                lt = t_loglik(ch.Y[act] - da.fitted(bt), st, np.exp(lt_df), Wa)
            good = trial & np.isfinite(lt) & (lt >= ll[act] - 1e-12 * np.abs(ll[act]))
            sel = act[good]
            ch.beta[sel], ch.sigma[sel] = bt[good], st[good]
            log_df[sel], ll[sel] = lt_df[good], lt[good]
            moved |= good
            t = np.where(trial & ~good, 0.5 * t, t)
        # converged: the decrement met tol (its step taken when it did not lower the loglik)
        done[act[final]] = True
        # a step that cannot raise the loglik at all: rounding level, stop (flagged by pd/dec)
        stuck = ~moved & ~final
        done[act[stuck]] = True
        ch.conv[act] = final
    ch.ll[:] = ll
    ch.log_df = log_df
    at_bound = (log_df <= log_lo) | (log_df >= log_hi)
    return at_bound, n_iter


def fit_student_t_df_many(
    X: FloatArray,
    Y: FloatArray,
    *,
    tol: float,
    max_iter: int,
    df_bounds: tuple[float, float] = (0.1, 1000.0),
    weights: FloatArray | None = None,
) -> StudentTManyFit:
    r"""Maximum likelihood fits of ``y = X beta + sigma e``, ``e ~ t_df``, df estimated.

    Parameters
    ----------
    X : ndarray (n, k) shared or (R, n, k)
    Y : ndarray (R, n)
    tol, max_iter : float, int
        Newton-decrement tolerance and iteration limit (per fixed-df fit and of the joint
        Newton).
    df_bounds : (float, float)
        The search interval (its lower end raised to :func:`df_lower_bound`).
    weights : ndarray (R, n), optional
        Observation weights of the weighted log-likelihood :math:`\sum_i w_i \log f(e_i)`
        (0 drops a row).

    Raises ``ValueError`` when the interval is empty above the existence bound.
    """
    R, n = Y.shape
    k = X.shape[-1]
    n_eff = np.full(R, float(n)) if weights is None else (weights > 0).sum(axis=1).astype(float)
    lo = df_lower_bound(df_bounds[0], n_eff, k)
    hi = float(df_bounds[1])
    if np.any(lo >= hi):
        r = int(np.argmax(lo >= hi))
        raise ValueError(
            f"df_bounds {tuple(df_bounds)!r} leave no room above the existence bound "
            f"2k/(n-k)={2.0 * k / (n_eff[r] - k):.4g} (n_samples={int(n_eff[r])}, k={k})"
        )
    grid = np.log(lo)[:, None] + (np.log(hi) - np.log(lo))[:, None] * np.linspace(
        0.0, 1.0, GRID_POINTS
    )
    j0 = int(np.argmin(np.abs(np.median(grid, axis=0) - np.log(_DF_START))))
    scale, _, perfect, ch, se, C = prepare(X, Y, weights, np.exp(grid[:, j0]))
    ch.fit(np.exp(grid[ch.rep, j0]), np.arange(ch.rep.size), _GRID_TOL, max_iter)
    merge_chains(ch, se, R)
    if ch.rep.size == 0:  # every chain failed: NaN results (a clear error in fit)
        return assemble(X, Y, weights, ch, scale, se, perfect, with_df=True, n_starts=C)
    betas, sigmas, lls, evals = _profile_walk(ch, grid, j0, max_iter)
    # each chain continues from its problem's best grid point
    prof = np.full((GRID_POINTS, R), -np.inf)
    for j in range(GRID_POINTS):
        np.maximum.at(prof[j], ch.rep, lls[j])
    jbest = np.argmax(prof, axis=0)[ch.rep]
    cols = np.arange(ch.rep.size)
    ch.beta, ch.sigma = betas[jbest, cols].copy(), sigmas[jbest, cols].copy()
    ch.ll = lls[jbest, cols].copy()
    fine = np.isfinite(ch.ll)
    ch.log_df = grid[ch.rep, jbest]
    ch.keep(np.flatnonzero(fine))
    pinned, n_newton = _joint_newton(ch, lo[ch.rep], hi, tol, max_iter)
    ch.n_iter = evals[ch.rep] + n_newton
    return assemble(
        X,
        Y,
        weights,
        ch,
        scale,
        se,
        perfect,
        with_df=True,
        df_at_bound=pinned,
        n_starts=C,
    )
