r"""Frisch–Newton interior point solver for quantile regression, and an exact vertex polish.

The regression-quantile problem :math:`\min_\beta \sum_i \rho_\tau(y_i - x_i^\top\beta)` is a
linear program whose dual, in the bounded form used by Koenker's ``rqfnb`` (Portnoy & Koenker
1997; Koenker 2005, chapter 6), reads

.. math::
    \max_a\; y^\top a \quad \text{s.t.}\quad X^\top a = (1-\tau) X^\top 1,\qquad 0 \le a \le 1,

written as :math:`\min c^\top a` with :math:`c = -y`, :math:`A = X^\top`, :math:`b = (1-\tau)
X^\top 1`, upper bound :math:`u = 1`. The Lagrange multiplier :math:`\lambda` of the equality
constraints gives :math:`\hat\beta = -\lambda`. The method is the primal-dual log-barrier
algorithm of Lustig, Marsten & Shanno (1992) with Mehrotra's (1992) predictor–corrector choice
of the barrier parameter: each iteration solves two :math:`k\times k` systems
:math:`(X^\top D X)\,\Delta\lambda = r` sharing one Cholesky factor, so the cost is
:math:`O(nk^2)` per iteration and the iteration count grows only slowly with :math:`n`
(Portnoy & Koenker 1997, "the Gaussian hare and the Laplacian tortoise").

An interior point method stops near, not at, a vertex. :func:`vertex_polish` turns the
approximate solution into an exact basic solution and certifies its optimality through the
dual (see its Notes); the solvers in :mod:`tailreg.solvers.quantile_lp` apply it to both HiGHS
and Frisch–Newton so the two return the same vertex whenever the optimum is unique.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import linprog

__all__ = ["FrischNewtonResult", "frisch_newton", "response_scale", "vertex_polish"]

#: initial dual slack added where the OLS start fits exactly (``rqfnb`` uses its eps, 1e-6)
_INIT_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class FrischNewtonResult:
    """Outcome of :func:`frisch_newton`.

    Attributes
    ----------
    beta : ndarray (k,)
    n_iter : int
        Newton iterations (each with one Cholesky factorisation).
    converged : bool
        The duality gap fell below ``tol`` times the objective.
    gap : float
        Final duality gap :math:`a^\\top z + (1-a)^\\top w`, in the units of ``y``.
    """

    beta: np.ndarray
    n_iter: int
    converged: bool
    gap: float


def response_scale(y: np.ndarray) -> float:
    """A robust unit for ``y``: the MAD about the median, else the mean or max deviation.

    Solvers work on ``y / response_scale(y)`` so that typical residuals are of order one,
    whatever the units, and absolute tolerances are meaningful. Heavy tails do not shrink
    the bulk of the data towards zero as a max-scaling would. Returns 0 only for y = 0.
    """
    dev = np.abs(y - np.median(y))
    for s in (np.median(dev), np.mean(dev), np.max(np.abs(y))):
        if s > 0.0:
            return float(s)
    return 0.0


def _max_step(v: np.ndarray, dv: np.ndarray) -> float:
    """Largest step :math:`\\alpha` keeping :math:`v + \\alpha\\,dv \\ge 0` (``inf`` if none)."""
    # max(-dv/v) avoids boolean indexing, which costs ten times more at large n; a zero
    # slack gives -dv/0 = +inf (no step) or 0/0 = nan (no constraint), which fmax skips
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(np.fmax.reduce(-dv / v))
    return 1.0 / t if t > 0.0 else np.inf


def _start(X: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The OLS fit of ``c`` for lam and the dual slacks of its residuals (``rqfnb``'s start)."""
    lam = cho_solve(cho_factor(X.T @ X), X.T @ c)
    r = c - X @ lam
    z = np.maximum(r, 0.0)
    w = np.maximum(-r, 0.0)
    exact = np.abs(r) < _INIT_EPS
    z[exact] += _INIT_EPS
    w[exact] += _INIT_EPS
    return lam, z, w


def _step_lengths(
    a: np.ndarray,
    s: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    da: np.ndarray,
    ds: np.ndarray,
    dz: np.ndarray,
    dw: np.ndarray,
    step: float,
) -> tuple[float, float]:
    """Primal and dual step lengths: ``step`` of the way to the boundary, at most 1."""
    ap = min(step * min(_max_step(a, da), _max_step(s, ds)), 1.0)
    ad = min(step * min(_max_step(z, dz), _max_step(w, dw)), 1.0)
    return ap, ad


