r"""Exact simplex machinery behind the regression rank-score confidence intervals.

Two pieces, both working on the bounded dual of linear quantile regression (Koenker 2005,
sec. 6.2),

.. math::
    \max_a\ w^\top a \quad\text{s.t.}\quad Z^\top a = (1-\tau) Z^\top 1,\quad 0 \le a \le 1,

whose solution :math:`\hat a(\tau)` holds the regression rank scores (Gutenbrunner &
Jurečková 1992): :math:`\hat a_i = 1` above the fit, :math:`0` below, fractional on the
basic observations the fit passes through.

:func:`vertex_fit`
    An optimal *vertex* of the full problem (:math:`w = y`, :math:`Z = X`): the basis (the
    :math:`k` observations the fit interpolates) is solved exactly and certified by checking
    that its basic rank scores lie in :math:`[0, 1]`; Barrodale–Roberts descent steps from
    least squares (or, failing that, from HiGHS's solution of the LP above) get there.

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
#: crossings this close (relative to the scale of b; rq.fit.br's toler) count as one kink
_MERGE_TOL = float(np.finfo(float).eps ** (2.0 / 3.0))
#: Barrodale–Roberts steps allowed from one start, plus 20 per column (more means cycling on
#: degenerate data; from least squares k = 3 takes 4-7 steps, k = 11 at n = 5000 about 75)
_MAX_REPAIR = 100
#: rounding allowance: 64 units in the last place
_EPS64 = 64 * float(np.finfo(float).eps)


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
    v = dual - (1.0 - tau)
    rhs = X[basis].T @ v[basis] - X.T @ v  # minus the sum over the observations off the basis
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

    Barrodale–Roberts descent (:func:`_repair_step`) from the basis of the :math:`k`
    smallest least-squares residuals; it certifies optimality through the basic rank scores
    (:func:`_basic_duals`) and, for the small :math:`k` of interval problems, needs a handful
    of steps (4–7 at n = 100–5000, k = 3: about 10x faster than setting up HiGHS). Should it
    cycle on degenerate data, HiGHS (dual simplex on the bounded dual LP, whose equality
    multipliers are :math:`-\\beta` and whose solution says on which side ties fall) provides
    the start instead.
    """
    n = X.shape[0]
    start = np.linalg.lstsq(X, y, rcond=None)[0]
    found = _descend(X, y, tau, start, np.zeros(n, dtype=bool))
    if found is None:
        res = linprog(
            -y, A_eq=X.T, b_eq=(1.0 - tau) * X.sum(axis=0), bounds=(0.0, 1.0), method="highs-ds"
        )
        if res.status == 0:
            found = _descend(X, y, tau, -res.eqlin.marginals, res.x > 0.5)
    certified = found is not None
    if certified:
        beta, basis, dual = found
    else:  # the least-squares basis, flagged as uncertified
        basis = _start_basis(X, y, start)
        beta, _, dual = _vertex_at(X, y, tau, basis, np.zeros(n, dtype=bool))
    a_h = dual[basis]
    unique = certified and bool(np.all((a_h > _DUAL_TOL) & (a_h < 1.0 - _DUAL_TOL)))
    dual[basis] = np.clip(a_h, 0.0, 1.0)
    return Vertex(beta, basis, dual, certified, unique)


