"""The alpha-stable law (S1 parametrisation) with accurate tails."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from .._validation import check_in_range
from ._base import fmt_param
from ._scipy import _ScipyLaw

__all__ = ["Stable"]

# beyond |x| = 20 the tail comes from Feller's series (see Stable._series)
_STABLE_X = 20.0
_SERIES_TERMS = 160


class Stable(_ScipyLaw):
    """Alpha-stable law :math:`S(\\alpha, \\beta, 1, 0)` in the **S1** parametrisation
    (Samorodnitsky & Taqqu 1994; scipy's default), via ``scipy.stats.levy_stable``.

    Characteristic function :math:`\\exp(-|t|^\\alpha[1 - i\\beta\\,\\mathrm{sign}(t)
    \\tan(\\pi\\alpha/2)])` for alpha != 1 and :math:`\\exp(-|t|[1 + i\\beta\\frac{2}{\\pi}
    \\mathrm{sign}(t)\\log|t|])` for alpha = 1. Scale 1, location 0: for alpha > 1 the mean is
    0; at alpha = 2 the law is :math:`N(0, 2)` (variance 2, not 1) whatever beta; alpha = 1,
    beta = 0 is the standard Cauchy. Mean ``nan`` for alpha <= 1, variance ``inf`` for
    1 < alpha < 2. ``tail_index`` is alpha (2 at alpha = 2, by the package's convention for
    this family). Sampling is scipy's Chambers-Mallows-Stuck ``rvs`` driven by the Generator.
    The law is always S1, even if ``scipy.stats.levy_stable.parameterization`` was switched
    to S0 elsewhere (the location is converted).

    Accuracy. alpha = 2 and (alpha = 1, beta = 0) use the closed-form normal and Cauchy laws.
    Otherwise the density, cdf and quantiles are scipy's (Nolan's integral) for
    :math:`|x| \\le 20`, and beyond that come from Feller's tail series (see ``_series``),
    because scipy's ``levy_stable.cdf`` returns exactly 0 or 1 far in the tails and its
    density has glitches beyond :math:`|x| \\sim 10^6`; the two agree to ~1e-13 at
    :math:`|x| = 20`. The exception is alpha = 1 with beta != 0, whose series has logarithmic
    terms: there everything is scipy's, and scipy is unreliable in the tails (its cdf is 0
    beyond about x = -100 and its ppf fails for p < 1e-3) — avoid that corner or check it.
    """

    name = "stable"

    def __init__(self, alpha: float, beta: float = 0.0) -> None:
        self.alpha = check_in_range("alpha", alpha, 0.0, 2.0, high_closed=True)
        self.beta = check_in_range("beta", beta, -1.0, 1.0, low_closed=True, high_closed=True)
        self.gaussian = self.alpha == 2.0

    @property
    def symmetric(self) -> bool:
        """``beta = 0``, or ``alpha = 2`` (then the law is N(0, 2) whatever beta)."""
        return self.beta == 0.0 or self.alpha == 2.0

    @property
    def params(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta}

    @property
    def label(self) -> str:
        return f"stable({fmt_param(self.alpha)}, {fmt_param(self.beta)})"

    @property
    def tail_index(self) -> float:
        return self.alpha

    @property
    def support(self) -> tuple[float, float]:
        if self.alpha < 1 and self.beta == 1.0:
            return (0.0, math.inf)
        if self.alpha < 1 and self.beta == -1.0:
            return (-math.inf, 0.0)
        return (-math.inf, math.inf)

    @property
    def _closed_form(self) -> bool:
        return self.alpha == 2.0 or (self.alpha == 1.0 and self.beta == 0.0)

    def _make_frozen(self):
        if self.alpha == 2.0:
            return stats.norm(0.0, math.sqrt(2.0))
        if self.alpha == 1.0 and self.beta == 0.0:
            return stats.cauchy()
        loc = 0.0
        if getattr(stats.levy_stable, "parameterization", "S1") == "S0" and self.alpha != 1:
            # S0 location = S1 location + beta * scale * tan(pi alpha / 2) (Nolan 2020, 1.3)
            loc = self.beta * math.tan(math.pi * self.alpha / 2)
        return stats.levy_stable(self.alpha, self.beta, loc=loc)

    @property
    def _use_series(self) -> bool:
        return not self._closed_form and self.alpha != 1.0

    def _series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tail probability and density at ``|x| >= 20`` from the series of Feller (1971,
        XVII.6, Lemma 1): for the law :math:`Y` with characteristic function
        :math:`\\exp(-|\\zeta|^\alpha e^{-i\\pi\\gamma\\,\\mathrm{sign}\\zeta/2})` and y > 0,
        :math:`f(y) = \frac{1}{\\pi y}\\sum_{k\\ge1}\frac{\\Gamma(k\alpha+1)}{k!}
        (-y^{-\alpha})^k \\sin\frac{k\\pi(\\gamma-\alpha)}{2}`, integrated term by term for
        :math:`P(Y > y)`. S1 is :math:`X = \\sigma Y` with :math:`\tan\theta =
        \beta\tan(\\pi\alpha/2)`, :math:`\\gamma = -2\theta/\\pi`,
        :math:`\\sigma = (\\sec\theta)^{1/\alpha}`; the left tail is the right tail of
        :math:`-X \\sim S(\alpha, -\beta)`. The series converges for alpha < 1 and is
        asymptotic for alpha > 1, where it is cut at its smallest term (beyond |x| = 20 that
        term is below double precision for every alpha in (1, 2)). Returns the probability
        beyond ``x`` (above for x > 0, below for x < 0) and the density at ``x``.
        """
        a = self.alpha
        x = np.asarray(x, dtype=float)
        theta0 = math.atan(self.beta * math.tan(math.pi * a / 2))
        theta = np.where(x < 0, -theta0, theta0)[..., None]
        sigma = np.cos(theta) ** (-1.0 / a)
        gamma = -2.0 * theta / math.pi
        y = np.abs(x)[..., None] / sigma
        k = np.arange(1, _SERIES_TERMS + 1, dtype=float)
        mag = np.exp(special.gammaln(k * a + 1) - special.gammaln(k + 1) - k * a * np.log(y))
        if a > 1:  # asymptotic series: keep the terms up to the smallest one
            cut = np.argmin(mag, axis=-1)[..., None]
            mag = np.where(k[None, :] - 1 <= cut, mag, 0.0) if mag.ndim > 1 else mag
        coef = (-1.0) ** k * np.sin(k * math.pi * (gamma - a) / 2)
        tail = (mag * coef / (k * a)).sum(axis=-1) / math.pi
        dens = (mag * coef).sum(axis=-1) / (math.pi * y[..., 0]) / sigma[..., 0]
        return tail, dens

    def _light_side(self, x: np.ndarray) -> np.ndarray:
        """True where x lies on a side whose tail is not a power law (beta = -+1)."""
        return ((x > 0) & (self.beta == -1.0)) | ((x < 0) & (self.beta == 1.0))

    def _far(self, x: np.ndarray) -> np.ndarray:
        if not self._use_series:
            return np.zeros(x.shape, dtype=bool)
        return (np.abs(x) > _STABLE_X) & ~self._light_side(x)

    def pdf(self, x):
        """Density: scipy's inside ``|x| <= 20``, Feller's tail series beyond."""
        x = np.asarray(x, dtype=float)
        far = self._far(x)
        out = np.array(self.frozen.pdf(np.where(far, 0.0, x)), dtype=float)
        if far.any():
            out[far] = self._series(x[far])[1]
        return out if out.ndim else float(out)

    def logpdf(self, x):
        """Log density."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x):
        """Distribution function: scipy's inside ``|x| <= 20``, Feller's tail series beyond
        (scipy's ``levy_stable.cdf`` returns exactly 0 or 1 far in the tails)."""
        x = np.asarray(x, dtype=float)
        far = self._far(x)
        out = np.array(self.frozen.cdf(np.where(far, 0.0, x)), dtype=float)
        if far.any():
            t = self._series(x[far])[0]
            out[far] = np.where(x[far] < 0, t, 1.0 - t)
        return out if out.ndim else float(out)

    def sf(self, x):
        """Survival function, accurate in the upper tail (see :meth:`cdf`)."""
        x = np.asarray(x, dtype=float)
        far = self._far(x)
        out = np.array(self.frozen.sf(np.where(far, 0.0, x)), dtype=float)
        if far.any():
            t = self._series(x[far])[0]
            out[far] = np.where(x[far] < 0, 1.0 - t, t)
        return out if out.ndim else float(out)

    def ppf(self, p):
        """Quantile function: scipy's where :math:`|F^{-1}(p)| \\le 20`, otherwise Newton's
        method for :math:`\\log P(\text{tail}) = \\log p` in :math:`\\log|x|` on the series."""
        if not self._use_series:
            return self.frozen.ppf(p)
        p = np.asarray(p, dtype=float)
        flat = p.reshape(-1)
        out = np.full(flat.shape, np.nan)
        p_lo, p_hi = (float(v) for v in self.frozen.cdf(np.array([-_STABLE_X, _STABLE_X])))
        lo_light, hi_light = self._light_side(np.array([-1.0, 1.0]))
        left = (flat > 0) & (flat < p_lo) & ~lo_light
        right = (flat > p_hi) & (flat < 1) & ~hi_light
        central = ~(left | right | np.isnan(flat))
        if central.any():
            out[central] = self.frozen.ppf(flat[central])
        for i in np.flatnonzero(left | right):
            out[i] = self._tail_ppf(float(flat[i]))
        out = out.reshape(p.shape)
        return out if out.ndim else float(out)

    def _tail_ppf(self, p: float) -> float:
        sign, target = (-1.0, p) if p < 0.5 else (1.0, 1.0 - p)
        log_target = math.log(target)
        # the power tail makes log P(tail beyond e^t) nearly linear in t with slope -alpha
        t = math.log(_STABLE_X)
        t_lo = t
        for _ in range(100):
            tail, dens = self._series(np.array([sign * math.exp(t)]))
            val = math.log(tail[0]) - log_target
            der = -math.exp(t) * dens[0] / tail[0]
            t_new = max(t - val / der, 0.5 * (t + t_lo))
            if abs(t_new - t) <= 1e-14 * abs(t):
                t = t_new
                break
            t = t_new
        return sign * math.exp(t)

    def mean(self) -> float:
        return 0.0 if self.alpha > 1 else math.nan

    def median(self) -> float:
        return 0.0 if self.symmetric else float(self.ppf(0.5))

    def var(self) -> float:
        if self.alpha == 2.0:
            return 2.0
        return math.inf if self.alpha > 1 else math.nan

    def skewness(self) -> float:
        return 0.0 if self.alpha == 2.0 else math.nan

    def kurtosis(self) -> float:
        return 0.0 if self.alpha == 2.0 else math.nan
