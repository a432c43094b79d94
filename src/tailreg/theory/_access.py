"""Duck-typed access to an error law: the few facts the theory reads, with their fallbacks.

A law is any object with vectorised ``pdf``, ``cdf`` and ``ppf``; ``median``, ``mean``,
``var``, ``tail_index``, ``support`` and ``symmetric`` are used when present (methods or
attributes) and otherwise derived or taken as unknown.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import optimize

__all__ = [
    "attr",
    "cdf",
    "check_law",
    "mad_about",
    "median",
    "pdf",
    "ppf",
    "support",
    "tail_index",
]


def attr(law: Any, name: str) -> float | None:
    """Value of a law's method-or-attribute ``name`` as a float, ``None`` when absent."""
    value = getattr(law, name, None)
    if value is None:
        return None
    if callable(value):
        value = value()
    return float(value)


def check_law(law: Any) -> None:
    """Raise a ``TypeError`` unless ``law`` has vectorised ``pdf``, ``cdf`` and ``ppf``."""
    missing = [m for m in ("pdf", "cdf", "ppf") if not callable(getattr(law, m, None))]
    if missing:
        raise TypeError(
            f"law must provide vectorised pdf, cdf and ppf methods; {law!r} lacks {missing}"
        )


def pdf(law: Any, x: float) -> float:
    """The density at one point, as a float."""
    return float(law.pdf(np.asarray(x, dtype=float)))


def cdf(law: Any, x: float) -> float:
    """The distribution function at one point, as a float."""
    return float(law.cdf(np.asarray(x, dtype=float)))


def ppf(law: Any, p: float) -> float:
    """The quantile function at one probability, as a float."""
    return float(law.ppf(np.asarray(p, dtype=float)))


def median(law: Any) -> float:
    """The law's ``median`` when it has one (closed forms), else ``ppf(0.5)``."""
    med = attr(law, "median")
    return ppf(law, 0.5) if med is None else med


def tail_index(law: Any) -> float:
    """Tail index alpha (moments of order < alpha exist); inf for light tails or when unknown."""
    alpha = attr(law, "tail_index")
    return math.inf if alpha is None or math.isnan(alpha) else alpha


def support(law: Any) -> tuple[float, float]:
    """Support edges from a ``support`` attribute or ppf(0), ppf(1); unknown edges are infinite."""
    edges = getattr(law, "support", None)
    if edges is not None and not callable(edges):
        lo, hi = (float(v) for v in edges)
        return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lo, hi = ppf(law, 0.0), ppf(law, 1.0)
        except (ValueError, TypeError, ArithmeticError):  # ppf rejects the closed endpoints
            return -math.inf, math.inf
    return (-math.inf if math.isnan(lo) else lo), (math.inf if math.isnan(hi) else hi)


def mad_about(law: Any, centre: float) -> float:
    r"""Population :math:`\operatorname{med}|e - c|`: root m of F(c + m) - F(c - m) = 1/2."""
    q25, q75 = ppf(law, 0.25), ppf(law, 0.75)
    upper = max(q75 - centre, centre - q25)  # [c - upper, c + upper] contains the IQR

    def g(m: float) -> float:
        return cdf(law, centre + m) - cdf(law, centre - m) - 0.5

    if g(upper) <= 0.0:
        return upper
    return optimize.brentq(g, 0.0, upper, xtol=1e-14 * max(upper, 1e-300))