def frisch_newton(
    X: np.ndarray,
    y: np.ndarray,
    tau: float = 0.5,
    *,
    tol: float = 1e-11,
    max_iter: int = 100,
    step: float = 0.99995,
) -> FrischNewtonResult:
    r"""Regression quantile by the Frisch–Newton primal-dual interior point method (no checks).

    Parameters
    ----------
    X : ndarray (n, k)
        Full-rank design (constant column included when wanted).
    y : ndarray (n,)
    tau : float in (0, 1)
    tol : float
        Stop when the duality gap is below ``tol * max(1, |objective|)`` on the problem with
        ``y`` divided by :func:`response_scale`.
    max_iter : int
    step : float
        Fraction of the distance to the boundary taken by each step (LMS's 0.99995).

    Returns
    -------
    FrischNewtonResult

    Notes
    -----
    Iteration (Lustig, Marsten & Shanno 1992; Koenker's ``lpfnb``): with primal :math:`a`, slack
    :math:`s = 1 - a`, dual :math:`\lambda` and dual slacks :math:`z, w \ge 0`
    (:math:`X\lambda + z - w = c`), set :math:`d = (z/a + w/s)^{-1}` and solve the affine
    (predictor) system :math:`(X^\top D X)\Delta\lambda = b - X^\top a + X^\top D(z - w)`. If the
    full affine step is infeasible, Mehrotra's corrector re-solves with the barrier
    :math:`\mu = \mu_0 (g/\mu_0)^3 / (2n)`, :math:`g` the gap after the affine step, and the
    second-order terms :math:`\Delta a\,\Delta z`, :math:`\Delta s\,\Delta w`. Primal and dual
    step lengths are chosen separately. The start is the OLS fit of :math:`c` for
    :math:`\lambda` and :math:`a = 1-\tau`, which is primal feasible.
    """
    n, k = X.shape
    # column-major X makes X @ v, X.T @ v and the Gram matrix (syrk) about twice as fast
    X = np.asfortranarray(X)
    y_scale = response_scale(y)
    if y_scale == 0.0:
        return FrischNewtonResult(np.zeros(k), 0, True, 0.0)
    # Scaling y makes the tolerances (relative gap, initial slack) unit-free; QR is scale
    # equivariant, so beta is rescaled at the end.
    c = -y / y_scale
    b = (1.0 - tau) * X.sum(axis=0)
    a = np.full(n, 1.0 - tau)
    s = np.full(n, tau)
    try:
        lam, z, w = _start(X, c)
    except LinAlgError:
        return FrischNewtonResult(np.full(k, np.nan), 0, False, np.inf)
    c_sum = c.sum()

    gap = float(a @ z + s @ w)
    n_iter = 0
    converged = False
    while True:
        objective = -(c @ a) + (1.0 - tau) * c_sum  # current dual (QR) objective
        if gap <= tol * max(1.0, abs(objective)):
            converged = True
            break
        if n_iter >= max_iter:
            break
        n_iter += 1
        d = 1.0 / (z / a + w / s)
        zw = z - w
        rhs = b - X.T @ (a - d * zw)
        try:
            xd = X * np.sqrt(d)[:, None]
            factor = cho_factor(xd.T @ xd)
        except LinAlgError:
            break  # D has degenerated; the polish takes over from the current point
        dlam = cho_solve(factor, rhs)
        da = d * (X @ dlam - zw)
        ds = -da
        dz = -z * (da / a + 1.0)
        dw = -w * (ds / s + 1.0)
        ap, ad = _step_lengths(a, s, z, w, da, ds, dz, dw, step)
        if min(ap, ad) < 1.0:
            mu = a @ z + s @ w
            g = (a + ap * da) @ (z + ad * dz) + (s + ap * ds) @ (w + ad * dw)
            mu = mu * (g / mu) ** 3 / (2.0 * n)
            dadz = da * dz
            dsdw = ds * dw
            dr = d * (mu * (1.0 / s - 1.0 / a) + dadz / a - dsdw / s)
            dlam = cho_solve(factor, rhs + X.T @ dr)
            da = d * (X @ dlam - z + w) - dr
            ds = -da
            dz = -z + (mu - z * da - dadz) / a
            dw = -w + (mu - w * ds - dsdw) / s
            ap, ad = _step_lengths(a, s, z, w, da, ds, dz, dw, step)
        a += ap * da
        s += ap * ds
        lam += ad * dlam
        z += ad * dz
        w += ad * dw
        gap = float(a @ z + s @ w)
    return FrischNewtonResult(-lam * y_scale, n_iter, converged, gap * y_scale)


def _independent_rows(X: np.ndarray, size: np.ndarray) -> np.ndarray | None:
    """The first k linearly independent rows of X in increasing order of ``size``.

    Greedy Gram–Schmidt: with tied or repeated rows (discrete designs) the k smallest
    residuals may not form a basis, while the next candidates do.
    """
    n, k = X.shape
    m = min(n, 4 * k + 16)
    if m < n:
        # usually the first few candidates suffice: avoid sorting all n (O(n log n))
        cand = np.argpartition(size, m - 1)[:m]
        rows = _independent_rows_in(X, cand[np.argsort(size[cand], kind="stable")])
        if rows is not None:
            return rows
    return _independent_rows_in(X, np.argsort(size, kind="stable"))


