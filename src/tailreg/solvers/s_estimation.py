r"""S-estimation of regression by fast-S, with the conventions of robustbase's ``lmrob.S``.

An S-estimate (Rousseeuw & Yohai 1984) minimises an M-scale of the residuals,

.. math::
    \hat\beta_S = \arg\min_\beta s(\beta), \qquad
    \frac{1}{n - k}\sum_{i=1}^n \chi\!\left(\frac{y_i - x_i^\top\beta}{s(\beta)}\right) = b,

with :math:`\chi = \rho_c/\sup\rho_c` the bisquare loss normalised to :math:`[0, 1]`. With
:math:`b = 1/2` and :math:`c = 1.54764` (:math:`E_\Phi\chi_c = 1/2`) the breakdown point is
50%. The objective is non-convex; fast-S (Salibian-Barrera & Yohai 2006) searches it from
random elemental fits:

1. draw ``n_resample`` random subsets of ``k`` rows, skipping singular ones, and solve each
   exactly;
2. refine every candidate by ``k_fast`` I-steps (one M-scale step, then a weighted
   least-squares fit with the bisquare weights);
3. keep the ``best_r`` candidates with the smallest M-scale of their residuals and iterate
   the I-steps on them to convergence; the smallest scale wins.

Conventions copied from robustbase 0.95 (``src/lmrob.c``: ``fast_s``, ``refine_fast_s``,
``find_scale``, ``sum_rho_sc``): the M-scale divides by ``n - k``; the first I-step starts
from :math:`1.4826\,\mathrm{median}|r_i|`; an I-step's scale step is
:math:`s \leftarrow s\sqrt{\operatorname{ave}\chi(r/s)/b}` and the S-scale returned is the
last such step, as robustbase; candidates are ranked by their M-scale solved to a relative
1e-10; refinement stops when :math:`\|\beta_j - \beta_{j+1}\|_2 \le 10^{-7}\max(10^{-7},
\|\beta_j\|_2)`; more than ``n/2`` residuals within :math:`10^{-10}\,\overline{|y|}` of
zero is an exact fit with scale 0.

Differences: all candidates are processed together as stacked arrays; the M-scales are
solved by a safeguarded Newton iteration (same root, 5 steps instead of 30-60) and only for
the candidates that can still be among the best; subsets are drawn by numpy and a singular
subset is redrawn (robustbase's "nonsingular" subsampling instead swaps rows within the
subset); robustbase's ``fast_s_large_n`` (n > 2000: subsamples in groups) is not
implemented — large n uses the plain algorithm in bounded-memory chunks of candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import optimize
from threadpoolctl import ThreadpoolController

from .._linalg import Design
from .._validation import check_random_state
from ..losses import Bisquare
from ..theory import normal_expectation
from . import fast_s_kernels

__all__ = [
    "BISQUARE_CHI_C50",
    "BISQUARE_PSI_C95",
    "SResult",
    "bisquare_c_for_breakdown",
    "bisquare_c_for_efficiency",
    "chi",
    "fast_s",
    "fast_s_many",
    "m_scale",
    "robust_y_scale",
]

#: robustbase's ``tuning.chi``: bisquare c with :math:`E_\Phi\chi_c = 1/2` (50% breakdown)
BISQUARE_CHI_C50 = 1.54764
#: robustbase's ``tuning.psi``: bisquare c with 95% efficiency at the normal
BISQUARE_PSI_C95 = 4.685061

_MAD_CONSTANT = 1.4826  # robustbase's C code (not 1/qnorm(3/4) to more digits)
_MAX_CHUNK_ELEMENTS = 4_000_000  # bounds the (candidates, n) work arrays for large n


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


# --------------------------------------------------------------------------------------
# tuning constants


@cache
def bisquare_c_for_breakdown(breakdown: float) -> float:
    r"""Bisquare ``c`` of an S-estimator with the given breakdown point.

    Solves :math:`E_\Phi[\chi_c(Z)] = \varepsilon^*` with :math:`\chi_c = \rho_c/\sup\rho_c`
    and :math:`b = \varepsilon^*` on the right-hand side of the M-scale equation, which gives
    breakdown point :math:`\min(b, 1 - b) = \varepsilon^*` (Rousseeuw & Yohai 1984).
    ``breakdown = 0.5`` gives 1.547645 (robustbase rounds it to 1.54764).

    Parameters
    ----------
    breakdown : float in (0, 0.5]

    Returns
    -------
    float
    """

    def gap(c: float) -> float:
        return normal_expectation(Bisquare(c).chi, c) - breakdown

    return float(optimize.brentq(gap, 0.05, 50.0, xtol=1e-12))


@cache
def bisquare_c_for_efficiency(efficiency: float) -> float:
    r"""Bisquare ``c`` of an M-estimator with the given asymptotic efficiency at the normal.

    Solves :math:`(E_\Phi\psi_c')^2 / E_\Phi\psi_c^2 = e` (the efficiency relative to least
    squares with known scale; Huber 1981, sec. 4.2). ``efficiency = 0.95`` gives 4.685061.

    Parameters
    ----------
    efficiency : float in (0, 1)

    Returns
    -------
    float
    """

    def gap(c: float) -> float:
        loss = Bisquare(c)
        num = normal_expectation(loss.psi_prime, c) ** 2
        den = normal_expectation(lambda u: loss.psi(u) ** 2, c)
        return num / den - efficiency

    return float(optimize.brentq(gap, 0.1, 100.0, xtol=1e-12))


# --------------------------------------------------------------------------------------
# M-scale


def chi(u: np.ndarray, c: float) -> np.ndarray:
    r"""Bisquare loss normalised to :math:`\sup\chi = 1`: ``Bisquare(c).chi(u)``.

    robustbase's ``Mchi(u, c, "bisquare")``, the scale function of its S-estimator; one
    implementation, :meth:`tailreg.losses.Bisquare.chi`.
    """
    return Bisquare(c).chi(u)


def _ave_chi(R: np.ndarray, s: np.ndarray, c: float, dof: int) -> np.ndarray:
    r""":math:`\sum_i\chi(r_i/s)/(n - k)` along the last axis, one scale per row."""
    return chi(R / s[..., None], c).sum(axis=-1) / dof


def robust_y_scale(y: np.ndarray) -> float:
    r"""The size of ``y`` that the exact-fit test scales its zero level by.

    :math:`\operatorname{median}|y_i - \operatorname{median} y|`, or
    :math:`\operatorname{median}|y_i|` when more than half the ``y`` are equal. robustbase
    uses :math:`\overline{|y|}`, which one gross outlier dominates: with a y value of 1e14
    among 50 of unit size every residual below 2e2 counted as zero and fast-S reported a
    false exact fit (issue 12). Units of ``y`` scale both alike.
    """
    y = np.asarray(y, dtype=float)
    med = float(np.median(y))
    v = float(np.median(np.abs(y - med)))
    if not v > 0:
        v = float(np.median(np.abs(y)))
    return v if np.isfinite(v) else 0.0


def m_scale(
    R: np.ndarray,
    c: float,
    b: float,
    s0: np.ndarray,
    *,
    n_coef: int = 0,
    tol: float = 1e-10,
    maxiter: int = 200,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""M-scale of residual rows: the root of :math:`\sum_i\chi(r_i/s)/(n - k) = b`.

    The root robustbase's ``find_scale`` approaches by the fixed point
    :math:`s \leftarrow s\sqrt{\operatorname{ave}\chi(r/s)/b}`, found here by a safeguarded
    Newton iteration in :math:`\log s` (see :func:`_solve_m_scales`), which needs about 5
    steps instead of 30-60. Stops when a step changes ``s`` by at most ``tol`` relative.

    Parameters
    ----------
    R : ndarray (m, n)
        Residuals, one candidate per row.
    c, b : float
        Tuning constant of :func:`chi` and right-hand side.
    s0 : ndarray (m,)
        Positive starting scales.
    n_coef : int
        ``k`` in the ``n - k`` denominator.

    Returns
    -------
    scale : ndarray (m,)
    converged : ndarray of bool (m,)
    n_iter : ndarray of int (m,)
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    s0 = np.broadcast_to(np.asarray(s0, dtype=float), R.shape[:1])
    return _solve_m_scales(R, c, b, s0, R.shape[-1] - n_coef, tol, maxiter)


def _solve_m_scales(
    R: np.ndarray,
    c: float,
    b: float,
    s0: np.ndarray,
    dof: int,
    tol: float,
    maxiter: int,
    n_best: int | None = None,
    worst: float = np.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Safeguarded Newton solve of the M-scale equation for many rows, with optional screening.

    With :math:`t_i = \min((r_i/cs)^2, 1)`, :math:`\chi = 3t - 3t^2 + t^3` and
    :math:`d\chi/d\log s = -6t(1-t)^2`. Newton's method is applied to
    :math:`h(\log s) = \log\operatorname{ave}\chi - \log b`, which is nearly linear (slope
    -2) for large ``s`` where :math:`\chi \propto u^2`, so a start far above the root lands
    near it in one step: :math:`\log s \mathrel{+}= \log(g/b)\,g/\operatorname{ave}
    6t(1-t)^2` with :math:`g = \operatorname{ave}\chi`. Every evaluated ``s`` is a proven
    lower (:math:`g > b`) or upper (:math:`g \le b`) bound of the root; a step leaving the
    bracket is replaced by its geometric midpoint (or by halving/doubling while one side is
    open).

    With ``n_best``, rows are dropped (scale ``inf``) as soon as their lower bound reaches
    the ``n_best``-th smallest upper bound or ``worst``: they cannot be among the ``n_best``
    smallest scales, so only the contenders are solved to full precision.
    """
    m = R.shape[0]
    s = np.array(s0, dtype=float)
    lo = np.zeros(m)
    hi = np.full(m, np.inf)
    converged = np.zeros(m, dtype=bool)
    n_iter = np.zeros(m, dtype=int)
    alive = np.isfinite(s) & (s > 0)
    s[~alive] = np.inf
    act = np.flatnonzero(alive)
    for it in range(1, maxiter + 1):
        if act.size == 0:
            break
        sa = s[act]
        t = np.minimum((R[act] / (c * sa)[:, None]) ** 2, 1.0)
        g = (t * (3.0 + t * (-3.0 + t))).sum(axis=1) / dof
        slope = (6.0 * t * (1.0 - t) ** 2).sum(axis=1) / dof
        up = g <= b
        la = np.where(up, lo[act], sa)
        ha = np.where(up, sa, hi[act])
        lo[act], hi[act] = la, ha
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            new = sa * np.exp(np.log(g / b) * g / slope)
        bad = ~np.isfinite(new) | (new < la) | (new > ha)
        if bad.any():
            mid = np.where(
                np.isfinite(ha) & (la > 0), np.sqrt(la * ha), np.where(up, 0.5 * sa, 2.0 * sa)
            )
            new = np.where(bad, mid, new)
        done = np.abs(new - sa) <= tol * sa
        s[act] = new
        n_iter[act] = it
        converged[act[done]] = True
        act = act[~done]
        if n_best is not None:
            bound = np.where(converged, s, hi)
            bound[~alive] = np.inf
            cut = worst
            if alive.sum() >= n_best:
                cut = min(cut, float(np.partition(bound, n_best - 1)[n_best - 1]))
            dead = alive & (lo >= cut)
            dead |= alive & converged & (s > cut)
            if dead.any():
                alive &= ~dead
                s[dead] = np.inf
                act = act[alive[act]]
    return s, converged, n_iter


