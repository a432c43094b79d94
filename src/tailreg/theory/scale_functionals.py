r"""Location-scale functionals whose scale is estimated by its own equation: S and t likelihood.

:func:`~tailreg.theory.m_functional` gives :math:`T(F)` for a loss at a known scale, a MAD
scale, or the Huber-type joint MAD scale. The MM estimator and the Student-t MLE estimate
their scale differently, so their limits are computed here and then handed to the theory at
that fixed scale (each estimator's ``target(law)``):

* **MM** (Yohai 1987): the S-functional :math:`(T_S, s_S)` minimises :math:`s` subject to
  :math:`E\chi_{c_0}((e - T)/s) = b` (bisquare :math:`\chi = \rho/\sup\rho`,
  :meth:`tailreg.losses.Bisquare.chi`); the MM location then solves
  :math:`E\psi_{c_1}((e - T)/s_S) = 0`.
* **Student-t MLE with fixed** :math:`\nu`: :math:`(T, s)` solve the likelihood equations
  :math:`E\psi(u) = 0` and :math:`E[\psi(u)u] = 1`, :math:`\psi(u) = (\nu+1)u/(\nu+u^2)`
  (:meth:`tailreg.losses.StudentT.psi`), :math:`u = (e - T)/s`.

Every expectation is one call of the theory's integrator (:func:`tailreg.theory.expect`),
each function and its derivative in one pass over the density.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import optimize

from ..losses import Bisquare, Loss, StudentT
from .quadrature import PreparedLaw

__all__ = ["m_scale_functional", "s_functional", "t_mle_functional"]

_MAX_BRACKET_STEPS = 200


def _chi_loss(c: float | Loss) -> Loss:
    loss = c if isinstance(c, Loss) else Bisquare(float(c))
    if not math.isfinite(loss.rho_max):
        raise ValueError(f"an S-scale needs a bounded loss; {loss!r} is unbounded")
    return loss


def _expect_chi(L: PreparedLaw, loss: Loss, h, T: float, s: float) -> np.ndarray:
    """Expectations of functions of chi at (T, s): over |u| <= r only when the loss has a
    finite rejection point r (beyond it chi = 1 and its derivatives vanish)."""
    r = loss.rejection_point
    if math.isfinite(r):
        return L.expect_within(h, -r, r, T, s, loss.kinks)
    return L.expect(h, T, s, loss.kinks)


def _m_scale(L: PreparedLaw, loss: Loss, T: float, b: float, s0: float, xtol: float) -> float:
    r"""Root :math:`s` of :math:`E\chi((e - T)/s) = b`, by safeguarded Newton steps in
    :math:`\ell = \log s`.

    :math:`G(\ell) = E\chi(u) - b` decreases in :math:`\ell` (``chi`` grows with ``|u|``),
    with :math:`G'(\ell) = -E[\chi'(u)u]`; both come from one integral. A Newton step that
    leaves the current bracket is replaced by bisection; the iteration stops when a step
    moves :math:`\ell` by at most ``xtol`` (a relative ``xtol`` in :math:`s`).
    """
    top = loss.rho_max

    def h(u: np.ndarray) -> np.ndarray:
        return np.stack([loss.chi(u), loss.psi(u) * u / top])

    def G(ell: float) -> tuple[float, float]:
        val, slope = _expect_chi(L, loss, h, T, math.exp(ell))
        return float(val) - b, -float(slope)

    lo = hi = ell = math.log(s0)
    g, dg = G(ell)
    g_lo = g_hi = g
    for _ in range(_MAX_BRACKET_STEPS):  # bracket: G(lo) > 0 > G(hi)
        if g_lo > 0.0 and g_hi < 0.0:
            break
        if g_lo <= 0.0:
            lo -= 1.0
            g_lo = G(lo)[0]
        if g_hi >= 0.0:
            hi += 1.0
            g_hi = G(hi)[0]
    else:
        raise RuntimeError(f"could not bracket the M-scale of E chi((e - {T:g})/s) = {b:g}")
    if g == 0.0:
        return math.exp(ell)
    for _ in range(100):
        if g > 0.0:
            lo = max(lo, ell)
        else:
            hi = min(hi, ell)
        step = -g / dg if dg < 0.0 else math.nan
        new = ell + step
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - ell) <= xtol:
            return math.exp(new)
        ell = new
        g, dg = G(ell)
        if g == 0.0:
            return math.exp(ell)
    raise RuntimeError(f"the M-scale of E chi((e - {T:g})/s) = {b:g} did not converge")


def m_scale_functional(law: Any, c: float | Loss, b: float, centre: float) -> float:
    r"""The population M-scale about ``centre``: the root of :math:`E\chi((e - c)/s) = b`.

    Parameters
    ----------
    law : object
        Error law with vectorised ``pdf``, ``cdf``, ``ppf``.
    c : float or Loss
        Bisquare tuning constant, or any bounded loss (its :meth:`~tailreg.losses.Loss.chi`).
    b : float in (0, 1)
        Right-hand side.
    centre : float
    """
    L = PreparedLaw(law)
    return _m_scale(L, _chi_loss(c), float(centre), float(b), L.unit / 1.349, 1e-12)


def _s_newton(
    L: PreparedLaw, loss: Loss, T: float, s: float, b: float, bounds: tuple[float, float]
) -> tuple[float, float] | None:
    r"""Newton's method for the S-functional's stationarity system, from ``(T, s)``.

    :math:`F_1 = E\chi(u) - b = 0` (the M-scale equation) and :math:`F_2 = E\chi'(u) = 0`
    (:math:`ds/dT = -E\chi'(u)/E[\chi'(u)u]` vanishes at the minimum of :math:`s(T)`), in
    :math:`(T, \ell = \log s)`: with :math:`\partial u/\partial T = -1/s` and
    :math:`\partial u/\partial\ell = -u` the Jacobian is
    :math:`-[[E\chi'/s, E\chi'u], [E\chi''/s, E\chi''u]]`; all five expectations come from
    one integral. ``None`` if an iterate leaves ``bounds`` (in :math:`T`) or 30 steps do
    not converge; the caller then minimises :math:`s(T)` directly.
    """
    top = loss.rho_max

    def h(u: np.ndarray) -> np.ndarray:
        d1, d2 = loss.psi(u) / top, loss.psi_prime(u) / top
        return np.stack([loss.chi(u), d1, d1 * u, d2, d2 * u])

    ell = math.log(s)
    width = bounds[1] - bounds[0]
    for _ in range(30):
        s = math.exp(ell)
        e = np.asarray(_expect_chi(L, loss, h, T, s), dtype=float)
        F = np.array([e[0] - b, e[1]])
        J = -np.array([[e[1] / s, e[2]], [e[3] / s, e[4]]])
        with np.errstate(all="ignore"):
            step = np.linalg.solve(J, -F) if np.linalg.det(J) != 0.0 else np.full(2, np.nan)
        if not np.all(np.isfinite(step)):
            return None
        T, ell = T + float(step[0]), ell + float(step[1])
        if not bounds[0] <= T <= bounds[1]:
            return None
        if abs(step[0]) <= 1e-12 * width and abs(step[1]) <= 1e-13:
            return T, math.exp(ell)
    return None


@lru_cache(maxsize=128)
def s_functional(law: Any, c: float | Loss, b: float) -> tuple[float, float]:
    r"""The S-functional :math:`(T_S, s_S)` of a bisquare :math:`\chi_c` with right side ``b``.

    :math:`s(T)` is the M-scale about :math:`T` (:func:`m_scale_functional`);
    :math:`T_S = \arg\min_T s(T)`, searched on 17 points from the 10% to the 90% quantile,
    then refined next to the best point by Newton's method on the stationarity system
    (:math:`E\chi(u) = b`, :math:`E\chi'(u) = 0`; see ``_s_newton``), accepted only if it stays
    between the neighbouring grid points and does not increase :math:`s`; otherwise by
    bounded Brent minimisation of :math:`s(T)` (:math:`s(T)` is flat at its minimum, so
    :math:`T_S` to :math:`10^{-7}` IQR fixes :math:`s_S` to about :math:`10^{-14}`; only
    :math:`s_S` enters the MM target).

    Parameters
    ----------
    law : object (hashable: results are cached per law)
    c : float or Loss
        Bisquare tuning constant of :math:`\chi` (robustbase's ``tuning.chi``), or a bounded
        loss.
    b : float
        Right-hand side of the M-scale equation (the breakdown point).

    Returns
    -------
    (T_S, s_S) : tuple of float
    """
    L = PreparedLaw(law)
    loss = _chi_loss(c)
    b = float(b)
    med = L.median
    spread = float(law.ppf(0.75) - law.ppf(0.25))
    s0 = spread / 1.349
    grid = np.linspace(float(law.ppf(0.1)), float(law.ppf(0.9)), 17)
    scales: list[float] = []
    for t in grid:
        # each grid point starts from its neighbour's scale (a few Newton steps)
        scales.append(_m_scale(L, loss, float(t), b, scales[-1] if scales else s0, 1e-8))
    j = int(np.argmin(scales))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    joint = _s_newton(L, loss, float(grid[j]), scales[j], b, (float(lo), float(hi)))
    if joint is not None and joint[1] <= scales[j] * (1.0 + 1e-9):
        return joint
    res = optimize.minimize_scalar(
        lambda t: _m_scale(L, loss, float(t), b, scales[j], 1e-10),
        bounds=(lo, hi),
        method="bounded",
        # s(T) is flat at its minimum: T to 1e-7 fixes s to about 1e-14
        options={"xatol": 1e-7 * spread},
    )
    T = float(res.x) if res.fun <= min(scales) else float(grid[j])
    if not np.isfinite(T):
        T = med
    return T, _m_scale(L, loss, T, b, scales[j], 1e-12)


@lru_cache(maxsize=128)
def t_mle_functional(law: Any, df: float) -> tuple[float, float]:
    r""":math:`(T, s)` solving the Student-t(``df``) location-scale likelihood equations.

    :math:`E\psi(u) = 0`, :math:`E[\psi(u)u] = 1` with :math:`u = (e - T)/s` and the
    Student-t loss's :math:`\psi`, solved by MINPACK's hybrid method in
    :math:`(T, \log s)` from the median and IQR/1.349; ``(nan, nan)`` when the residual
    does not fall below 1e-9.

    Parameters
    ----------
    law : object (hashable: results are cached per law)
    df : float > 0
    """
    L = PreparedLaw(law)
    loss = StudentT(float(df))

    def eqs(v: np.ndarray) -> list[float]:
        T, s = float(v[0]), math.exp(float(v[1]))
        e1, e2 = L.expect(lambda u: np.stack([loss.psi(u), loss.psi(u) * u]), T, s, loss.kinks)
        return [float(e1), float(e2) - 1.0]

    med = L.median
    s0 = float(law.ppf(0.75) - law.ppf(0.25)) / 1.349
    sol = optimize.root(eqs, [med, math.log(s0)], method="hybr", options={"xtol": 1e-11})
    # judge by the residual: near the root hybr may report "not making good progress"
    if not np.all(np.abs(sol.fun) < 1e-9):
        return math.nan, math.nan
    return float(sol.x[0]), float(math.exp(sol.x[1]))
