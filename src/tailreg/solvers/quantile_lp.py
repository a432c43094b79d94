r"""Regression quantiles as linear programs: HiGHS on the dual, Frisch–Newton, batched.

:math:`\hat\beta(\tau) = \arg\min_\beta \sum_i \rho_\tau(y_i - x_i^\top\beta)` with the check loss
:math:`\rho_\tau(u) = u(\tau - 1\{u<0\})` (Koenker & Bassett 1978). Solvers: HiGHS on the bounded
dual LP (:func:`_highs`), the Frisch–Newton interior point
(:mod:`~tailreg.solvers.frisch_newton`) and, for many problems at once, its batched form
(:mod:`~tailreg.solvers.frisch_newton_many`); each answer is finished by an exact, certified
vertex polish. Pure array code: no input checks beyond ``tau`` and the solver name in
:func:`solve_quantile`.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, solve_triangular
from scipy.optimize import linprog

from .._linalg import Design
from .._validation import check_in_range
from ..exceptions import ConvergenceWarning
from ..losses import Check
from .frisch_newton import frisch_newton, response_scale, vertex_polish
from .frisch_newton_many import frisch_newton_many, response_scale_many, vertex_polish_many

__all__ = [
    "SOLVERS",
    "QuantileSolution",
    "check_solver",
    "solve_quantile",
    "solve_quantile_many",
    "solve_quantile_one",
]

SOLVERS = ("highs", "interior-point")
#: HiGHS's tightest tolerances (defaults 1e-7): with unit-scale data, a 1e-7 slack on each
#: of n constraints could move the objective by about 1e-7 relative, above our 1e-8 target
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True, slots=True)
class QuantileSolution:
    """A regression quantile with its solver diagnostics.

    Attributes
    ----------
    beta : ndarray (k,)
    objective : float
        :math:`\\sum_i \\rho_\\tau(y_i - x_i^\\top\\hat\\beta)`.
    n_iter : int
        Simplex/IPM iterations reported by HiGHS, or Frisch–Newton iterations.
    converged : bool
        The solver reached its tolerance or the vertex polish certified optimality.
    certified : bool
        ``beta`` is a basic solution proven optimal by :func:`vertex_polish`.
    solver : str
    """

    beta: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    certified: bool
    solver: str


def check_solver(solver: str) -> str:
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {list(SOLVERS)}, got {solver!r}")
    return solver


def _highs(X: np.ndarray, y: np.ndarray, tau: float) -> tuple[np.ndarray, int, bool]:
    r"""The bounded dual LP of the regression quantile problem solved by HiGHS.

    :math:`\max_a y^\top a` subject to :math:`X^\top a = (1-\tau) X^\top 1`,
    :math:`0 \le a \le 1` (Koenker 2005, sec. 6.2), passed to :func:`scipy.optimize.linprog` as
    :math:`\min -y^\top a`. Its :math:`k` equality constraints and :math:`n` boxed variables
    suit the dual simplex far better than the primal LP in :math:`(b^+, b^-, u, v)`, whose
    :math:`n` equality rows cost about :math:`n` simplex iterations (18 min against 21 s at
    :math:`n = 10^5`, :math:`k = 11`). ``linprog`` reports in ``eqlin.marginals`` the
    derivative of its (minimised) objective with respect to :math:`b_{eq}`, the multiplier
    :math:`\lambda` of :math:`X\lambda + z - w = -y`; the regression quantile is
    :math:`\hat\beta = -\lambda` (LP duality; Koenker 2005, sec. 6.2).
    """
    k = X.shape[1]
    res = linprog(
        -y,
        A_eq=X.T,
        b_eq=(1.0 - tau) * X.sum(axis=0),
        bounds=(0.0, 1.0),
        method="highs",
        options=_HIGHS_OPTIONS,
    )
    eqlin = getattr(res, "eqlin", None)
    n_iter = int(getattr(res, "nit", 0) or 0)
    if res.status != 0 or eqlin is None or eqlin.marginals is None:
        return np.full(k, np.nan), n_iter, False
    return -np.asarray(eqlin.marginals, dtype=float), n_iter, True


#: responses farther than this many robust scales from the median are gross (see
#: :func:`_gross_clip`)
_GROSS = 1e3


def _gross_clip(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responses with gross values pulled in to median +- 1e3 robust scales, and the mask.

    Row-wise for ``Y`` (R, n) or one response (n,). A regression quantile depends on an
    observation outside its basis only through the sign of its residual (Koenker & Bassett
    1978), so moving a gross value towards the bulk along its residual leaves the solution
    unchanged as long as the sign stays; the solvers then work at the scale of the bulk
    (no cancellation against a 1e12, 1e36 or 1.8e308 value, no tolerances it dominates), and
    the vertex is certified on the original data afterwards (else the problem is re-solved
    unclipped). Returns ``(Y, all False)`` when nothing is gross.
    """
    Y2 = np.atleast_2d(Y)
    med = np.median(Y2, axis=1, keepdims=True)
    unit = response_scale_many(Y2 - med)[:, None]
    lim = _GROSS * unit
    with np.errstate(over="ignore", invalid="ignore"):
        gross = np.abs(Y2 - med) > lim
    rows = gross.any(axis=1)
    if not rows.any():
        return Y, rows if Y.ndim == 2 else rows[0]
    out = np.where(gross, np.clip(Y2, med - lim, med + lim), Y2)
    return (out, rows) if Y.ndim == 2 else (out[0], rows[0])