# --------------------------------------------------------------------------------------
# fast-S


@dataclass(frozen=True)
class SResult:
    """Result of :func:`fast_s`.

    Attributes
    ----------
    beta : ndarray (k,)
    scale : float
        The S-scale (0 for an exact fit of more than half the data).
    resid : ndarray (n,)
    converged : bool
        False when a refinement of the best candidates hit ``k_max`` steps.
    n_iter : int
        Most refinement steps used by a final candidate.
    n_singular : int
        Singular elemental subsets drawn and skipped.
    """

    beta: np.ndarray
    scale: float
    resid: np.ndarray
    converged: bool
    n_iter: int
    n_singular: int


def _draw_subsets(rng: np.random.Generator, n: int, k: int, m: int) -> np.ndarray:
    """``m`` random sets of ``k`` distinct rows out of ``n`` (redrawing sets with repeats)."""
    idx = rng.integers(0, n, size=(m, k))
    while True:
        srt = np.sort(idx, axis=1)
        bad = np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))
        if bad.size == 0:
            return idx
        idx[bad] = rng.integers(0, n, size=(bad.size, k))


def _elemental_fits(
    X: np.ndarray, y: np.ndarray, k: int, m: int, rng: np.random.Generator, solve_tol: float
) -> tuple[np.ndarray, int]:
    """Exact fits through ``m`` non-singular random elemental subsets.

    A subset is singular when its smallest singular value is below ``solve_tol`` times the
    largest (after scaling the columns of ``X`` to unit norm); singular ones are redrawn, as
    robustbase's non-singular subsampling avoids them. Gives up on the missing ones after
    many rounds (e.g. a dummy regressor that is 1 in a single row).
    """
    n = X.shape[0]
    betas = np.empty((m, k))
    todo = np.arange(m)
    n_singular = 0
    for _ in range(200):
        idx = _draw_subsets(rng, n, k, todo.size)
        Xs = X[idx]
        sv = np.linalg.svd(Xs, compute_uv=False)
        ok = sv[:, -1] > solve_tol * sv[:, 0]
        n_singular += int((~ok).sum())
        if ok.any():
            betas[todo[ok]] = np.linalg.solve(Xs[ok], y[idx[ok]][..., None])[..., 0]
        todo = todo[~ok]
        if todo.size == 0:
            break
    keep = np.setdiff1d(np.arange(m), todo)
    if keep.size == 0:
        raise ValueError(
            "fast-S found no non-singular elemental subset of the design; the S-estimator "
            "needs subsets of k rows with full rank (check for rare dummy regressors)"
        )
    return betas[keep], n_singular


