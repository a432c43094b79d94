r"""Exact simplex machinery behind the regression rank-score confidence intervals.

Two pieces, both working on the bounded dual of linear quantile regression (Koenker 2005,
sec. 6.2),

.. math::
    \max_a\ w^\top a \quad\text{s.t.}\quad Z^\top a = (1-\tau) Z^\top 1,\quad 0 \le a \le 1,

whose solution :math:`\hat a(\tau)` holds the regression rank scores (Gutenbrunner &
Jurečková 1992): :math:`\hat a_i = 1` above the fit, :math:`0` below, fractional on the
basic observations the fit passes through.

:func:`vertex_fit`
    An optimal *vertex* of the full problem (:math:`w = y`, :math:`Z = X`): HiGHS's dual
    simplex on the LP above, then the basis (the :math:`k` observations the fit interpolates)
    is rebuilt exactly and certified by checking that its basic rank scores lie in
    :math:`[0, 1]`; a failed certificate is repaired by Barrodale–Roberts descent steps.

:func:`rank_score_path`
    The parametric walk in :math:`b` of the restricted problem :math:`w = y - b x_j`,
    :math:`Z = X_{-j}` (Koenker 1994; Koenker 2005, sec. 3.5). Its optimal value
    :math:`V(b) = \max_a (y - b x_j)^\top (a - (1-\tau))` is convex and piecewise linear in
    :math:`b`, so :math:`S(b) = x_j^\top(\hat a(b) - (1 - \tau)) = -V'(b)` is a nonincreasing
    step function. Between kinks the optimal basis :math:`h` (:math:`k-1` observations) is
    fixed and every residual is linear in :math:`b`, :math:`r(b) = c - b g`; the next kink is
    the nearest point where a non-basic residual reaches zero. There the observations
    :math:`F = h \cup \{i\}` all have zero residual and the optimal rank scores form a segment
    :math:`a_F + s e` with :math:`X_F^\top e \propto e_j`; the walk moves to the far end of
    that segment (the dual-simplex ratio test), where the observation hitting a bound leaves
    :math:`F`. Each kink costs one :math:`k \times k` solve and :math:`O(nk)` vector work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
from scipy.optimize import linprog

__all__ = ["Vertex", "WalkError", "rank_score_path", "vertex_fit"]

#: a rank score within this of 0 or 1 counts as on the bound
_DUAL_TOL = 1e-9
#: crossings this close (relative to max(1, |b|); rq.fit.br's toler) count as one kink
_MERGE_TOL = float(np.finfo(float).eps ** (2.0 / 3.0))
#: Barrodale–Roberts repair steps allowed after HiGHS before giving up
_MAX_REPAIR = 200


@dataclasses.dataclass(frozen=True)
class Vertex:
    """A basic solution of linear quantile regression.

    Attributes
    ----------
    beta : ndarray (k,)
        Coefficients, :math:`\\beta = X_h^{-1} y_h`.
    basis : ndarray of int (k,)
        The observations :math:`h` with zero residual that define ``beta``.
    dual : ndarray (n,)
        Rank scores :math:`\\hat a` (exactly 0/1 off the basis).
    certified : bool
        The basic rank scores lie in :math:`[0, 1]`, so ``beta`` is optimal.
    unique : bool
        No basic rank score sits on a bound, so the optimum is unique (R quantreg's
        "Solution may be nonunique" warning is the negation of this).
    """

    beta: np.ndarray
    basis: np.ndarray
    dual: np.ndarray
    certified: bool
    unique: bool


def _basic_duals(X: np.ndarray, basis: np.ndarray, dual: np.ndarray, tau: float) -> np.ndarray:
    """Rank scores on ``basis`` implied by those off it: :math:`X^\\top(a - (1-\\tau)) = 0`."""
    off = np.ones(X.shape[0], dtype=bool)
    off[basis] = False
    rhs = -X[off].T @ (dual[off] - (1.0 - tau))
    return (1.0 - tau) + np.linalg.solve(X[basis].T, rhs)


def _vertex_at(X, y, tau, basis, side):
    """Fit through ``basis`` and its rank scores; ``side`` (0/1) decides zero residuals off it.

    Off the basis an observation scores 1 above the fit and 0 below; one lying exactly on
    the fit (a tie, a primal-degenerate vertex) keeps the side it was assigned.
    """
    beta = np.linalg.solve(X[basis], y[basis])
    resid = y - X @ beta
    resid[basis] = 0.0
    zero = np.abs(resid) <= 64 * np.finfo(float).eps * (np.abs(y) + np.abs(X) @ np.abs(beta))
    dual = np.where(zero, side, resid > 0).astype(float)
    dual[basis] = _basic_duals(X, basis, dual, tau)
    return beta, resid, dual


def _repair_step(X, basis, resid, dual):
    """One Barrodale–Roberts descent step: drop the most infeasible basic observation.

    Along :math:`d = \\sigma X_h^{-1} e_m` the objective's slope is :math:`1 - a_m` (for
    :math:`\\sigma = -1`) or :math:`a_m` (for :math:`\\sigma = 1`); the step goes to the kink
    where the slope turns non-negative (a weighted median of the crossing points). Returns the
    new basis and side assignment, or ``None`` when the rank scores are feasible.
    """
    a_h = dual[basis]
    viol = np.maximum(a_h - 1.0, -a_h)
    m = int(np.argmax(viol))
    if viol[m] <= _DUAL_TOL:
        return None
    sigma = -1.0 if a_h[m] > 1.0 else 1.0
    xd = X @ np.linalg.solve(X[basis], sigma * np.eye(len(basis))[m])
    side = np.where(dual > 0.5, 1.0, -1.0)
    off = np.ones(len(resid), dtype=bool)
    off[basis] = False
    # resid(t) = resid - t * xd: observations leaving their side (at once if on the fit)
    cand = np.flatnonzero(off & (side * xd > 0))
    t = np.maximum(resid[cand] / xd[cand], 0.0)
    order = np.argsort(t, kind="stable")
    climb = -viol[m] + np.cumsum(np.abs(xd[cand[order]]))
    stop = int(np.searchsorted(climb, 0.0, side="left"))
    if stop >= len(order):
        return None  # no descent is unbounded for tau in (0, 1); leave it uncertified
    new = basis.copy()
    new[m] = cand[order[stop]]
    new_side = dual > 0.5
    new_side[basis[m]] = sigma < 0  # the dropped observation goes above the fit if sigma < 0
    return new, new_side


def vertex_fit(X: np.ndarray, y: np.ndarray, tau: float) -> Vertex:
    """Certified optimal vertex of :math:`\\min_\\beta \\sum_i \\rho_\\tau(y_i - x_i^\\top\\beta)`.

    HiGHS (dual simplex) solves the bounded dual LP; its equality multipliers are
    :math:`-\\beta` and its solution says on which side ties fall. The :math:`k` smallest
    absolute residuals give the basis, which is solved exactly and certified through its rank
    scores (:func:`_basic_duals`), after Barrodale–Roberts repair steps if needed.
    """
    n, k = X.shape
    res = linprog(
        -y, A_eq=X.T, b_eq=(1.0 - tau) * X.sum(axis=0), bounds=(0.0, 1.0), method="highs-ds"
    )
    if res.status == 0:
        start, side = -res.eqlin.marginals, res.x > 0.5
    else:
        start, side = np.linalg.lstsq(X, y, rcond=None)[0], np.zeros(n, dtype=bool)
    order = np.argsort(np.abs(y - X @ start), kind="stable")
    basis = np.sort(order[:k])
    if np.linalg.matrix_rank(X[basis]) < k:
        basis = _independent_rows(X, order)
    for _ in range(_MAX_REPAIR):
        beta, resid, dual = _vertex_at(X, y, tau, basis, side)
        step = _repair_step(X, basis, resid, dual)
        if step is None:
            break
        basis, side = step
    beta, resid, dual = _vertex_at(X, y, tau, basis, side)
    a_h = dual[basis]
    certified = bool(np.all((a_h >= -_DUAL_TOL) & (a_h <= 1.0 + _DUAL_TOL)))
    unique = bool(np.all((a_h > _DUAL_TOL) & (a_h < 1.0 - _DUAL_TOL)))
    dual[basis] = np.clip(a_h, 0.0, 1.0)
    return Vertex(beta, basis, dual, certified, unique)


def _independent_rows(X: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The first rows in ``order`` that span the column space (greedy QR-free selection)."""
    k = X.shape[1]
    chosen: list[int] = []
    for i in order:
        trial = [*chosen, int(i)]
        if np.linalg.matrix_rank(X[trial]) == len(trial):
            chosen = trial
            if len(chosen) == k:
                break
    return np.sort(np.asarray(chosen))


