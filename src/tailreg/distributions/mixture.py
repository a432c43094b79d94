"""Finite mixtures of error laws, and the contaminated normal as the classic special case."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import elementwise

from .._validation import check_in_range, check_positive
from ._base import ErrorLaw, fmt_param
from .laws import Normal

__all__ = ["ContaminatedNormal", "Mixture"]


def _raw_moments(law: ErrorLaw) -> tuple[float, float, float, float]:
    """First four raw moments of ``law`` from its mean, variance, skewness and kurtosis.

    Non-finite entries propagate (the caller decides what they mean for the mixture).
    """
    mu, v, g1, g2 = law.mean(), law.var(), law.skewness(), law.kurtosis()
    with np.errstate(invalid="ignore", over="ignore"):
        sd = math.sqrt(v) if v >= 0 else math.nan
        c3 = g1 * sd**3
        c4 = (g2 + 3.0) * v**2
        m2 = v + mu**2
        m3 = c3 + 3 * mu * v + mu**3
        m4 = c4 + 4 * mu * c3 + 6 * mu**2 * v + mu**4
    return mu, m2, m3, m4


def _combine_signed(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted sum of possibly infinite terms: nan if any nan or both +inf and -inf."""
    vals = values[weights > 0]
    w = weights[weights > 0]
    if np.isnan(vals).any():
        return math.nan
    pos, neg = np.isposinf(vals).any(), np.isneginf(vals).any()
    if pos and neg:
        return math.nan
    if pos:
        return math.inf
    if neg:
        return -math.inf
    return float(np.dot(w, vals))


class Mixture(ErrorLaw):
    """Finite mixture :math:`\\sum_j w_j F_j` of error laws.

    Density and distribution function are the weighted sums; the quantile function is found by
    vectorised root-finding (Chandrupatla's method, ``scipy.optimize.elementwise.find_root``)
    in the bracket :math:`[\\min_j F_j^{-1}(p), \\max_j F_j^{-1}(p)]`, which always holds the
    root. Moments are closed form: the mixture's raw moments are the weighted raw moments of
    the components (from their mean, variance, skewness and kurtosis). A moment is ``inf``/
    ``nan`` as soon as a positive-weight component's is; the tail index is the smallest over
    positive-weight components.

    Parameters
    ----------
    components : sequence of ErrorLaw
    weights : sequence of float >= 0 summing to 1 (to 1e-9; renormalised exactly)
    """

    name = "mixture"

    def __init__(self, components: Sequence[ErrorLaw], weights: Sequence[float]) -> None:
        comps = list(components)
        if not comps or not all(isinstance(c, ErrorLaw) for c in comps):
            raise ValueError("components must be a non-empty sequence of ErrorLaw objects")
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(comps),):
            raise ValueError(f"weights must have one entry per component ({len(comps)}), got {w}")
        if not np.all(np.isfinite(w)) or (w < 0).any() or abs(w.sum() - 1.0) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {w.tolist()}")
        self.components = tuple(comps)
        self.weights = w / w.sum()

    # ------------------------------------------------------------------ identity
    @property
    def params(self) -> dict[str, Any]:
        return {
            "components": [c.key for c in self.components],
            "weights": self.weights.tolist(),
        }

    @property
    def key(self) -> str:
        inner = ",".join(
            f"{fmt_param(w)}*{c.key}" for w, c in zip(self.weights, self.components, strict=True)
        )
        return f"mixture({inner})"

    @property
    def label(self) -> str:
        return " + ".join(
            f"{fmt_param(w)} {c.label}" for w, c in zip(self.weights, self.components, strict=True)
        )

    def __repr__(self) -> str:
        return f"Mixture({list(self.components)!r}, {self.weights.tolist()!r})"

    def _active(self):
        return [(w, c) for w, c in zip(self.weights, self.components, strict=True) if w > 0]

    @property
    def support(self) -> tuple[float, float]:
        sup = [c.support for _, c in self._active()]
        return (min(s[0] for s in sup), max(s[1] for s in sup))

    @property
    def symmetric(self) -> bool:
        """True when every positive-weight component is symmetric and all share one median.

        (A mixture of laws symmetric about one centre is symmetric about it; components
        symmetric about different centres, or not known to be symmetric, give False.)
        """
        active = [c for _, c in self._active()]
        if not all(c.symmetric for c in active):
            return False
        return len({float(c.median()) for c in active}) == 1

    @property
    def tail_index(self) -> float:
        tails = [c.tail_index for _, c in self._active()]
        return math.nan if any(math.isnan(t) for t in tails) else min(tails)

    # ------------------------------------------------------------------ sampling
    def _sample(self, size, rng):
        idx = rng.choice(len(self.components), size=size, p=self.weights)
        out = np.empty(np.shape(idx), dtype=float)
        for j, comp in enumerate(self.components):
            mask = idx == j
            m = int(mask.sum())
            if m:
                out[mask] = comp.sample(m, rng)
        return out

    # ------------------------------------------------------------------ distribution functions
    def pdf(self, x):
        return sum(w * c.pdf(x) for w, c in self._active())

    def cdf(self, x):
        return sum(w * c.cdf(x) for w, c in self._active())

    def sf(self, x):
        return sum(w * c.sf(x) for w, c in self._active())

    def ppf(self, p):
        p = np.asarray(p, dtype=float)
        flat = p.reshape(-1)
        out = np.full(flat.shape, np.nan)
        lo_sup, hi_sup = self.support
        out[flat == 0] = lo_sup
        out[flat == 1] = hi_sup
        inner = (flat > 0) & (flat < 1)
        if inner.any():
            q = flat[inner]
            cq = np.array([np.asarray(c.ppf(q), dtype=float) for _, c in self._active()])
            lo, hi = cq.min(axis=0), cq.max(axis=0)
            res = np.array(hi, copy=True)
            todo = hi > lo
            if todo.any():
                found = elementwise.find_root(
                    lambda x, pp: self.cdf(x) - pp,
                    (lo[todo], hi[todo]),
                    args=(q[todo],),
                    tolerances={"xatol": 1e-300, "xrtol": 4 * np.finfo(float).eps, "fatol": 0},
                    maxiter=500,
                )
                res[todo] = found.x
            out[inner] = res
        return out.reshape(p.shape) if p.ndim else float(out[0])

    # ------------------------------------------------------------------ moments (closed form)
    def _mixture_raw(self) -> np.ndarray:
        raw = np.array([_raw_moments(c) for c in self.components])  # (K, 4)
        return raw

    def mean(self) -> float:
        raw = self._mixture_raw()
        return _combine_signed(raw[:, 0], self.weights)

    def var(self) -> float:
        mu = self.mean()
        if not np.isfinite(mu):
            return math.nan if np.isnan(mu) else math.inf
        v = np.array([c.var() for c in self.components])
        act = v[self.weights > 0]
        if np.isnan(act).any():
            return math.nan
        if np.isinf(act).any():
            return math.inf
        return float(_combine_signed(self._mixture_raw()[:, 1], self.weights) - mu**2)

    def _central(self) -> tuple[float, float, float]:
        raw = self._mixture_raw()
        mu = self.mean()
        m2, m3, m4 = (_combine_signed(raw[:, k], self.weights) for k in (1, 2, 3))
        v = m2 - mu**2
        c3 = m3 - 3 * mu * m2 + 2 * mu**3
        c4 = m4 - 4 * mu * m3 + 6 * mu**2 * m2 - 3 * mu**4
        return v, c3, c4

    def skewness(self) -> float:
        if not self.has_var():
            return math.nan
        g = np.array([c.skewness() for c in self.components])[self.weights > 0]
        if not np.all(np.isfinite(g)):
            return _combine_signed(g, np.ones_like(g))
        v, c3, _ = self._central()
        return c3 / v**1.5

    def kurtosis(self) -> float:
        if not self.has_var():
            return math.nan
        g = np.array([c.kurtosis() for c in self.components])[self.weights > 0]
        if np.isposinf(g).any():
            return math.inf
        if np.isnan(g).any():
            return math.nan
        sk = np.array([c.skewness() for c in self.components])[self.weights > 0]
        if not np.all(np.isfinite(sk)):
            return math.nan
        v, _, c4 = self._central()
        return c4 / v**2 - 3.0