def _wls_step(design: Design, R: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares increments :math:`(X^\top WX)^{-1}X^\top Wr`, one per row (m, k).

    Adding the increment to the current coefficients gives the weighted least-squares fit;
    solving for the increment keeps the rounding error of the normal equations proportional
    to the step rather than to the coefficients. The design is shared by the m candidates, so
    all m Gram matrices come from one matrix product (:meth:`~tailreg._linalg.Design.gram`).
    """
    A = design.gram(w)
    rhs = design.tdot(w * R)
    # Jacobi scaling makes the normal equations independent of the units of the columns
    d = np.sqrt(np.diagonal(A, axis1=1, axis2=2))
    d = np.where(d > 0, d, 1.0)
    A = A / (d[:, :, None] * d[:, None, :])
    rhs = rhs / d
    try:
        sol = np.linalg.solve(A, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        # fewer than k points with positive weight: a minimum-norm step keeps the search going
        sol = (np.linalg.pinv(A) @ rhs[..., None])[..., 0]
    return sol / d


def _refine(
    X: np.ndarray,
    y: np.ndarray,
    betas: np.ndarray,
    scales: np.ndarray | None,
    n_steps: int,
    c: float,
    b: float,
    zero_level: float,
    check_convergence: bool,
    tol: float,
    y_size: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """I-steps of fast-S on stacked candidates (robustbase ``refine_fast_s``).

    Each step takes one M-scale step from the current scale, then refits by weighted least
    squares with the bisquare weights :math:`w(r_i/s)`. Without ``check_convergence`` exactly
    ``n_steps`` steps are taken; with it a candidate stops once its coefficients move by at
    most ``tol`` relative. Candidates with more than ``n/2`` residuals at zero (or a zero
    starting scale) are exact fits and get scale 0.

    Returns
    -------
    betas (m, k), scales (m,), resid (m, n), converged (m,), n_iter (m,)
    """
    n, k = X.shape
    loss = Bisquare(c)
    design = Design(X)
    beta = betas.copy()
    R = y[None, :] - design.fitted(beta)
    absR = np.abs(R)
    s = _MAD_CONSTANT * np.median(absR, axis=1) if scales is None else scales.copy()
    exact = (s <= 0) | ((absR <= zero_level).sum(axis=1) > n / 2.0)
    s[exact] = 0.0
    converged = exact.copy()
    n_iter = np.zeros(beta.shape[0], dtype=int)
    active = np.flatnonzero(~exact)
    for step in range(n_steps):
        if active.size == 0:
            break
        Ra = R[active]
        sa = s[active] * np.sqrt(_ave_chi(Ra, s[active], c, n - k) / b)
        s[active] = sa
        new = beta[active] + _wls_step(design, Ra, loss.weight(Ra / sa[:, None]))
        n_iter[active] = step + 1
        if check_convergence:
            old = beta[active]
            delta = np.linalg.norm(old - new, axis=1)
            # robustbase's floor max(tol, |beta|) is in the units of beta; tol * size(y)
            # is the same for data of unit size and keeps the test equivariant in y
            done = delta <= tol * np.maximum(tol * y_size, np.linalg.norm(old, axis=1))
        else:
            done = np.zeros(active.size, dtype=bool)
        beta[active] = new
        converged[active[done]] = True
        # a converged candidate keeps the residuals of its previous step, as robustbase
        moving = active[~done]
        R[moving] = y[None, :] - design.fitted(beta[moving])
        active = moving
    return beta, s, R, converged, n_iter


def _smallest_m_scales(
    R: np.ndarray, proxy: np.ndarray, n_best: int, worst: float, c: float, b: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Indices and M-scales of the (up to) ``n_best`` rows of ``R`` with the smallest M-scale.

    Only rows whose M-scale does not exceed ``worst`` count (robustbase keeps a candidate when
    :math:`\operatorname{ave}\chi(r/s_{worst}) < b`). Solving the scale equation for every
    candidate would dominate fast-S, so the rows are screened exactly first: the rows with
    the smallest one-step scales ``proxy`` are solved, the ``n_best``-th smallest of their
    M-scales ``t`` bounds the answer, and since :math:`\operatorname{ave}\chi(r/t)`
    decreases in ``t`` a row can only qualify when :math:`\operatorname{ave}\chi(r/t) \le
    b` — one pass over all rows. The survivors are then solved, dropping those that provably
    cannot make the cut on the way.
    """
    dof = R.shape[1] - k
    ok = np.flatnonzero(np.isfinite(proxy) & (proxy > 0))
    if ok.size == 0:
        return ok, np.empty(0)
    n_probe = min(ok.size, 4 * n_best)
    probe = ok[np.argpartition(proxy[ok], n_probe - 1)[:n_probe]]
    s_probe, _, _ = _solve_m_scales(R[probe], c, b, proxy[probe], dof, 1e-10, 200)
    t = min(worst, float(np.sort(s_probe)[min(n_best, n_probe) - 1]))
    rows = ok
    if np.isfinite(t):
        # the relative margin keeps rows whose M-scale equals t up to rounding
        rows = ok[_ave_chi(R[ok], np.full(ok.size, t * (1.0 + 1e-9)), c, dof) <= b]
    s, _, _ = _solve_m_scales(
        R[rows], c, b, proxy[rows], dof, 1e-10, 200, n_best=n_best, worst=worst
    )
    fin = np.flatnonzero(s <= worst)
    keep = fin[np.argsort(s[fin], kind="stable")[:n_best]]
    return rows[keep], s[keep]


def fast_s(
    X: np.ndarray,
    y: np.ndarray,
    *,
    c: float = BISQUARE_CHI_C50,
    b: float = 0.5,
    rng: np.random.Generator,
    n_resample: int = 500,
    k_fast: int = 1,
    best_r: int = 2,
    k_max: int = 200,
    refine_tol: float = 1e-7,
    solve_tol: float = 1e-7,
    zero_tol: float = 1e-10,
) -> SResult:
    """S-estimate of regression by fast-S (Salibian-Barrera & Yohai 2006; robustbase ``lmrob.S``).

    No input checks (the estimator validates once at its boundary).

    Parameters
    ----------
    X : ndarray (n, k)
        Design including any constant column; full column rank.
    y : ndarray (n,)
    c, b : float
        Bisquare constant of :func:`chi` and right-hand side of the M-scale equation
        (1.54764 and 0.5: 50% breakdown).
    rng : numpy Generator
        Draws the elemental subsets.
    n_resample : int
        Random elemental subsets (robustbase ``nResample``).
    k_fast : int
        I-steps applied to every candidate (``k.fast.s``).
    best_r : int
        Candidates refined to convergence (``best.r.s``).
    k_max, refine_tol : int, float
        Step limit and relative tolerance of the final refinements (``k.max``,
        ``refine.tol``).
    solve_tol : float
        Relative singular-value threshold below which a subset is singular (``solve.tol``).
    zero_tol : float
        A residual is zero when below ``zero_tol * mean(|y|)`` (``zero.tol``).

    Returns
    -------
    SResult
    """
    # the stacked products here are small (k columns); multi-threaded BLAS only adds
    # synchronisation cost (10-50x slower on a busy 2-core machine)
    with _threadpools().limit(limits=1, user_api="blas"):
        return _fast_s(
            X, y, c, b, rng, n_resample, k_fast, best_r, k_max, refine_tol, solve_tol, zero_tol
        )


def _fast_s(
    X, y, c, b, rng, n_resample, k_fast, best_r, k_max, refine_tol, solve_tol, zero_tol
) -> SResult:
    n, k = X.shape
    y_size = robust_y_scale(y)
    zero_level = zero_tol * y_size
    # unit-norm columns make the subset singularity test independent of the units
    col = np.linalg.norm(X, axis=0)
    col[col == 0] = 1.0
    cand, n_singular = _elemental_fits(X / col, y, k, n_resample, rng, solve_tol)
    cand = cand / col

    chunk = max(1, _MAX_CHUNK_ELEMENTS // max(n, 1))
    best_beta = np.empty((0, k))
    best_scale = np.empty(0)
    worst = np.inf
    for start in range(0, cand.shape[0], chunk):
        beta, s, R, _, _ = _refine(
            X, y, cand[start : start + chunk], None, k_fast, c, b, zero_level, False, 0.0
        )
        zero = np.flatnonzero(s == 0)
        if zero.size:
            # more than half the data fitted exactly by a candidate: robustbase stops there
            # with that elemental fit and scale 0
            beta0 = cand[start + zero[0]]
            return SResult(beta0, 0.0, y - X @ beta0, True, 0, n_singular)
        rows, scales = _smallest_m_scales(R, s, best_r, worst, c, b, k)
        best_beta = np.concatenate([best_beta, beta[rows]])
        best_scale = np.concatenate([best_scale, scales])
        keep = np.argsort(best_scale, kind="stable")[:best_r]
        best_beta, best_scale = best_beta[keep], best_scale[keep]
        if best_scale.size == best_r:
            worst = float(best_scale[-1])

    beta, s, _, conv, n_iter = _refine(
        X, y, best_beta, best_scale, k_max, c, b, zero_level, True, refine_tol, y_size
    )
    # the first strictly smallest scale wins, as robustbase's loop over the best candidates
    i = int(np.argmin(s))
    beta_s = beta[i]
    return SResult(
        beta=beta_s,
        scale=float(s[i]),
        resid=y - X @ beta_s,
        converged=bool(conv.all()),
        n_iter=int(n_iter.max(initial=0)),
        n_singular=n_singular,
    )


# --------------------------------------------------------------------------------------
# fast-S for many fits (compiled kernels when numba is there)


@dataclass(frozen=True)
class SManyResult:
    """Result of :func:`fast_s_many` for R fits: the fields of :class:`SResult` stacked."""

    beta: np.ndarray
    scale: np.ndarray
    resid: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    n_singular: np.ndarray

    def row(self, r: int) -> SResult:
        """Fit ``r`` as an :class:`SResult`."""
        return SResult(
            self.beta[r],
            float(self.scale[r]),
            self.resid[r],
            bool(self.converged[r]),
            int(self.n_iter[r]),
            int(self.n_singular[r]),
        )


def _elemental_group(
    Xn: np.ndarray, Y: np.ndarray, rng: np.random.Generator, m: int, solve_tol: float
) -> tuple[np.ndarray, int]:
    """:func:`_elemental_fits` by the compiled kernel for responses ``Y`` (g, n) sharing ``Xn``.

    The same draws in the same order as :func:`_elemental_fits` (the singular pattern
    depends on the design only, so the g responses share it). Returns (g, m', k) fits.
    """
    n, k = Xn.shape
    g = Y.shape[0]
    X3 = Xn[None]
    betas = np.empty((g, m, k))
    todo = np.arange(m)
    n_singular = 0
    for _ in range(200):
        idx = _draw_subsets(rng, n, k, todo.size)
        idx3 = np.ascontiguousarray(np.broadcast_to(idx, (g, *idx.shape)))
        bt, status = fast_s_kernels.elemental_fits_many(X3, Y, idx3, solve_tol)
        st = status[0]
        undecided = np.flatnonzero(st == 2)
        if undecided.size:  # the Frobenius bracket straddles solve_tol: the SVD decides
            Xs = Xn[idx[undecided]]
            sv = np.linalg.svd(Xs, compute_uv=False)
            good = sv[:, -1] > solve_tol * sv[:, 0]
            st = st.copy()
            st[undecided] = np.where(good, 0, 1)
            gi = undecided[good]
            if gi.size:
                bt[:, gi] = np.linalg.solve(Xn[idx[gi]][None], Y[:, idx[gi]][..., None])[..., 0]
        ok = st == 0
        n_singular += int((~ok).sum())
        if ok.any():
            betas[:, todo[ok]] = bt[:, ok]
        todo = todo[~ok]
        if todo.size == 0:
            break
    keep = np.setdiff1d(np.arange(m), todo)
    if keep.size == 0:
        raise ValueError(
            "fast-S found no non-singular elemental subset of the design; the S-estimator "
            "needs subsets of k rows with full rank (check for rare dummy regressors)"
        )
    return betas[:, keep], n_singular


def fast_s_many(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    random_state: np.random.Generator | int | np.random.SeedSequence | None,
    c: float = BISQUARE_CHI_C50,
    b: float = 0.5,
    n_resample: int = 500,
    k_fast: int = 1,
    best_r: int = 2,
    k_max: int = 200,
    refine_tol: float = 1e-7,
    solve_tol: float = 1e-7,
    zero_tol: float = 1e-10,
) -> SManyResult:
    """:func:`fast_s` for R fits: ``X`` (n, k) shared or (R, n, k), ``Y`` (R, n).

    Every fit draws its subsets as a separate :func:`fast_s` call given
    ``check_random_state(random_state)`` would: an int or ``SeedSequence`` (or None) seeds
    a fresh generator per fit (the same subsets for every fit of a shared design), a
    ``Generator`` is consumed fit after fit. With numba (:mod:`.fast_s_kernels`) the
    elemental fits and the whole candidate search run in compiled loops over fits and
    candidates; without it each fit runs the numpy :func:`fast_s`. The two agree to
    rounding.
    """
    Y = np.ascontiguousarray(Y, dtype=float)
    R, n = Y.shape
    X3 = X[None] if X.ndim == 2 else X
    k = X3.shape[-1]
    shared = X3.shape[0] == 1

    def rng_for() -> np.random.Generator:
        return check_random_state(random_state)

    if not fast_s_kernels.HAVE_NUMBA:
        fits = [
            fast_s(
                X3[0 if shared else r],
                Y[r],
                c=c,
                b=b,
                rng=rng_for(),
                n_resample=n_resample,
                k_fast=k_fast,
                best_r=best_r,
                k_max=k_max,
                refine_tol=refine_tol,
                solve_tol=solve_tol,
                zero_tol=zero_tol,
            )
            for r in range(R)
        ]
        return SManyResult(
            np.array([f.beta for f in fits]).reshape(R, k),
            np.array([f.scale for f in fits]),
            np.array([f.resid for f in fits]).reshape(R, n),
            np.array([f.converged for f in fits], dtype=bool),
            np.array([f.n_iter for f in fits], dtype=int),
            np.array([f.n_singular for f in fits], dtype=int),
        )
    with _threadpools().limit(limits=1, user_api="blas"):
        return _fast_s_many_compiled(
            X3, Y, rng_for, random_state, c, b, n_resample, k_fast, best_r, k_max,
            refine_tol, solve_tol, zero_tol,
        )  # fmt: skip


def _fast_s_many_compiled(
    X3, Y, rng_for, random_state, c, b, n_resample, k_fast, best_r, k_max, refine_tol,
    solve_tol, zero_tol,
) -> SManyResult:  # fmt: skip
    R, _n = Y.shape
    k = X3.shape[-1]
    shared = X3.shape[0] == 1
    col = np.linalg.norm(X3, axis=1)  # (Rx, k)
    col[col == 0] = 1.0
    Xn3 = X3 / col[:, None, :]
    cand = np.zeros((R, n_resample, k))
    n_cand = np.zeros(R, dtype=np.int64)
    n_singular = np.zeros(R, dtype=int)
    fresh_shared = shared and not isinstance(random_state, np.random.Generator)
    if fresh_shared and random_state is not None:
        # a seed: every fit draws the same subsets of the same design
        groups = [np.arange(R)]
    else:
        groups = [np.array([r]) for r in range(R)]
    for rows in groups:
        xr = 0 if shared else int(rows[0])
        bt, ns = _elemental_group(Xn3[xr], Y[rows], rng_for(), n_resample, solve_tol)
        cand[rows, : bt.shape[1]] = bt / col[xr]
        n_cand[rows] = bt.shape[1]
        n_singular[rows] = ns
    y_size = np.array([robust_y_scale(y) for y in Y])
    beta, scale, conv, n_iter, _ = fast_s_kernels.fast_s_many(
        np.ascontiguousarray(np.swapaxes(X3, 1, 2)), Y, cand, n_cand, float(c), float(b),
        int(k_fast), int(best_r), int(k_max), float(refine_tol), zero_tol * y_size, y_size,
    )  # fmt: skip
    resid = Y - Design(X3[0] if shared else X3).fitted(beta)
    return SManyResult(beta, scale, resid, conv, n_iter, n_singular)
