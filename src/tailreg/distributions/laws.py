"""The named error laws (thin objects over ``scipy.stats`` with closed-form moments).

Every law here is in its textbook standard form (location 0, scale 1 unless stated);
use :meth:`ErrorLaw.standardized` to centre and rescale it. Moments are closed forms
(Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions*, vols 1-2), never
numerical integrals. Sampling calls the numpy ``Generator`` methods directly where numpy has
the law (no scipy per-call overhead), otherwise scipy's ``rvs`` with ``random_state=rng``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special, stats

from .._validation import check_in_range, check_positive
from ._base import ErrorLaw, fmt_param

__all__ = [
    "ChiSquare",
    "Gamma",
    "Gumbel",
    "Laplace",
    "LogNormal",
    "Logistic",
    "Lomax",
    "Normal",
    "SkewNormal",
    "StudentT",
]

_EULER = float(np.euler_gamma)
_ZETA3 = float(special.zeta(3.0))
_Z75 = float(stats.norm.ppf(0.75))


class _ScipyLaw(ErrorLaw):
    """A law whose distribution functions delegate to a frozen ``scipy.stats`` object.

    The frozen object is rebuilt lazily and never pickled (laws travel to worker processes).
    """

    def _make_frozen(self):  # pragma: no cover - abstract in spirit
        raise NotImplementedError

    @property
    def frozen(self):
        """The equivalent frozen ``scipy.stats`` distribution."""
        fr = self.__dict__.get("_frozen")
        if fr is None:
            fr = self._make_frozen()
            self.__dict__["_frozen"] = fr
        return fr

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_frozen", None)
        return state

    def pdf(self, x):
        """Density :math:`f(x)`."""
        with np.errstate(over="ignore"):  # e.g. Gumbel's exp(-x) far left; the pdf is 0
            return self.frozen.pdf(x)

    def logpdf(self, x):
        """Log density."""
        with np.errstate(over="ignore"):
            return self.frozen.logpdf(x)

    def cdf(self, x):
        """Distribution function :math:`F(x)`."""
        return self.frozen.cdf(x)

    def sf(self, x):
        """Survival function :math:`1 - F(x)` (accurate in the upper tail)."""
        return self.frozen.sf(x)

    def ppf(self, p):
        """Quantile function :math:`F^{-1}(p)`."""
        return self.frozen.ppf(p)

    def _sample(self, size, rng):
        return self.frozen.rvs(size=size, random_state=rng)


class Normal(_ScipyLaw):
    """Normal law :math:`N(\\mu, \\sigma^2)`; ``Normal()`` is the standard normal.

    Parameters
    ----------
    mu : float, default 0
    sigma : float > 0, default 1
    """

    name = "normal"
    symmetric = True
    gaussian = True

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        self.mu = check_in_range("mu", mu, -math.inf, math.inf)
        self.sigma = check_positive("sigma", sigma)

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
    symmetric = True

    def __init__(self, df: float) -> None:
        self.df = check_positive("df", df)

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
    symmetric = True

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
    symmetric = True

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


_LOG2 = math.log(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: Gauss–Laguerre rule for the skew-normal's short tail (see :func:`_sn_logcdf`)
_LAG_V, _LAG_W = np.polynomial.laguerre.laggauss(60)
_LOG_LAG_W = np.log(_LAG_W)


def _sn_logpdf(x: np.ndarray, a: float) -> np.ndarray:
    """Skew-normal log density :math:`\\log 2 + \\log\\phi(x) + \\log\\Phi(a x)`."""
    return _LOG2 - 0.5 * x * x - _LOG_SQRT_2PI + special.log_ndtr(a * x)


def _sn_logcdf(x: np.ndarray, a: float) -> np.ndarray:
    r"""Skew-normal :math:`\log F(x)` for :math:`a \ge 0`.

    :math:`F = \Phi(x) - 2T(x, a)` (Owen 1956; Azzalini 1985) where that difference keeps
    its digits (:math:`F > 10^{-3}`). In the short left tail the two terms cancel, and
    :math:`F(x) = \int_0^\infty 2\phi(x-s)\Phi(a(x-s))\,ds` is integrated instead: the
    integrand falls like :math:`e^{-cs}` with :math:`c = (1+a^2)|x|`, so the substitution
    :math:`s = v/c'`, :math:`c' = c + \sqrt{1+a^2}`, leaves a smooth factor for a 60-point
    Gauss–Laguerre rule, summed in log space (no underflow down to :math:`F \sim 10^{-300}`).
    Above the median :math:`\log F = \log(1 - S)` with the cancellation-free
    :math:`S = \Phi(-x) + 2T(x, a)`.
    """
    shape = np.shape(x)
    x = np.asarray(x, dtype=float).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = special.ndtr(x) - 2.0 * special.owens_t(x, a)
        out = np.log(F)
    big = F > 0.5  # log F near 0: from the survival function, which has no cancellation
    if big.any():
        xb = x[big]
        out[big] = np.log1p(-(special.ndtr(-xb) + 2.0 * special.owens_t(xb, a)))
    tail = ~(F > 1e-3) & np.isfinite(x)
    if tail.any():
        xt = x[tail]
        r = math.sqrt(1.0 + a * a)
        c = r * r * np.abs(xt) + r
        y = xt[:, None] - _LAG_V[None, :] / c[:, None]
        logg = _LAG_V + _sn_logpdf(y, a)
        out[tail] = special.logsumexp(logg + _LOG_LAG_W, axis=1) - np.log(c)
    return out.reshape(shape)[()]


def _sn_logsf(x: np.ndarray, a: float) -> np.ndarray:
    r"""Skew-normal :math:`\log(1 - F(x))` for :math:`a \ge 0`: :math:`\Phi(-x) + 2T(x, a)`
    (and :math:`\log(1 - F)` from :func:`_sn_logcdf` where :math:`1 - F > 1/2`).

    Both terms are non-negative, so there is no cancellation; where :math:`\Phi(-x)`
    underflows (:math:`x > 37`) the tail is :math:`2\Phi(-x)` (:math:`a > 0`) or
    :math:`\Phi(-x)` (:math:`a = 0`) to double precision.
    """
    shape = np.shape(x)
    x = np.asarray(x, dtype=float).reshape(-1)
    q = special.ndtr(-x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(q + 2.0 * special.owens_t(x, a))
    far = ~(q > 0) & np.isfinite(x)
    if far.any():
        out[far] = special.log_ndtr(-x[far]) + (_LOG2 if a > 0 else 0.0)
    big = out > -_LOG2  # S > 1/2: log S near 0 from F (below the median, F < 1/2)
    if big.any():
        out[big] = np.log1p(-np.exp(_sn_logcdf(x[big], a)))
    return out.reshape(shape)[()]


def _sn_quantile(t: np.ndarray, upper: np.ndarray, a: float) -> np.ndarray:
    """Solve ``log F(x) = t`` (or ``log S(x) = t`` where ``upper``) for SN(a), a >= 0."""
    e = np.exp(t)
    # bracket from N(0, 1) <= SN(a) <= half-normal in the stochastic order
    lo = np.where(upper, -special.ndtri(e), special.ndtri(e))
    hi = np.where(upper, -special.ndtri(0.5 * e), special.ndtri(0.5 * (1.0 + e)))
    x = 0.5 * (lo + hi)
    for _ in range(200):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lf = np.where(upper, _sn_logsf(x, a), _sn_logcdf(x, a))
            # h(x) = lf - t is increasing in x below (log F) and decreasing above (log S)
            h = np.where(upper, t - lf, lf - t)
            dh = np.exp(_sn_logpdf(x, a) - lf)
            lo = np.where(h < 0, x, lo)
            hi = np.where(h > 0, x, hi)
            newton = x - h / dh
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        new = np.where(inside, newton, 0.5 * (lo + hi))
        done = (np.abs(new - x) <= 4e-16 * np.maximum(np.abs(x), 1.0)) | (h == 0)
        x = new
        if done.all():
            break
    return x


class SkewNormal(_ScipyLaw):
    """Azzalini skew-normal law with shape ``a``, density :math:`2\\phi(x)\\Phi(a x)`.

    With :math:`\\delta = a/\\sqrt{1+a^2}` and :math:`\\mu = \\delta\\sqrt{2/\\pi}`:
    mean :math:`\\mu`, variance :math:`1-\\mu^2`, skewness
    :math:`\\frac{4-\\pi}{2}\\mu^3/(1-\\mu^2)^{3/2}`, excess kurtosis
    :math:`2(\\pi-3)\\mu^4/(1-\\mu^2)^2` (Azzalini 1985). Sampled as
    :math:`\\delta|Z_0| + \\sqrt{1-\\delta^2} Z_1`.
    """

    name = "skewnormal"

    def __init__(self, a: float) -> None:
        self.a = check_in_range("a", a, -math.inf, math.inf)
        self.symmetric = self.a == 0.0
        self.gaussian = self.a == 0.0

    @property
    def params(self) -> dict[str, float]:
        return {"a": self.a}

    @property
    def _delta(self) -> float:
        return self.a / math.sqrt(1.0 + self.a**2)

    def _make_frozen(self):
        return stats.skewnorm(self.a)

    def _sample(self, size, rng):
        d = self._delta
        z0 = np.abs(rng.standard_normal(size))
        z1 = rng.standard_normal(size)
        return d * z0 + math.sqrt(1.0 - d * d) * z1

    # The distribution functions are computed here rather than by scipy: scipy's skewnorm
    # falls back to adaptive quadrature (one ``quad`` per point) in the short tail, which
    # made the MM target of a skew-normal study cell cost ~10 s, and its ppf misses the short
    # tail by whole units (0.7 at p ~ 1e-18 for a = 4).

    def logpdf(self, x):
        r""":math:`\log 2 + \log\phi(x) + \log\Phi(a x)` (no underflow in either tail)."""
        return _sn_logpdf(np.asarray(x, dtype=float), self.a)

    def pdf(self, x):
        r"""Density :math:`2\phi(x)\Phi(a x)`."""
        return np.exp(self.logpdf(x))

    def logcdf(self, x):
        r""":math:`\log F(x)`, accurate in both tails (see :func:`_sn_logcdf`)."""
        x = np.asarray(x, dtype=float)
        return _sn_logcdf(x, self.a) if self.a >= 0 else _sn_logsf(-x, -self.a)

    def logsf(self, x):
        r""":math:`\log(1 - F(x))`, accurate in both tails."""
        x = np.asarray(x, dtype=float)
        return _sn_logsf(x, self.a) if self.a >= 0 else _sn_logcdf(-x, -self.a)

    def cdf(self, x):
        r"""Distribution function :math:`F(x) = \Phi(x) - 2T(x, a)` (Owen's T)."""
        return np.exp(self.logcdf(x))

    def sf(self, x):
        """Survival function, accurate in the upper tail."""
        return np.exp(self.logsf(x))

    def ppf(self, p):
        r"""Quantile function, to ~1 ulp in both tails.

        Solves :math:`\log F(x) = \log p` (or :math:`\log(1-F) = \log(1-p)` above the
        median) by Newton steps safeguarded by bisection inside the bracket
        :math:`[\Phi^{-1}(p), \Phi^{-1}((1+p)/2)]` (for :math:`a \ge 0` the law lies between
        N(0, 1) and the half-normal in the stochastic order); the density is log-concave, so
        the iteration converges from any point of the bracket.
        """
        p = np.asarray(p, dtype=float)
        flat = p.reshape(-1)
        x = np.full(flat.shape, np.nan)
        x[flat == 0] = -np.inf
        x[flat == 1] = np.inf
        ok = (flat > 0) & (flat < 1)
        if ok.any():
            pp = flat[ok]
            upper = pp > 0.5
            with np.errstate(divide="ignore"):
                t = np.where(upper, np.log1p(-pp), np.log(pp))
            if self.a >= 0:
                x[ok] = _sn_quantile(t, upper, self.a)
            else:  # X = -Y with Y ~ SN(-a): a lower-tail quantile of X is an upper one of Y
                x[ok] = -_sn_quantile(t, ~upper, -self.a)
        x = x.reshape(p.shape)
        return x if x.ndim else float(x)

    def mean(self) -> float:
        return self._delta * math.sqrt(2 / math.pi)

    def var(self) -> float:
        return 1.0 - 2 * self._delta**2 / math.pi

    def skewness(self) -> float:
        mu = self.mean()
        return (4 - math.pi) / 2 * mu**3 / (1 - mu**2) ** 1.5

    def kurtosis(self) -> float:
        mu = self.mean()
        return 2 * (math.pi - 3) * mu**4 / (1 - mu**2) ** 2


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
