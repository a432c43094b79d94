r"""Population limits of the MM and Student-t MLE location/scale, for their pseudo-true targets.

(Moved here from ``tailreg.simulation.functionals``: the estimators' ``target(law)`` need
them, and estimators must not import the simulation layer.)

``tailreg.theory`` gives :math:`T(F)` for a loss at a known scale, a MAD scale, or the
Huber-type joint MAD scale. The MM estimator and the Student-t MLE estimate their scale
differently, so their limits are computed here and then handed to the theory at that fixed
scale:

* **MM** (Yohai 1987): the S-functional :math:`(T_S, s_S)` minimises :math:`s` subject to
  :math:`E\chi_{c_0}((e - T)/s) = b` (bisquare :math:`\chi` normalised to
  :math:`\sup\chi = 1`); the MM location then solves :math:`E\psi_{c_1}((e - T)/s_S) = 0`.
* **Student-t MLE with fixed** :math:`\nu`: :math:`(T, s)` solve the likelihood equations
  :math:`E\psi(u) = 0` and :math:`E[\psi(u)u] = 1`, :math:`\psi(u) = (\nu+1)u/(\nu+u^2)`,
  :math:`u = (e - T)/s`.

Expectations of these bounded functions are integrals over probabilities,
:math:`E h(e) = \int_0^1 h(F^{-1}(p))\,dp`, which stay well behaved for any tail.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import optimize

__all__ = ["s_functional", "t_mle_functional"]


@lru_cache(maxsize=128)
def _nodes(law: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Quadrature nodes :math:`x_i = F^{-1}(p_i)` and weights for :math:`\int_0^1 dp`.

    Gauss–Legendre (8 nodes) on 2000 equal panels of (1e-3, 1 - 1e-3) and on log-spaced
    panels down to 1e-12 in each tail; the integrands are bounded, so the neglected mass
    costs at most 2e-12.
    """
    tail = np.logspace(-12, -3, 61)
    edges = np.unique(np.concatenate([tail, np.linspace(1e-3, 1 - 1e-3, 2001), 1 - tail[::-1]]))
    g, gw = np.polynomial.legendre.leggauss(8)
    a, b = edges[:-1, None], edges[1:, None]
    p = ((a + b) / 2 + (b - a) / 2 * g).ravel()
    w = ((b - a) / 2 * gw).ravel()
    x = np.asarray(law.ppf(p), dtype=float)
    ok = np.isfinite(x)
    return x[ok], w[ok]


def _expect(law: Any, h) -> float:
    r""":math:`E h(e) = \int_0^1 h(F^{-1}(p))dp` for a bounded, vectorised ``h``."""
    x, w = _nodes(law)
    return float(np.sum(w * h(x)))  # not BLAS: deterministic whatever the thread count


def _chi(u: np.ndarray, c: float) -> np.ndarray:
    t = np.minimum((u / c) ** 2, 1.0)
    return t * (3.0 + t * (-3.0 + t))


def _s_of(law: Any, T: float, c: float, b: float, s0: float, xtol: float = 1e-12) -> float:
    def g(log_s: float) -> float:
        s = math.exp(log_s)
        return _expect(law, lambda x: _chi((x - T) / s, c)) - b

    lo, hi = math.log(s0) - 1.0, math.log(s0) + 1.0
    while g(lo) < 0:
        lo -= 1.0
    while g(hi) > 0:
        hi += 1.0
    return math.exp(optimize.brentq(g, lo, hi, xtol=xtol))


@lru_cache(maxsize=128)
def s_functional(law: Any, c: float, b: float) -> tuple[float, float]:
    """The S-functional :math:`(T_S, s_S)` of a bisquare :math:`\\chi_c` with right side ``b``."""
    med = float(law.ppf(0.5))
    spread = float(law.ppf(0.75) - law.ppf(0.25))
    s0 = spread / 1.349
    grid = np.linspace(float(law.ppf(0.1)), float(law.ppf(0.9)), 17)
    scales = [_s_of(law, t, c, b, s0, 1e-8) for t in grid]
    j = int(np.argmin(scales))
    lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(
        lambda t: _s_of(law, t, c, b, s0, 1e-10),
        bounds=(lo, hi),
        method="bounded",
        # s(T) is flat at its minimum: T to 1e-7 fixes s to about 1e-14
        options={"xatol": 1e-7 * spread},
    )
    T = float(res.x) if res.fun <= min(scales) else float(grid[j])
    if not np.isfinite(T):
        T = med
    return T, _s_of(law, T, c, b, s0)


@lru_cache(maxsize=128)
def t_mle_functional(law: Any, df: float) -> tuple[float, float]:
    """:math:`(T, s)` solving the Student-t(``df``) location-scale likelihood equations."""

    def eqs(v: np.ndarray) -> list[float]:
        T, s = v[0], math.exp(v[1])

        def psi(x: np.ndarray) -> np.ndarray:
            u = (x - T) / s
            return (df + 1.0) * u / (df + u * u)

        e1 = _expect(law, psi)
        e2 = _expect(law, lambda x: psi(x) * (x - T) / s)
        return [e1, e2 - 1.0]

    med = float(law.ppf(0.5))
    s0 = float(law.ppf(0.75) - law.ppf(0.25)) / 1.349
    sol = optimize.root(eqs, [med, math.log(s0)], method="hybr", options={"xtol": 1e-11})
    # judge by the residual: near the root hybr may report "not making good progress"
    if not np.all(np.abs(sol.fun) < 1e-9):
        return math.nan, math.nan
    return float(sol.x[0]), float(math.exp(sol.x[1]))