def solve_quantile_one(
    X: np.ndarray, y: np.ndarray, tau: float = 0.5, solver: str = "highs"
) -> QuantileSolution:
    """:func:`solve_quantile` with diagnostics (objective, iterations, convergence; no checks).

    Gross responses are first pulled in towards the bulk (:func:`_gross_clip`); the vertex
    found is certified on the original data, or the problem is solved as given. See
    :func:`_solve_one` for the method.
    """
    work, gross = _gross_clip(y)
    if gross:
        sol = _solve_one(X, work, tau, solver)
        if sol.certified and np.all(np.isfinite(sol.beta)):
            beta, certified, _ = vertex_polish(X, y, tau, sol.beta)
            if certified and np.all(np.isfinite(beta)):
                objective = float(Check(tau).rho(y - X @ beta).sum())
                if np.isfinite(objective):
                    return QuantileSolution(beta, objective, sol.n_iter, True, True, solver)
    return _solve_one(X, y, tau, solver)


def _solve_one(
    X: np.ndarray, y: np.ndarray, tau: float = 0.5, solver: str = "highs"
) -> QuantileSolution:
    r"""One regression quantile, preconditioned and polished (diagnostics; no checks).

    Both solvers work on a preconditioned problem and finish with
    :func:`~tailreg.solvers.frisch_newton.vertex_polish`: the returned ``beta`` is the
    certified exact vertex when certification succeeds, otherwise the better (smaller
    objective) of the solver's point and the vertex.

    Notes
    -----
    Preconditioning uses equivariance (Koenker & Bassett 1978, Theorem 3.2). With the thin QR
    factorisation :math:`X = QR`, the OLS residuals :math:`e = y - QQ^\top y` and :math:`m` their
    :func:`~tailreg.solvers.frisch_newton.response_scale`, the LP is solved for design
    :math:`\sqrt n\,Q` and response :math:`e/m`, and mapped back by
    :math:`\hat\beta = R^{-1}(Q^\top y + m\sqrt n\,\hat\gamma)`. The design columns are orthogonal
    with entries of order one and the residuals are of order one whatever the units, the
    conditioning of X and the size of the fitted part of y, so absolute solver tolerances
    (HiGHS's feasibility tolerances, the interior point's Cholesky factor of
    :math:`Q^\top D Q`) mean the same on every problem. The certified basis :math:`h` is
    finally re-solved in the original units, :math:`\hat\beta = X_h^{-1}y_h`, which avoids the
    :math:`\epsilon\,\mathrm{cond}(X)` error of mapping back through :math:`R^{-1}` and
    interpolates the basis observations exactly.
    """
    check = Check(tau)
    n, k = X.shape
    q, r = np.linalg.qr(X)
    void = ~np.any(X != 0.0, axis=1)
    if void.any():  # zero rows (weight 0): exactly zero rows of Q (see _solve_batch)
        q[void] = 0.0
    g_ols = q.T @ y
    e = y - q @ g_ols
    root_n = np.sqrt(n)
    m = response_scale(e)
    if m == 0.0:  # y lies in the column space: OLS interpolates every point
        beta = solve_triangular(r, g_ols)
        return QuantileSolution(beta, float(check.rho(y - X @ beta).sum()), 0, True, True, solver)
    q *= root_n
    ys = e / m
    if solver == "highs":
        gamma, n_iter, ok = _highs(q, ys, tau)
    else:
        fn = frisch_newton(q, ys, tau)
        gamma, n_iter, ok = fn.beta, fn.n_iter, fn.converged
    if not np.all(np.isfinite(gamma)):
        return QuantileSolution(np.full(k, np.nan), np.nan, n_iter, False, False, solver)
    # e carries the rounding of y - Q Q'y, of order eps |y|: ties are judged at that level
    vertex, certified, basis = vertex_polish(q, ys, tau, gamma, noise=np.abs(y) / m)
    if not certified and check.rho(ys - q @ gamma).sum() < check.rho(ys - q @ vertex).sum():
        vertex = gamma
    beta = None
    if certified:
        with contextlib.suppress(np.linalg.LinAlgError):
            beta = np.linalg.solve(X[basis], y[basis])
    if beta is None or not np.all(np.isfinite(beta)):
        try:
            beta = solve_triangular(r, g_ols + vertex * (m * root_n))
        except LinAlgError:
            beta = np.full(k, np.nan)
    objective = float(check.rho(y - X @ beta).sum())
    if not np.isfinite(objective):
        return QuantileSolution(np.full(k, np.nan), np.nan, n_iter, False, False, solver)
    return QuantileSolution(beta, objective, n_iter, ok or certified, certified, solver)


