"""The asymmetric Laplace law (the check loss's density)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_in_range
from ._base import ErrorLaw

__all__ = ["AsymmetricLaplace"]


class AsymmetricLaplace(ErrorLaw):
    """Asymmetric Laplace law whose ``tau``-quantile is 0: density
    :math:`\\tau(1-\\tau)\\exp\\{-\\rho_\\tau(u)\\}` with the check function
    :math:`\\rho_\\tau(u) = u(\\tau - 1\\{u<0\\})` (Koenker & Machado 1999; Yu & Moyeed 2001).

    It is a mixture of :math:`+E/\\tau` (weight :math:`1-\\tau`) and :math:`-E/(1-\\tau)`
    (weight :math:`\\tau`) with :math:`E` standard exponential, so the raw moments are
    :math:`E X^k = k!\\,[(1-\\tau)\\tau^{-k} + \\tau(-1)^k(1-\\tau)^{-k}]`; mean
    :math:`(1-2\\tau)/(\\tau(1-\\tau))`, variance :math:`(1-2\\tau+2\\tau^2)/(\\tau^2(1-\\tau)^2)`.
    Equals ``scipy.stats.laplace_asymmetric(kappa, scale=1/sqrt(tau(1-tau)))`` with
    :math:`\\kappa = \\sqrt{\\tau/(1-\\tau)}`.
    """

    name = "asymmetric_laplace"

    def __init__(self, tau: float = 0.5) -> None:
        self.tau = check_in_range("tau", tau, 0.0, 1.0)

    @property
    def symmetric(self) -> bool:
        """Only ``tau = 1/2`` (the Laplace law) is symmetric."""
        return self.tau == 0.5

    @property
    def params(self) -> dict[str, float]:
        return {"tau": self.tau}

    def _sample(self, size, rng):
        t = self.tau
        e = rng.standard_exponential(size)
        right = rng.random(size) >= t
        return np.where(right, e / t, -e / (1.0 - t))

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        t = self.tau
        return math.log(t * (1 - t)) - x * (t - (x < 0))

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        t = self.tau
        with np.errstate(over="ignore"):
            left = t * np.exp((1 - t) * np.minimum(x, 0.0))
            right = -(1 - t) * np.expm1(-t * np.maximum(x, 0.0)) + t
        return np.where(x < 0, left, right)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        t = self.tau
        with np.errstate(over="ignore"):
            left = 1.0 - t * np.exp((1 - t) * np.minimum(x, 0.0))
            right = (1 - t) * np.exp(-t * np.maximum(x, 0.0))
        return np.where(x < 0, left, right)

    def ppf(self, p):
        p = np.asarray(p, dtype=float)
        t = self.tau
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.log(p / t) / (1 - t)
            right = -(np.log1p(-p) - math.log1p(-t)) / t
        out = np.where(p <= t, left, right)
        return np.where((p < 0) | (p > 1), np.nan, out)

    def _raw_moment(self, k: int) -> float:
        t = self.tau
        return math.factorial(k) * ((1 - t) / t**k + t * (-1) ** k / (1 - t) ** k)

    def mean(self) -> float:
        t = self.tau
        return (1 - 2 * t) / (t * (1 - t))

    def median(self) -> float:
        return float(self.ppf(0.5))

    def var(self) -> float:
        t = self.tau
        return (1 - 2 * t + 2 * t * t) / (t * (1 - t)) ** 2

    def _central(self, k: int) -> float:
        mu = self.mean()
        return sum(
            math.comb(k, j) * self._raw_moment(j) * (-mu) ** (k - j) if j else (-mu) ** k
            for j in range(k + 1)
        )

    def skewness(self) -> float:
        return self._central(3) / self.var() ** 1.5

    def kurtosis(self) -> float:
        return self._central(4) / self.var() ** 2 - 3.0