def _independent_rows_in(X: np.ndarray, order: np.ndarray) -> np.ndarray | None:
    k = X.shape[1]
    q = np.empty((k, k))
    chosen: list[int] = []
    for i in order:
        v = X[i] - q[: len(chosen)].T @ (q[: len(chosen)] @ X[i])
        norm = np.linalg.norm(v)
        if norm > 1e-9 * np.linalg.norm(X[i]):
            q[len(chosen)] = v / norm
            chosen.append(int(i))
            if len(chosen) == k:
                return np.array(chosen)
    return None


def vertex_polish(
    X: np.ndarray,
    y: np.ndarray,
    tau: float,
    beta: np.ndarray,
    *,
    tol: float = 1e-9,
    noise: np.ndarray | None = None,
) -> tuple[np.ndarray, bool, np.ndarray | None]:
    r"""Exact basic solution near ``beta`` and a certificate of its optimality (no checks).

    Parameters
    ----------
    X, y, tau : the problem.
    beta : ndarray (k,)
        An approximate minimiser (interior point iterate or simplex output).
    tol : float
        Slack allowed on the dual bounds.
    noise : ndarray (n,), optional
        Magnitude of rounding already present in ``y`` (e.g. ``|y_orig| / scale`` when ``y``
        is a rescaled difference), added to the tie threshold.

    Returns
    -------
    beta_vertex : ndarray (k,)
        The basic solution :math:`X_h^{-1} y_h` (``beta`` itself if :math:`X_h` is singular).
    certified : bool
        True when the vertex is a proven LP optimum.
    basis : ndarray of int (k,) or None
        The interpolated observations :math:`h` (None when no basis was found).

    Notes
    -----
    Regression quantiles have a solution interpolating :math:`k` observations
    :math:`h` (Koenker & Bassett 1978, Theorem 3.1). The basis is taken as the :math:`k`
    linearly independent rows with the smallest :math:`|y_i - x_i^\top\beta|`;
    :math:`\beta_h = X_h^{-1}y_h`. It is optimal iff the dual
    :math:`d_{\bar h} = \tau - 1\{r_i < 0\}` on the other observations extends to the basis
    within the box (LP duality; Koenker 2005, chapter 2):

    .. math::
        X_h^\top d_h = -X_{\bar h}^\top d_{\bar h}, \qquad \tau - 1 \le d_h \le \tau.

    Residuals outside the basis that are zero to rounding, :math:`|r_i| \le 64\epsilon(|y_i| +
    |x_i|^\top|\beta_h| + \text{noise}_i)` (degenerate data, ties), get a free
    dual value too; the certificate is then the feasibility of that small box-constrained
    system, decided by HiGHS. If certification fails, callers keep whichever of ``beta`` and
    the vertex has the smaller objective.
    """
    k = X.shape[1]
    resid = y - X @ beta
    # rows of zeros (weight 0) constrain nothing: neither basis candidates nor ties
    void = ~np.any(X != 0.0, axis=1)
    h = _independent_rows(X, np.where(void, np.inf, np.abs(resid)))
    if h is None:
        return beta, False, None
    try:
        beta_h = np.linalg.solve(X[h], y[h])
    except np.linalg.LinAlgError:
        return beta, False, h
    if not np.all(np.isfinite(beta_h)):
        return beta, False, h
    r = y - X @ beta_h
    r[h] = 0.0
    # residuals at the rounding level of their own computation are ties with the basis
    size = np.abs(y) + np.abs(X) @ np.abs(beta_h)
    if noise is not None:
        size += noise
    rounding = 64.0 * np.finfo(float).eps * size
    free = (np.abs(r) <= rounding) & ~void
    d = tau - (r < 0.0)
    d[free] = 0.0
    rhs = -(X.T @ d)
    lo, hi = tau - 1.0 - tol, tau + tol
    if free.sum() == k:
        try:
            d_h = np.linalg.solve(X[h].T, rhs)
        except np.linalg.LinAlgError:
            return beta_h, False, h
        certified = bool(np.all(d_h >= lo) and np.all(d_h <= hi))
    else:
        # degenerate vertex: feasibility of the box-constrained dual on the tied rows
        res = linprog(
            np.zeros(int(free.sum())),
            A_eq=X[free].T,
            b_eq=rhs,
            bounds=(tau - 1.0, tau),
            method="highs",
        )
        certified = res.status == 0
    return beta_h, certified, h
