r"""Any continuous ``scipy.stats`` distribution as an error law, with what the theory needs.

The theory computes targets from a law's ``pdf``/``cdf``/``ppf`` (which scipy has), but two
facts cannot be read off a scipy object and both change targets when wrong:

* **symmetry** (``symmetric``): for a symmetric law every location functional is the centre,
  and MM's and the t MLE's intercept variances are given only then. A wrong ``True`` gives
  wrong targets; a wrong ``False`` only withholds some. So the rule is: ``True`` only when
  the distribution is symmetric *by its definition* at the given shapes — a fixed list below
  (e.g. ``norm``, ``t``, ``gennorm`` always; ``skewnorm`` at ``a = 0``; ``beta`` at
  ``a = b``) — or when the caller asserts it, and then the assertion is checked numerically
  (:math:`F^{-1}(p) + F^{-1}(1-p) = 2m` at twelve levels down to :math:`p = 10^{-6}`, to
  :math:`10^{-7}` of the width :math:`F^{-1}(1-p) - F^{-1}(p)`); never guessed from numbers alone.
* **tail index** (``tail_index``): which moments exist (least squares' variance is infinite
  for :math:`\alpha \le 2`). Known in closed form for the power-tailed families listed below
  and ``inf`` for the listed light-tailed ones; otherwise ``nan`` (unknown: the theory then
  trusts scipy's moments) unless the caller passes it.

``loc`` and ``scale`` are applied by scipy (pass a frozen distribution); the study-file keys
``center`` and ``scale`` standardise the law as for the built-in ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np
from scipy import stats

from ._base import ErrorLaw, fmt_param
from ._scipy import _ScipyLaw

__all__ = ["FromScipy", "from_scipy", "scipy_shapes"]

Shapes = dict[str, float]


def _always(p: Shapes) -> bool:
    return True


#: distribution name -> symmetric at these shapes (by definition of the family)
SYMMETRIC: dict[str, Callable[[Shapes], bool]] = {
    **{
        name: _always
        for name in (
            "anglit",
            "arcsine",
            "cauchy",
            "cosine",
            "dgamma",
            "dweibull",
            "gennorm",
            "hypsecant",
            "laplace",
            "logistic",
            "norm",
            "rdist",
            "semicircular",
            "t",
            "tukeylambda",
            "uniform",
        )
    },
    "beta": lambda p: p["a"] == p["b"],
    "genhyperbolic": lambda p: p["b"] == 0.0,
    "genlogistic": lambda p: p["c"] == 1.0,
    "jf_skew_t": lambda p: p["a"] == p["b"],
    "johnsonsb": lambda p: p["a"] == 0.0,
    "johnsonsu": lambda p: p["a"] == 0.0,
    "laplace_asymmetric": lambda p: p["kappa"] == 1.0,
    "levy_stable": lambda p: p["beta"] == 0.0 or p["alpha"] == 2.0,
    "nct": lambda p: p["nc"] == 0.0,
    "norminvgauss": lambda p: p["b"] == 0.0,
    "powernorm": lambda p: p["c"] == 1.0,
    "skewcauchy": lambda p: p["a"] == 0.0,
    "skewnorm": lambda p: p["a"] == 0.0,
    "trapezoid": lambda p: p["c"] + p["d"] == 1.0,
    "triang": lambda p: p["c"] == 0.5,
    "truncnorm": lambda p: p["a"] == -p["b"],
}

_LIGHT = [
    "anglit",
    "arcsine",
    "beta",
    "chi",
    "chi2",
    "cosine",
    "dgamma",
    "dweibull",
    "expon",
    "exponnorm",
    "exponweib",
    "foldnorm",
    "gamma",
    "genhyperbolic",
    "genlogistic",
    "gennorm",
    "gompertz",
    "gumbel_l",
    "gumbel_r",
    "halflogistic",
    "halfnorm",
    "hypsecant",
    "invgauss",
    "johnsonsb",
    "johnsonsu",
    "laplace",
    "laplace_asymmetric",
    "loggamma",
    "logistic",
    "lognorm",
    "maxwell",
    "nakagami",
    "norm",
    "norminvgauss",
    "powernorm",
    "rayleigh",
    "rdist",
    "rice",
    "semicircular",
    "skewnorm",
    "trapezoid",
    "triang",
    "truncnorm",
    "uniform",
    "wald",
    "weibull_max",
    "weibull_min",
]

#: distribution name -> tail index at these shapes (moments of order < alpha exist)
TAIL_INDEX: dict[str, Callable[[Shapes], float]] = {
    **{name: (lambda p: math.inf) for name in _LIGHT},
    "betaprime": lambda p: p["b"],
    "burr": lambda p: p["c"],  # F = (1 + x^-c)^-d: P(X > x) ~ d x^-c
    "burr12": lambda p: p["c"] * p["d"],
    "cauchy": lambda p: 1.0,
    "f": lambda p: p["dfd"] / 2.0,
    "fisk": lambda p: p["c"],
    "foldcauchy": lambda p: 1.0,
    "genextreme": lambda p: -1.0 / p["c"] if p["c"] < 0 else math.inf,
    "gengamma": lambda p: -p["a"] * p["c"] if p["c"] < 0 else math.inf,
    "genpareto": lambda p: 1.0 / p["c"] if p["c"] > 0 else math.inf,
    "halfcauchy": lambda p: 1.0,
    "invgamma": lambda p: p["a"],
    "invweibull": lambda p: p["c"],
    "jf_skew_t": lambda p: 2.0 * min(p["a"], p["b"]),
    "levy": lambda p: 0.5,
    "levy_l": lambda p: 0.5,
    "levy_stable": lambda p: p["alpha"],
    "loglaplace": lambda p: p["c"],
    "lomax": lambda p: p["c"],
    "mielke": lambda p: p["s"],
    "nct": lambda p: p["df"],
    "pareto": lambda p: p["b"],
    "skewcauchy": lambda p: 1.0,
    "t": lambda p: p["df"],
    "tukeylambda": lambda p: -1.0 / p["lam"] if p["lam"] < 0 else math.inf,
}


def scipy_shapes(dist: stats.rv_continuous) -> tuple[str, ...]:
    """The names of a scipy distribution's shape parameters (``()`` when it has none)."""
    return tuple(s.strip() for s in dist.shapes.split(",")) if dist.shapes else ()


