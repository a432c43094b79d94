"""The named error laws (thin objects over ``scipy.stats`` with closed-form moments).

Every law here is in its textbook standard form (location 0, scale 1 unless stated);
use :meth:`ErrorLaw.standardized` to centre and rescale it. Moments are closed forms
(Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions*, vols 1-2), never
numerical integrals. Sampling calls the numpy ``Generator`` methods directly where numpy has
the law (no scipy per-call overhead), otherwise scipy's ``rvs`` with ``random_state=rng``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from .._validation import check_in_range, check_positive
from ._base import fmt_param
from ._scipy import _ScipyLaw

__all__ = [
    "ChiSquare",
    "Gamma",
    "Gumbel",
    "Laplace",
    "LogNormal",
    "Logistic",
    "Lomax",
    "Normal",
    "StudentT",
]

_EULER = float(np.euler_gamma)
_ZETA3 = float(special.zeta(3.0))
_Z75 = float(stats.norm.ppf(0.75))


class Normal(_ScipyLaw):
    """Normal law :math:`N(\\mu, \\sigma^2)`; ``Normal()`` is the standard normal.

    Parameters
    ----------
    mu : float, default 0
    sigma : float > 0, default 1
    """

    name = "normal"
    gaussian = True

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        self.mu = check_in_range("mu", mu, -math.inf, math.inf)
        self.sigma = check_positive("sigma", sigma)

    @property
    def symmetric(self) -> bool:
        return True

    @property
    def params(self) -> dict[str, float]:
        if self.mu == 0.0 and self.sigma == 1.0:
            return {}
        return {"mu": self.mu, "sigma": self.sigma}

    @property
    def label(self) -> str:
        if not self.params:
            return "normal"
        return f"N({fmt_param(self.mu)}, {fmt_param(self.sigma)}^2)"

    def _make_frozen(self):
        return stats.norm(self.mu, self.sigma)

    def _sample(self, size, rng):
        return self.mu + self.sigma * rng.standard_normal(size)

    def mean(self) -> float:
        return self.mu

    def median(self) -> float:
        return self.mu

    def var(self) -> float:
        return self.sigma**2

    def std(self) -> float:
        return self.sigma

    def skewness(self) -> float:
        return 0.0

    def kurtosis(self) -> float:
        return 0.0

    def iqr(self) -> float:
        return 2 * _Z75 * self.sigma

    def mad(self) -> float:
        return _Z75 * self.sigma


class StudentT(_ScipyLaw):
    """Student t law with ``df`` > 0 degrees of freedom (Cauchy at ``df = 1``).

    Mean 0 for df > 1 (else undefined, ``nan``); variance df/(df-2) for df > 2, ``inf`` for
    1 < df <= 2, ``nan`` for df <= 1; skewness 0 for df > 3; excess kurtosis 6/(df-4) for
    df > 4, ``inf`` for 2 < df <= 4. Tail index df.
    """

    name = "t"

    def __init__(self, df: float) -> None:
        self.df = check_positive("df", df)

    @property
    def symmetric(self) -> bool:
        return True

    @property
    def params(self) -> dict[str, float]:
        return {"df": self.df}

    @property
    def label(self) -> str:
        return "cauchy" if self.df == 1.0 else f"t({fmt_param(self.df)})"

    @property
    def tail_index(self) -> float:
        return self.df

    def _make_frozen(self):
        return stats.t(self.df)

    def _sample(self, size, rng):
        return rng.standard_t(self.df, size)

    def mean(self) -> float:
        return 0.0 if self.df > 1 else math.nan

    def median(self) -> float:
        return 0.0

    def var(self) -> float:
        if self.df > 2:
            return self.df / (self.df - 2)
        return math.inf if self.df > 1 else math.nan

    def skewness(self) -> float:
        return 0.0 if self.df > 3 else math.nan

    def kurtosis(self) -> float:
        if self.df > 4:
            return 6.0 / (self.df - 4)
        return math.inf if self.df > 2 else math.nan

    def mad(self) -> float:
        return float(self.ppf(0.75))


class Laplace(_ScipyLaw):
    """Standard Laplace law, density :math:`e^{-|x|}/2` (variance 2, excess kurtosis 3)."""

    name = "laplace"

    @property
    def symmetric(self) -> bool:
        return True

    @property
    def params(self) -> dict[str, float]:
        return {}

    def _make_frozen(self):
        return stats.laplace()

    def _sample(self, size, rng):
        return rng.laplace(0.0, 1.0, size)

    def mean(self) -> float:
        return 0.0

    def median(self) -> float:
        return 0.0

    def var(self) -> float:
        return 2.0

    def skewness(self) -> float:
        return 0.0

    def kurtosis(self) -> float:
        return 3.0

    def mad(self) -> float:
        return math.log(2.0)

    def iqr(self) -> float:
        return 2 * math.log(2.0)


class Logistic(_ScipyLaw):
    """Standard logistic law, :math:`F(x) = 1/(1+e^{-x})` (variance pi^2/3, excess kurtosis 6/5)."""

    name = "logistic"

    @property
    def symmetric(self) -> bool:
        return True

    @property
    def params(self) -> dict[str, float]:
        return {}

    def _make_frozen(self):
        return stats.logistic()

    def _sample(self, size, rng):
        return rng.logistic(0.0, 1.0, size)

    def mean(self) -> float:
        return 0.0

    def median(self) -> float:
        return 0.0

    def var(self) -> float:
        return math.pi**2 / 3

    def skewness(self) -> float:
        return 0.0

    def kurtosis(self) -> float:
        return 1.2

    def mad(self) -> float:
        return math.log(3.0)

    def iqr(self) -> float:
        return 2 * math.log(3.0)


class LogNormal(_ScipyLaw):
    """Lognormal law :math:`e^{sZ}` (median 1).

    With :math:`w = e^{s^2}`: mean :math:`\\sqrt w`, variance :math:`w(w-1)`, skewness
    :math:`(w+2)\\sqrt{w-1}`, excess kurtosis :math:`w^4 + 2w^3 + 3w^2 - 6`. All moments are
    finite, so ``tail_index`` is ``inf`` even though the tail is heavier than any exponential.
    """

    name = "lognormal"

    def __init__(self, s: float) -> None:
        self.s = check_positive("s", s)

    @property
    def params(self) -> dict[str, float]:
        return {"s": self.s}

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _make_frozen(self):
        return stats.lognorm(self.s)

    def _sample(self, size, rng):
        return rng.lognormal(0.0, self.s, size)

    def mean(self) -> float:
        return math.exp(self.s**2 / 2)

    def median(self) -> float:
        return 1.0

    def var(self) -> float:
        return math.expm1(self.s**2) * math.exp(self.s**2)

    def skewness(self) -> float:
        w = math.exp(self.s**2)
        return (w + 2) * math.sqrt(math.expm1(self.s**2))

    def kurtosis(self) -> float:
        w = math.exp(self.s**2)
        return w**4 + 2 * w**3 + 3 * w**2 - 6

    def iqr(self) -> float:
        return 2 * math.sinh(self.s * _Z75)


class Gamma(_ScipyLaw):
    """Gamma law with ``shape`` and unit scale: mean = var = shape, skewness
    :math:`2/\\sqrt{k}`, excess kurtosis :math:`6/k`."""

    name = "gamma"

    def __init__(self, shape: float) -> None:
        self.shape = check_positive("shape", shape)

    @property
    def params(self) -> dict[str, float]:
        return {"shape": self.shape}

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _make_frozen(self):
        return stats.gamma(self.shape)

    def _sample(self, size, rng):
        return rng.standard_gamma(self.shape, size)

    def mean(self) -> float:
        return self.shape

    def var(self) -> float:
        return self.shape

    def skewness(self) -> float:
        return 2.0 / math.sqrt(self.shape)

    def kurtosis(self) -> float:
        return 6.0 / self.shape


class ChiSquare(_ScipyLaw):
    """Chi-square law with ``k`` degrees of freedom (Gamma(k/2) times 2): mean k, variance 2k,
    skewness :math:`\\sqrt{8/k}`, excess kurtosis 12/k."""

    name = "chisquare"

    def __init__(self, k: float) -> None:
        self.k = check_positive("k", k)

    @property
    def params(self) -> dict[str, float]:
        return {"k": self.k}

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def _make_frozen(self):
        return stats.chi2(self.k)

    def _sample(self, size, rng):
        return rng.chisquare(self.k, size)

    def mean(self) -> float:
        return self.k

    def var(self) -> float:
        return 2 * self.k

    def skewness(self) -> float:
        return math.sqrt(8.0 / self.k)

    def kurtosis(self) -> float:
        return 12.0 / self.k


class Gumbel(_ScipyLaw):
    """Standard Gumbel law for maxima (``scipy.stats.gumbel_r``), :math:`F(x) = e^{-e^{-x}}`.

    Right-skewed: mean Euler's :math:`\\gamma`, median :math:`-\\log\\log 2`, variance
    :math:`\\pi^2/6`, skewness :math:`12\\sqrt6\\,\\zeta(3)/\\pi^3`, excess kurtosis 12/5.
    """

    name = "gumbel"

    @property
    def params(self) -> dict[str, float]:
        return {}

    def _make_frozen(self):
        return stats.gumbel_r()

    def _sample(self, size, rng):
        return rng.gumbel(0.0, 1.0, size)

    def mean(self) -> float:
        return _EULER

    def median(self) -> float:
        return -math.log(math.log(2.0))

    def var(self) -> float:
        return math.pi**2 / 6

    def skewness(self) -> float:
        return 12 * math.sqrt(6) * _ZETA3 / math.pi**3

    def kurtosis(self) -> float:
        return 2.4


class Lomax(_ScipyLaw):
    """Lomax (Pareto type II) law, :math:`P(X > x) = (1 + x)^{-\\alpha}`, x > 0.

    Mean :math:`1/(\\alpha-1)` (``inf`` for alpha <= 1: the law is positive, so the mean
    diverges rather than being undefined); variance
    :math:`\\alpha/((\\alpha-1)^2(\\alpha-2))`, ``inf`` for alpha <= 2; skewness
    :math:`2\\frac{1+\\alpha}{\\alpha-3}\\sqrt{(\\alpha-2)/\\alpha}` (``inf`` for
    2 < alpha <= 3); excess kurtosis :math:`\\frac{6(\\alpha^3+\\alpha^2-6\\alpha-2)}
    {\\alpha(\\alpha-3)(\\alpha-4)}` (``inf`` for 2 < alpha <= 4). Tail index alpha.
    Sampled with ``Generator.pareto`` (which *is* the Lomax law).
    """

    name = "lomax"

    def __init__(self, alpha: float) -> None:
        self.alpha = check_positive("alpha", alpha)

    @property
    def params(self) -> dict[str, float]:
        return {"alpha": self.alpha}

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    @property
    def tail_index(self) -> float:
        return self.alpha

    def _make_frozen(self):
        return stats.lomax(self.alpha)

    def _sample(self, size, rng):
        return rng.pareto(self.alpha, size)

    def mean(self) -> float:
        return 1.0 / (self.alpha - 1) if self.alpha > 1 else math.inf

    def median(self) -> float:
        return math.expm1(math.log(2.0) / self.alpha)

    def var(self) -> float:
        a = self.alpha
        return a / ((a - 1) ** 2 * (a - 2)) if a > 2 else math.inf

    def skewness(self) -> float:
        a = self.alpha
        if a > 3:
            return 2 * (1 + a) / (a - 3) * math.sqrt((a - 2) / a)
        return math.inf if a > 2 else math.nan

    def kurtosis(self) -> float:
        a = self.alpha
        if a > 4:
            return 6 * (a**3 + a**2 - 6 * a - 2) / (a * (a - 3) * (a - 4))
        return math.inf if a > 2 else math.nan