#: elements (R * n) of one batch of :func:`solve_quantile_many`: the working arrays of the
#: batched interior point then stay in cache (measured best near 2**16 on one core)
_BATCH_ELEMENTS = 65536


def solve_quantile_many(
    X: np.ndarray, Y: np.ndarray, tau: float, solver: str = "highs", *, unique: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""R regression quantiles at once: :func:`solve_quantile_one` batched (no checks).

    Parameters
    ----------
    X : ndarray (n, k) shared, or (R, n, k)
    Y : ndarray (R, n)
    tau : float
    solver : str
        The single-problem solver used for the problems the batch cannot certify.
    unique : bool
        Also hand to ``solver`` the problems whose certified vertex may not be the unique
        optimum (a dual value on its bound), so that even then the single-fit choice among
        the optimal vertices is returned.

    Returns
    -------
    beta : ndarray (R, k)
    objective : ndarray (R,)
    n_iter : ndarray of int (R,)
    converged, certified : ndarray of bool (R,)

    Notes
    -----
    The same preconditioning as :func:`solve_quantile_one` (QR of each design, OLS residuals
    over their :func:`~tailreg.solvers.frisch_newton.response_scale`), then
    :func:`~tailreg.solvers.frisch_newton_many.frisch_newton_many` and
    :func:`~tailreg.solvers.frisch_newton_many.vertex_polish_many`; a certified basis
    :math:`h` is re-solved in the original units, :math:`\hat\beta = X_h^{-1}y_h`. Every
    problem that the batch does not certify (degenerate vertex, ties, an interior point that
    stopped early, y in the column space of X) is handed whole to :func:`solve_quantile_one` with
    ``solver``, so each returned solution is the one a single fit gives or an equally certified
    optimal vertex — the objective is exact in either case.
    """
    R, n = Y.shape
    k = X.shape[-1]
    step = max(1, _BATCH_ELEMENTS // max(n, 1))
    out = [
        np.empty((R, k)),
        np.empty(R),
        np.zeros(R, dtype=int),
        np.zeros(R, bool),
        np.zeros(R, bool),
    ]
    design = Design(X)
    work, gross = _gross_clip(Y)
    for lo in range(0, R, step):
        sl = slice(lo, min(R, lo + step))
        # a shared design's take is itself: its Q factor is computed once for all batches
        parts = _solve_batch(design.take(sl), work[sl], tau, solver, unique)
        for o, v in zip(out, parts, strict=True):
            o[sl] = v
    if gross.any():
        _recertify(design, Y, tau, solver, out, np.flatnonzero(gross))
    return out[0], out[1], out[2], out[3], out[4]


def _recertify(
    design: Design, Y: np.ndarray, tau: float, solver: str, out: list, rows: np.ndarray
) -> None:
    """Certify the clipped problems' vertices on the original responses (in place).

    A vertex that is not optimal for the original data (a gross value's residual changed
    sign) is replaced by the single-problem solution.
    """
    d = design.take(rows)
    ok = out[4][rows] & np.all(np.isfinite(out[0][rows]), axis=1)
    beta, cert, _, _ = vertex_polish_many(d.X, Y[rows], tau, np.nan_to_num(out[0][rows]))
    cert &= ok & np.all(np.isfinite(beta), axis=1)
    check = Check(tau)
    for j, i in enumerate(rows):
        if cert[j]:
            out[0][i] = beta[j]
            out[1][i] = check.rho(Y[i] - design.row(int(i)) @ beta[j]).sum()
            continue
        sol = solve_quantile_one(design.row(int(i)), Y[i], tau, solver)
        out[0][i], out[1][i], out[2][i] = sol.beta, sol.objective, sol.n_iter
        out[3][i], out[4][i] = sol.converged, sol.certified


def _solve_batch(
    design: Design, Y: np.ndarray, tau: float, solver: str, unique: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One batch of :func:`solve_quantile_many`."""
    check = Check(tau)
    R, n = Y.shape
    k = design.k
    q = design.q_factor
    void = ~np.any(design.X != 0.0, axis=-1)
    if void.any():
        # rows of zeros (weight 0) have zero rows of Q, exactly rather than to rounding, so
        # the vertex polish recognises them (they are never basis rows or ties)
        q = np.where(void[..., None], 0.0, q)
    root_n = np.sqrt(n)
    dq = Design(q)
    g_ols = dq.tdot(Y)
    e = Y - dq.fitted(g_ols)
    m = response_scale_many(e)
    fine = m > 0.0
    m_safe = np.where(fine, m, 1.0)
    qs = Design(q * root_n)
    ys = e / m_safe[:, None]
    noise = np.abs(Y) / m_safe[:, None]
    certified = np.zeros(R, dtype=bool)
    is_unique = np.zeros(R, dtype=bool)
    basis = np.zeros((R, k), dtype=int)

    def polish(rows: np.ndarray, gamma: np.ndarray) -> np.ndarray:
        _, cert, bas, uniq = vertex_polish_many(
            qs.take(rows).X, ys[rows], tau, gamma, noise=noise[rows]
        )
        certified[rows], basis[rows], is_unique[rows] = cert, bas, uniq
        return cert & (uniq | (not unique))

    # the polish is tried once the duality gap is small; certified problems stop iterating
    fn = frisch_newton_many(qs.X, ys, tau, certify=polish)
    rest = np.flatnonzero(~certified)
    if rest.size:
        polish(rest, fn.beta[rest])
    certified &= fine
    if unique:
        certified &= is_unique
    beta = np.full((R, k), np.nan)
    if certified.any():
        idx = np.flatnonzero(certified)
        bas = basis[idx]
        Xh = design.take(idx).gather(bas)
        yh = np.take_along_axis(Y[idx], bas, axis=1)
        try:
            beta[idx] = np.linalg.solve(Xh, yh[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            certified[:] = False
    certified &= np.all(np.isfinite(beta), axis=1)
    n_iter = fn.n_iter.copy()
    converged = certified.copy()
    for i in np.flatnonzero(~certified):
        sol = solve_quantile_one(design.row(int(i)), Y[i], tau, solver)
        beta[i], n_iter[i] = sol.beta, sol.n_iter
        converged[i], certified[i] = sol.converged, sol.certified
    objective = check.rho(Y - design.fitted(beta)).sum(axis=1)
    return beta, objective, n_iter, converged, certified


def solve_quantile(
    X: np.ndarray, y: np.ndarray, tau: float = 0.5, solver: str = "highs"
) -> np.ndarray:
    r"""Regression quantile coefficients, the array-level core (no input checks beyond names).

    Parameters
    ----------
    X : ndarray (n, k)
        Full-rank design, constant column included when wanted.
    y : ndarray (n,)
    tau : float in (0, 1)
    solver : {"highs", "interior-point"}
        ``"highs"``: the bounded dual LP through :func:`scipy.optimize.linprog` (dual simplex),
        :math:`\hat\beta` from its equality multipliers; ``"interior-point"``: the
        Frisch–Newton method (Portnoy & Koenker 1997), faster for large n.

    Returns
    -------
    beta : ndarray (k,)
        A minimiser of :math:`\sum_i\rho_\tau(y_i - x_i^\top\beta)` (Koenker & Bassett 1978); an
        exact basic solution whenever its optimality could be certified.
    """
    check_in_range("tau", tau, 0.0, 1.0)
    sol = solve_quantile_one(X, y, float(tau), check_solver(solver))
    if not sol.converged:
        warnings.warn(
            f"quantile regression ({solver}) did not reach the LP optimum; objective "
            f"{sol.objective:.10g} may be above it",
            ConvergenceWarning,
            stacklevel=2,
        )
    return sol.beta
