"""The base of the laws whose distribution functions delegate to a frozen ``scipy.stats`` law."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import ErrorLaw

__all__ = ["_ScipyLaw"]


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