class ContaminatedNormal(Mixture):
    """Tukey's contaminated normal :math:`(1-\\varepsilon) N(0,1) + \\varepsilon N(0, c^2)`.

    Mean 0, median 0, variance :math:`1 - \\varepsilon + \\varepsilon c^2`, excess kurtosis
    :math:`3(1-\\varepsilon+\\varepsilon c^4)/(1-\\varepsilon+\\varepsilon c^2)^2 - 3`;
    quantiles and the MAD by root-finding of the mixture distribution function.

    Parameters
    ----------
    eps : float in [0, 1)
    c : float > 0
    """

    name = "contaminated"

    def __init__(self, eps: float, c: float) -> None:
        self.eps = check_in_range("eps", eps, 0.0, 1.0, low_closed=True)
        self.c = check_positive("c", c)
        super().__init__([Normal(), Normal(0.0, self.c)], [1.0 - self.eps, self.eps])
        self.gaussian = self.eps == 0.0 or self.c == 1.0

    @property
    def params(self) -> dict[str, float]:
        return {"eps": self.eps, "c": self.c}

    @property
    def key(self) -> str:
        return ErrorLaw.key.fget(self)  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return f"contaminated normal({fmt_param(self.eps)}, {fmt_param(self.c)})"

    def __repr__(self) -> str:
        return f"ContaminatedNormal(eps={self.eps!r}, c={self.c!r})"

    def _sample(self, size, rng):
        z = rng.standard_normal(size)
        wild = rng.random(size) < self.eps
        return np.where(wild, self.c * z, z)

    def mean(self) -> float:
        return 0.0

    def median(self) -> float:
        return 0.0

    def var(self) -> float:
        return 1.0 - self.eps + self.eps * self.c**2

    def skewness(self) -> float:
        return 0.0

    def kurtosis(self) -> float:
        v = self.var()
        return 3.0 * (1.0 - self.eps + self.eps * self.c**4) / v**2 - 3.0