def _shape_values(frozen: Any) -> Shapes:
    """Shape parameters of a frozen scipy law by name (positional ``args`` included)."""
    names = (*scipy_shapes(frozen.dist), "loc", "scale")
    out = dict(zip(names, (float(a) for a in frozen.args), strict=False))
    out.update({k: float(v) for k, v in frozen.kwds.items()})
    return out


def _check_symmetric(frozen: Any) -> None:
    """Raise unless :math:`F^{-1}(p) + F^{-1}(1-p) = 2m` to 1e-7 of
    :math:`F^{-1}(1-p) - F^{-1}(p)` at twelve levels."""
    p = np.array([1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.45])
    with np.errstate(all="ignore"):
        lo, hi = frozen.ppf(p), frozen.ppf(1.0 - p)
        m = float(frozen.median())
        gap = np.abs((lo - m) + (hi - m))
    # relative to the width at each level: F^-1(1 - p) carries the rounding of 1 - p
    ok = np.isfinite(gap) & (gap <= 1e-7 * (hi - lo))
    if not ok.all():
        worst = float(p[np.argmax(np.where(np.isfinite(gap), gap, np.inf))])
        raise ValueError(
            f"symmetric=True, but scipy.stats.{frozen.dist.name} at these parameters is not "
            f"symmetric about its median: F^-1({worst:g}) and F^-1({1 - worst:g}) are not "
            "mirror images"
        )


class FromScipy(_ScipyLaw):
    """Wrap any frozen continuous ``scipy.stats`` distribution as an error law.

    Moments come from ``frozen.stats("mvsk")`` (scipy's kurtosis is already the excess one)
    and the median from ``frozen.median()``. Symmetry and the tail index follow the rules of
    :mod:`tailreg.distributions.scipy_laws` (known families, or the caller's statement).

    Parameters
    ----------
    frozen : scipy.stats frozen continuous distribution, e.g. ``stats.weibull_min(1.5)``
    tail_index : float, optional
        Default: from the table of known families, else ``nan`` (unknown).
    symmetric : bool, optional
        Default: from the table of symmetric families, else False. ``True`` is checked
        numerically (a ``ValueError`` if the quantiles are not mirror images).
    """

    name = "scipy"

    def __init__(
        self, frozen: Any, tail_index: float | None = None, symmetric: bool | None = None
    ) -> None:
        dist = getattr(frozen, "dist", None)
        if not isinstance(dist, stats.rv_continuous):
            raise ValueError(
                "frozen must be a frozen continuous scipy.stats distribution "
                f"(e.g. scipy.stats.weibull_min(1.5)), got {frozen!r}"
            )
        self._fr = frozen
        shapes = _shape_values(frozen)
        if tail_index is None:
            known = TAIL_INDEX.get(dist.name)
            tail_index = known(shapes) if known is not None else math.nan
        self._tail = float(tail_index)
        if symmetric is None:
            rule = SYMMETRIC.get(dist.name)
            symmetric = bool(rule(shapes)) if rule is not None else False
        elif symmetric:
            _check_symmetric(frozen)
        self._symmetric = bool(symmetric)

    def _make_frozen(self):
        return self._fr

    @property
    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"arg{i}": a for i, a in enumerate(self._fr.args)}
        out.update(self._fr.kwds)
        return out

    @property
    def key(self) -> str:
        bits = [fmt_param(a) for a in self._fr.args]
        bits += [f"{k}={fmt_param(v)}" for k, v in sorted(self._fr.kwds.items())]
        return f"scipy.{self._fr.dist.name}({','.join(bits)})"

    @property
    def label(self) -> str:
        bits = [fmt_param(a) for a in self._fr.args]
        bits += [f"{k}={fmt_param(v)}" for k, v in sorted(self._fr.kwds.items())]
        return f"{self._fr.dist.name}({', '.join(bits)})"

    def __repr__(self) -> str:
        return f"FromScipy({self.label})"

    @property
    def support(self) -> tuple[float, float]:
        lo, hi = self._fr.support()
        return (float(lo), float(hi))

    @property
    def tail_index(self) -> float:
        return self._tail

    @property
    def symmetric(self) -> bool:
        return self._symmetric

    def _stats(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self._fr.stats("mvsk"))

    def mean(self) -> float:
        return self._stats()[0]

    def median(self) -> float:
        return float(self._fr.median())

    def var(self) -> float:
        return self._stats()[1]

    def skewness(self) -> float:
        return self._stats()[2]

    def kurtosis(self) -> float:
        return self._stats()[3]


