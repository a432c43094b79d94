r"""Batched Frisch–Newton and vertex polish: R regression-quantile problems at once.

The same algorithms as :func:`~tailreg.solvers.frisch_newton.frisch_newton` and
:func:`~tailreg.solvers.frisch_newton.vertex_polish`, written on stacked arrays so that a
Monte Carlo block of R fits costs a few dozen numpy calls per iteration instead of R Python
solver runs. The design is shared, ``X`` (n, k), or one per problem, ``X`` (R, n, k); ``Y`` is
(R, n). Problems that reach the stopping rule leave the working set (active-set masking), so
the slowest replication does not make the others iterate.

Per iteration the k×k normal matrices :math:`X^\top D_r X` are formed from the
:math:`k(k+1)/2` column products :math:`x_{ij} x_{il}` (one matrix product for a shared
design; :class:`~tailreg._linalg.TransposedDesign`) and inverted through a batched Cholesky
factor (:func:`~tailreg._linalg.inverse_pd`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._linalg import Design, TransposedDesign, inverse_pd
from .frisch_newton import _INIT_EPS

__all__ = [
    "FrischNewtonManyResult",
    "frisch_newton_many",
    "response_scale_many",
    "vertex_polish_many",
]


@dataclass(frozen=True, slots=True)
class FrischNewtonManyResult:
    """Outcome of :func:`frisch_newton_many`: the fields of ``FrischNewtonResult``, stacked.

    Attributes
    ----------
    beta : ndarray (R, k)
    n_iter : ndarray of int (R,)
    converged : ndarray of bool (R,)
    gap : ndarray (R,)
    """

    beta: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    gap: np.ndarray


def response_scale_many(Y: np.ndarray) -> np.ndarray:
    """Row-wise :func:`~tailreg.solvers.frisch_newton.response_scale` of ``Y`` (R, n)."""
    dev = np.abs(Y - np.median(Y, axis=1, keepdims=True))
    out = np.median(dev, axis=1)
    for alt in (np.mean(dev, axis=1), np.max(np.abs(Y), axis=1)):
        out = np.where(out > 0.0, out, alt)
    return out


def _primal_step(a: np.ndarray, s: np.ndarray, da: np.ndarray, step: float) -> np.ndarray:
    """Row-wise ``min(step * alpha_max, 1)`` keeping ``a + alpha da``, ``s - alpha da >= 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero slack gives +-inf (no step) or nan (no constraint), which fmin/fmax skip
        t = np.fmax(-np.fmin.reduce(da / a, axis=1), np.fmax.reduce(da / s, axis=1))
    return _step_length(t, step)