def _start_basis(X: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
    k = X.shape[1]
    order = np.argsort(np.abs(y - X @ start), kind="stable")
    basis = np.sort(order[:k])
    return basis if np.linalg.matrix_rank(X[basis]) == k else _independent_rows(X, order)


def _descend(X, y, tau, start, side):
    """Barrodale–Roberts steps from ``start`` until certified: ``(beta, basis, dual)`` or None."""
    basis = _start_basis(X, y, start)
    for _ in range(_MAX_REPAIR + 20 * X.shape[1]):
        beta, resid, dual = _vertex_at(X, y, tau, basis, side)
        step = _repair_step(X, basis, resid, dual)
        if step is None:
            a_h = dual[basis]
            feasible = np.all((a_h >= -_DUAL_TOL) & (a_h <= 1.0 + _DUAL_TOL))
            return (beta, basis, dual) if feasible else None
        basis, side = step
    return None


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
    unit = np.zeros(X_F.shape[0])
    unit[j] = -direction
    e = np.linalg.solve(X_F.T, unit)
    # an exact zero (removing that observation would leave a singular basis) may come out
    # as rounding noise, which must not win the ratio test when its score is on a bound
    e[np.abs(e) <= _EPS64 * np.abs(e).max()] = 0.0
    room = np.full(len(e), np.inf)
    up, down = e > 0, e < 0
    room[up] = (1.0 - a_F[up]) / e[up]
    room[down] = a_F[down] / -e[down]
    m = int(np.argmin(room))
    a_new = np.clip(a_F + max(room[m], 0.0) * e, 0.0, 1.0)
    a_new[m] = 1.0 if e[m] > 0 else 0.0
    return m, a_new


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
    lines = _ResidualLines(Z, y, xj, direction)
    a = vertex.dual.copy()
    F = vertex.basis.copy()
    b = float(vertex.beta[j])
    b_scale = float(np.abs(y).max() / np.abs(xj).max())
    h = None
    for _ in range(4 * len(y) + 10):  # each kink moves an observation across the fit
        m, a[F] = _face_move(X[F], a[F], j, direction)
        if h is None or m != len(F) - 1:  # the basis changed: new residual lines
            h = np.concatenate((F[:m], F[m + 1 :]))
            lines.through(h)
        # fresh basic scores from Z'(a - (1 - tau)) = 0, so that long walks do not drift
        a[h] = np.clip(_basic_duals(Z, h, a, tau), 0.0, 1.0)
        i, dist = lines.next_crossing(a > 0.5, b)
        if i is not None and dist <= _MERGE_TOL * max(abs(b), b_scale):
            # tied crossings (e.g. duplicated rows) form one kink, as in rq.fit.br, which
            # evaluates the statistic just past the kink
            F = np.append(h, i)
            continue
        yield b, float(xj @ (a - (1.0 - tau)))
        if i is None:
            return
        # the exact crossing c_i / g_i, kept monotone against rounding
        b = max(b, lines.at(i)) if direction > 0 else min(b, lines.at(i))
        F = np.append(h, i)
    raise WalkError(f"the rank-score walk for coefficient {j} did not end (degenerate data?)")


class _ResidualLines:
    """Residuals :math:`r(b) = c - b g` of the fit of :math:`y - b x_j` on ``Z`` through ``h``."""

    def __init__(self, Z: np.ndarray, y: np.ndarray, xj: np.ndarray, direction: int):
        self.Z, self.abs_Z, self.direction = Z, np.abs(Z), direction
        self.W = np.column_stack([y, xj])
        self.noise = 64 * np.finfo(float).eps * np.abs(xj)

    def through(self, h: np.ndarray) -> None:
        G = np.linalg.solve(self.Z[h], self.W[h])
        R = self.W - self.Z @ G
        self.c, self.g = R[:, 0], R[:, 1]
        self.c[h] = self.g[h] = 0.0
        # g_i = 0 (up to rounding): observation i never crosses the fit
        ok = np.abs(self.g) > self.noise + 64 * np.finfo(float).eps * (self.abs_Z @ np.abs(G[:, 1]))
        ok[h] = False
        dg = self.direction * self.g
        # an observation above the fit heads for it when dg > 0, one below when dg < 0
        self.ok_above, self.ok_below = ok & (dg > 0), ok & (dg < 0)

    def next_crossing(self, above: np.ndarray, b: float) -> tuple[int | None, float]:
        """The nearest observation reaching the fit as b moves on, and its distance."""
        idx = np.flatnonzero(np.where(above, self.ok_above, self.ok_below))
        if len(idx) == 0:
            return None, np.inf
        dist = (self.c[idx] - b * self.g[idx]) / (self.direction * self.g[idx])
        k = int(np.argmin(dist))
        return int(idx[k]), float(dist[k])

    def at(self, i: int) -> float:
        """The b at which observation i lies on the fit."""
        return float(self.c[i] / self.g[i])


class WalkError(RuntimeError):
    """The parametric walk exceeded its step budget (cycling on degenerate data)."""