def _scipy_dist(dist: Any) -> stats.rv_continuous:
    if isinstance(dist, str):
        name = dist.removeprefix("scipy.stats:").removeprefix("scipy.stats.")
        found = getattr(stats, name, None)
        if not isinstance(found, stats.rv_continuous):
            raise ValueError(
                f"scipy.stats has no continuous distribution {name!r} "
                "(see scipy.stats for the names, e.g. 'gennorm', 'weibull_min')"
            )
        return found
    if isinstance(dist, stats.rv_continuous):
        return dist
    raise ValueError(
        f"expected a scipy.stats continuous distribution, its name or a frozen one, got {dist!r}"
    )


def from_scipy(
    dist: Any,
    /,
    *,
    tail_index: float | None = None,
    symmetric: bool | None = None,
    center: str | None = None,
    scale: str | None = None,
    **shape: Any,
) -> ErrorLaw:
    """An error law from a continuous ``scipy.stats`` distribution and its shape parameters.

    Parameters
    ----------
    dist : str, scipy.stats.rv_continuous or frozen distribution
        ``"gennorm"`` (or ``"scipy.stats:gennorm"``), ``scipy.stats.gennorm``, or a frozen
        ``scipy.stats.gennorm(1.2, loc=..., scale=...)`` (then no ``shape`` keywords).
    tail_index, symmetric
        Override the known-family rules (see :class:`FromScipy`).
    center, scale : str, optional
        Standardisation as for the built-in laws (``"mean"``/``"median"``;
        ``"sd"``/``"iqr"``/``"mad"``), applied by :meth:`ErrorLaw.standardized`.
    **shape : float
        Every shape parameter of the distribution, by name (``beta=1.2`` for ``gennorm``).

    Raises
    ------
    ValueError
        Unknown distribution, a missing or unknown shape, a value that is not a number, or
        shapes outside the distribution's domain (scipy's own check); the message names them.

    Examples
    --------
    >>> from_scipy("scipy.stats:t", df=3).key
    'scipy.t(df=3)'
    """
    if hasattr(dist, "dist") and hasattr(dist, "kwds"):  # a frozen distribution
        if shape:
            raise ValueError("shape keywords cannot be combined with a frozen distribution")
        law: ErrorLaw = FromScipy(dist, tail_index, symmetric)
        return law if center is None and scale is None else law.standardized(center, scale)
    rv = _scipy_dist(dist)
    names = scipy_shapes(rv)
    where = f"scipy.stats:{rv.name}"
    unknown = sorted(set(shape) - set(names))
    if unknown:
        hint = (
            " (use center/scale, or a frozen distribution for loc/scale)"
            if {
                "loc",
                "scale",
            }
            & set(unknown)
            else ""
        )
        expected = ", ".join(names) or "no shape parameters"
        raise ValueError(
            f"{where}: unknown parameter(s) {', '.join(map(repr, unknown))} "
            f"(expected: {expected}; plus center, scale){hint}"
        )
    missing = [k for k in names if k not in shape]
    if missing:
        raise ValueError(f"{where} needs shape parameter(s) {', '.join(map(repr, missing))}")
    for k, v in shape.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(float(v)):
            raise ValueError(f"{where}: {k} must be a finite number, got {v!r}")
    frozen = rv(**{k: float(v) for k, v in shape.items()})
    lo, hi = frozen.support()
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(
            f"{where}: shape parameters {shape} are outside the distribution's domain "
            "(scipy's argument check failed)"
        )
    law = FromScipy(frozen, tail_index, symmetric)
    return law if center is None and scale is None else law.standardized(center, scale)