def _face_move(X_F: np.ndarray, a_F: np.ndarray, j: int, direction: int) -> tuple[int, np.ndarray]:
    """Move the rank scores on the zero-residual set ``F`` to the far end of their segment.

    With :math:`|F| = k`, the scores :math:`a_F + s e` with :math:`X_F^\\top e = -\\delta e_j`
    keep every restricted constraint :math:`X_{F,-j}^\\top a_F` and change
    :math:`S = x_j^\\top(a - (1-\\tau))` by :math:`-\\delta s`, so :math:`s \\ge 0` lowers
    :math:`S` going up (:math:`\\delta = 1`) and raises it going down. Returns the position
    in ``F`` of the observation that reaches a bound first and the new scores.
    """
    k = X_F.shape[0]
    e = np.linalg.solve(X_F.T, -direction * np.eye(k)[j])
    # an exact zero (removing that observation would leave a singular basis) may come out
    # as rounding noise, which must not win the ratio test when its score is on a bound
    e[np.abs(e) <= 64 * np.finfo(float).eps * np.abs(e).max()] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(e > 0, (1.0 - a_F) / e, np.where(e < 0, a_F / -e, np.inf))
    room = np.maximum(room, 0.0)
    m = int(np.argmin(room))
    a_new = a_F + room[m] * e
    a_new[m] = 1.0 if e[m] > 0 else 0.0
    return m, np.clip(a_new, 0.0, 1.0)