def _dual_step(z, w, dz, dw, step: float) -> np.ndarray:
    """As :func:`_primal_step` for ``z + alpha dz >= 0``, ``w + alpha dw >= 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -np.fmin(np.fmin.reduce(dz / z, axis=1), np.fmin.reduce(dw / w, axis=1))
    return _step_length(t, step)


def _step_length(t: np.ndarray, step: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.minimum(step * np.where(t > 0.0, 1.0 / t, np.inf), 1.0)


def frisch_newton_many(
    X: np.ndarray,
    Y: np.ndarray,
    tau: float = 0.5,
    *,
    tol: float = 1e-11,
    max_iter: int = 100,
    step: float = 0.99995,
    certify: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    certify_gap: float = 1e-5,
) -> FrischNewtonManyResult:
    r"""R regression quantiles by the batched Frisch–Newton interior point method (no checks).

    Parameters
    ----------
    X : ndarray (n, k) shared, or (R, n, k)
        Full-rank designs.
    Y : ndarray (R, n)
    tau, tol, max_iter, step
        As :func:`~tailreg.solvers.frisch_newton.frisch_newton`, applied to each problem.
    certify : callable, optional
        ``certify(rows, beta) -> mask``: called once per problem, when its relative gap first
        falls below ``certify_gap``, with the problems' indices and current coefficients; the
        problems it returns True for stop there as converged (an exact vertex polish that
        certifies optimality makes the last few iterations useless).
    certify_gap : float

    Returns
    -------
    FrischNewtonManyResult

    Notes
    -----
    Each problem follows exactly the iteration of
    :func:`~tailreg.solvers.frisch_newton.frisch_newton` (Lustig, Marsten & Shanno 1992 with
    Mehrotra's predictor–corrector; Portnoy & Koenker 1997; Koenker 2005, sec. 6.2), with its own
    step lengths, barrier parameter and stopping test. The corrector is computed for the whole
    working set and kept only where the affine step was infeasible, as in the single solver.
    A problem whose normal matrix stops being positive definite leaves with
    ``converged=False`` and its current point (the polish takes over, as in the single solver).
    """
    R = Y.shape[0]
    k = X.shape[-1]
    beta = np.full((R, k), np.nan)
    n_iter = np.zeros(R, dtype=int)
    converged = np.zeros(R, dtype=bool)
    gap_out = np.full(R, np.inf)

    y_scale = response_scale_many(Y)
    flat = y_scale == 0.0
    beta[flat], converged[flat], gap_out[flat] = 0.0, True, 0.0
    if flat.all():
        return FrischNewtonManyResult(beta, n_iter, converged, gap_out)
    pt, ok = _start(X, Y, tau, np.flatnonzero(~flat), y_scale)
    it = 0
    failed = ~ok
    while True:
        objective = -np.einsum("rn,rn->r", pt.c, pt.a) + (1.0 - tau) * pt.c_sum
        rel = np.maximum(1.0, np.abs(objective))
        done = pt.gap <= tol * rel
        if certify is not None:
            ask = ~pt.tried & ~done & ~failed & (pt.gap <= certify_gap * rel)
            if ask.any():
                pt.tried |= ask
                where = np.flatnonzero(ask)
                done[where[certify(pt.act[where], -pt.lam[where] * pt.scale[where, None])]] = True
        leave = done | failed | (it >= max_iter)
        if leave.any():
            idx = pt.act[leave]
            beta[idx] = -pt.lam[leave] * pt.scale[leave, None]
            n_iter[idx] = it
            converged[idx] = done[leave]
            gap_out[idx] = pt.gap[leave] * pt.scale[leave]
            keep = ~leave
            if not keep.any():
                break
            pt.keep(keep)
        it += 1
        ok = _step(pt, tau, step)
        failed = ~ok
    return FrischNewtonManyResult(beta, n_iter, converged, gap_out)


@dataclass
class _Point:
    """The working set's iterate: primal ``a`` and slack ``s = 1 - a``, dual ``lam`` and dual
    slacks ``z``, ``w``, with each problem's data (``c = -y/scale``, ``b``) and indices."""

    act: np.ndarray  # indices of the problems still iterating
    scale: np.ndarray
    des: TransposedDesign
    c: np.ndarray
    b: np.ndarray
    c_sum: np.ndarray
    a: np.ndarray
    s: np.ndarray
    lam: np.ndarray
    z: np.ndarray
    w: np.ndarray
    gap: np.ndarray
    tried: np.ndarray  # the certificate was asked for

    def keep(self, keep: np.ndarray) -> None:
        for name in ("act", "scale", "c", "b", "a", "s", "lam", "z", "w", "c_sum", "gap", "tried"):
            setattr(self, name, getattr(self, name)[keep])
        self.des = self.des.take(keep)


def _start(
    X: np.ndarray, Y: np.ndarray, tau: float, act: np.ndarray, y_scale: np.ndarray
) -> tuple[_Point, np.ndarray]:
    """The single solver's start for the problems ``act``: OLS for ``lam``, ``a = 1 - tau``."""
    n = Y.shape[1]
    scale = y_scale[act]
    des = TransposedDesign(Design(X).take(act).X)
    c = -Y[act] / scale[:, None]
    m = act.size
    b = (1.0 - tau) * np.broadcast_to(des.colsum(), (m, des.k))
    a = np.full((m, n), 1.0 - tau)
    s = np.full((m, n), tau)
    G0inv, ok = inverse_pd(des.gram(np.ones((m, n))))
    lam = (G0inv @ des.tdot(c)[:, :, None])[:, :, 0]
    r = c - des.fitted(lam)
    z = np.maximum(r, 0.0)
    w = np.maximum(-r, 0.0)
    exact = np.abs(r) < _INIT_EPS
    z[exact] += _INIT_EPS
    w[exact] += _INIT_EPS
    gap = np.einsum("rn,rn->r", a, z) + np.einsum("rn,rn->r", s, w)
    tried = np.zeros(m, dtype=bool)
    return _Point(act, scale, des, c, b, c.sum(axis=1), a, s, lam, z, w, gap, tried), ok


def _step(pt: _Point, tau: float, step: float) -> np.ndarray:
    """One predictor–corrector iteration of every problem in place; the Cholesky ok mask.

    The single solver's formulas, rearranged to reuse z/a, w/s and (mu - .)/a, /s; s-steps
    use ds = -da. A failed factorisation keeps the current point (it leaves at the next test).
    """
    n = pt.a.shape[1]
    a, s, z, w, des = pt.a, pt.s, pt.z, pt.w, pt.des
    za = z / a
    ws = w / s
    d = 1.0 / (za + ws)
    zw = z - w
    rhs = pt.b - des.tdot(a - d * zw)
    Ginv, ok = inverse_pd(des.gram(d))
    dlam = (Ginv @ rhs[:, :, None])[:, :, 0]
    da = d * (des.fitted(dlam) - zw)
    dz = -z - za * da
    dw = ws * da - w
    ap = _primal_step(a, s, da, step)
    ad = _dual_step(z, w, dz, dw, step)
    need = np.minimum(ap, ad) < 1.0
    if need.any():
        mu = np.einsum("rn,rn->r", a, z) + np.einsum("rn,rn->r", s, w)
        apc, adc = ap[:, None], ad[:, None]
        pa = apc * da
        g = np.einsum("rn,rn->r", a + pa, z + adc * dz) + np.einsum(
            "rn,rn->r", s - pa, w + adc * dw
        )
        mu = (mu * (g / mu) ** 3 / (2.0 * n))[:, None]
        dadz = da * dz
        dsdw = -da * dw
        q_a = (mu - dadz) / a
        q_s = (mu - dsdw) / s
        dr = d * (q_s - q_a)
        dlam2 = (Ginv @ (rhs + des.tdot(dr))[:, :, None])[:, :, 0]
        da2 = d * (des.fitted(dlam2) - zw) - dr
        dz2 = q_a - z - za * da2
        dw2 = q_s - w + ws * da2
        ap2 = _primal_step(a, s, da2, step)
        ad2 = _dual_step(z, w, dz2, dw2, step)
        if need.all():
            dlam, da, dz, dw, ap, ad = dlam2, da2, dz2, dw2, ap2, ad2
        else:
            nc = need[:, None]
            dlam = np.where(nc, dlam2, dlam)
            da, dz, dw = np.where(nc, da2, da), np.where(nc, dz2, dz), np.where(nc, dw2, dw)
            ap, ad = np.where(need, ap2, ap), np.where(need, ad2, ad)
    failed = ~ok
    if failed.any():
        ap, ad = np.where(failed, 0.0, ap), np.where(failed, 0.0, ad)
        fc = failed[:, None]
        dlam, da, dz, dw = (np.where(fc, 0.0, v) for v in (dlam, da, dz, dw))
    ap, ad = ap[:, None], ad[:, None]
    da *= ap
    a += da
    s -= da
    pt.lam += ad * dlam
    dz *= ad
    z += dz
    dw *= ad
    w += dw
    pt.gap = np.einsum("rn,rn->r", a, z) + np.einsum("rn,rn->r", s, w)
    return ok


def vertex_polish_many(
    X: np.ndarray,
    Y: np.ndarray,
    tau: float,
    beta: np.ndarray,
    *,
    tol: float = 1e-9,
    noise: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Batched :func:`~tailreg.solvers.frisch_newton.vertex_polish`, non-degenerate case.

    Parameters
    ----------
    X : ndarray (n, k) or (R, n, k)
    Y : ndarray (R, n)
    tau, tol : as ``vertex_polish``.
    beta : ndarray (R, k)
        Approximate minimisers.
    noise : ndarray (R, n), optional
        As ``vertex_polish``.

    Returns
    -------
    beta_vertex : ndarray (R, k)
        :math:`X_h^{-1}y_h` for the k observations with the smallest :math:`|r_i|` (NaN where
        that basis is singular).
    certified : ndarray of bool (R,)
        The dual :math:`d_{\bar h} = \tau - 1\{r_i < 0\}`, :math:`X_h^\top d_h =
        -X_{\bar h}^\top d_{\bar h}` lies in :math:`[\tau - 1, \tau]^k` (Koenker & Bassett 1978,
        Theorem 3.1; Koenker 2005, chapter 2), so the vertex is an LP optimum.
    basis : ndarray of int (R, k)
    unique : ndarray of bool (R,)
        Certified with :math:`d_h` strictly inside the box (beyond ``tol``): a
        non-degenerate, strictly complementary vertex, hence the unique optimum.

    Notes
    -----
    Only the generic case is decided here: a problem is left uncertified (for the caller to
    hand to the single-problem path) when the k smallest residuals do not form a
    well-conditioned basis, or when another residual is zero to rounding (a degenerate vertex,
    which ``vertex_polish`` settles with a small LP), or when the dual leaves the box.
    """
    R, n = Y.shape
    k = X.shape[-1]
    des = Design(X)
    resid = Y - des.fitted(beta)
    # rows of zeros (weight 0, or an xy-bootstrap row drawn 0 times) constrain nothing: they
    # are neither basis candidates nor ties
    void = np.broadcast_to(~np.any(des.X != 0.0, axis=-1), (R, n))
    size_r = np.where(void, np.inf, np.abs(resid))
    h = np.argpartition(size_r, k - 1, axis=1)[:, :k] if n > k else np.tile(np.arange(n), (R, 1))
    Xh = des.gather(h)
    yh = np.take_along_axis(Y, h, axis=1)
    sv = np.linalg.svd(Xh, compute_uv=False)
    ok = np.all(np.isfinite(sv), axis=1) & (sv[:, -1] > 1e-9 * sv[:, 0])
    beta_h = np.full((R, k), np.nan)
    certified = np.zeros(R, dtype=bool)
    unique = np.zeros(R, dtype=bool)
    if not ok.any():
        return beta_h, certified, h, unique
    des_o = des.take(ok)
    Yo, Xho, ho = Y[ok], Xh[ok], h[ok]
    bh = np.linalg.solve(Xho, yh[ok][:, :, None])[:, :, 0]
    r = Yo - des_o.fitted(bh)
    np.put_along_axis(r, ho, 0.0, axis=1)
    size = np.abs(Yo) + Design(np.abs(des_o.X)).fitted(np.abs(bh))
    if noise is not None:
        size += noise[ok]
    free = (np.abs(r) <= 64.0 * np.finfo(float).eps * size) & ~void[ok]
    generic = free.sum(axis=1) == k
    d = tau - (r < 0.0)
    d[free] = 0.0
    rhs = -des_o.tdot(d)
    d_h = np.linalg.solve(np.swapaxes(Xho, 1, 2), rhs[:, :, None])[:, :, 0]
    inside = np.all((d_h >= tau - 1.0 - tol) & (d_h <= tau + tol), axis=1)
    beta_h[ok] = bh
    certified[ok] = generic & inside & np.all(np.isfinite(bh), axis=1)
    strict = np.all((d_h > tau - 1.0 + tol) & (d_h < tau - tol), axis=1)
    unique[ok] = certified[ok] & strict
    return beta_h, certified, h, unique