def rank_score_path(
    X: np.ndarray, y: np.ndarray, tau: float, j: int, vertex: Vertex, direction: int
) -> Iterator[tuple[float, float]]:
    """Kinks :math:`b_0 = \\hat\\beta_j, b_1, \\dots` of the rank-score process in one direction.

    Yields ``(b_m, S_m)`` where :math:`S_m = x_j^\\top(\\hat a(b) - (1-\\tau))` on the open
    interval after :math:`b_m` (``direction = 1``: :math:`b` increasing; ``-1``: decreasing),
    the rank scores :math:`\\hat a(b)` being those of the regression of :math:`y - b x_j` on
    :math:`X_{-j}`. The generator ends when no residual can reach zero any more (the statistic
    is constant beyond the last kink); the caller stops it once the statistic is large enough.
    """
    xj = X[:, j]
    Z = np.delete(X, j, axis=1)
    a = vertex.dual.copy()
    F = vertex.basis.copy()
    b = float(vertex.beta[j])
    h = None
    for _ in range(4 * len(y) + 10):  # each kink moves an observation across the fit
        m, a[F] = _face_move(X[F], a[F], j, direction)
        if h is None or m != len(F) - 1:  # the basis changed: new residual lines
            h = np.delete(F, m)
            c, g, moving_ok = _residual_lines(Z, y, xj, h)
        a[h] = np.clip(_basic_duals(Z, h, a, tau), 0.0, 1.0)  # no drift along long walks
        sign = np.where(a > 0.5, 1.0, -1.0)
        # non-basic residuals r(b) = c - b g heading for zero as b moves on
        idx = np.flatnonzero(moving_ok & (sign * g * direction > 0))
        if len(idx):
            dist = (c[idx] - b * g[idx]) / (direction * g[idx])
            i = int(idx[np.argmin(dist)])
            if dist.min() <= _MERGE_TOL * max(1.0, abs(b)):
                # tied crossings (e.g. duplicated rows) form one kink, as in rq.fit.br,
                # which evaluates the statistic just past the kink
                F = np.append(h, i)
                continue
        yield b, float(xj @ (a - (1.0 - tau)))
        if len(idx) == 0:
            return
        # the exact crossing c_i / g_i, kept monotone against rounding
        b = max(b, c[i] / g[i]) if direction > 0 else min(b, c[i] / g[i])
        F = np.append(h, i)
    raise WalkError(f"the rank-score walk for coefficient {j} did not end (degenerate data?)")


class WalkError(RuntimeError):
    """The parametric walk exceeded its step budget (cycling on degenerate data)."""


def _residual_lines(Z: np.ndarray, y: np.ndarray, xj: np.ndarray, h: np.ndarray):
    """Residuals :math:`r(b) = c - b g` of the fit of :math:`y - b x_j` through ``h``.

    Also flags the observations off ``h`` whose :math:`g_i` is not rounding noise (an
    observation with :math:`g_i = 0` never crosses the fit).
    """
    gam_c = np.linalg.solve(Z[h], y[h])
    gam_g = np.linalg.solve(Z[h], xj[h])
    c = y - Z @ gam_c
    g = xj - Z @ gam_g
    c[h] = 0.0
    g[h] = 0.0
    ok = np.abs(g) > 64 * np.finfo(float).eps * (np.abs(xj) + np.abs(Z) @ np.abs(gam_g))
    ok[h] = False
    return c, g, ok
