"""Base class of the error laws and the affine :class:`Standardized` wrapper.

Conventions shared by every law
-------------------------------
* ``kurtosis()`` is the **excess** kurtosis (0 for the normal).
* ``var()`` is ``inf`` when the second moment is infinite and ``nan`` when it is undefined
  (the mean itself does not exist, e.g. the Cauchy law); ``mean()`` is ``nan`` when undefined
  (``+inf`` for a positive law whose mean diverges, e.g. Lomax with ``alpha <= 1``).
* ``tail_index`` is the index :math:`\\alpha` of regular variation of the heavier tail,
  :math:`P(|X| > x) = x^{-\\alpha} L(x)`: moments of order :math:`< \\alpha` are finite.
  Laws with all moments finite report ``inf`` — this includes the lognormal, which is
  subexponential but not regularly varying.
* ``mad()`` is the population median absolute deviation about the median, *unnormalised*
  (divide by 0.6744897501960817 for the normal-consistent scale); ``iqr()`` is
  :math:`F^{-1}(3/4) - F^{-1}(1/4)`.
* Sampling only goes through the numpy ``Generator`` passed in; a law holds no random state.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from scipy import optimize

__all__ = ["ErrorLaw", "Standardized", "fmt_param", "iqr", "mad"]

_CENTERS = ("mean", "median", None)
_SCALES = ("sd", "iqr", "mad", None)


def fmt_param(x: Any) -> str:
    """Deterministic, shortest round-trip text of a parameter (``3.0`` -> ``"3"``).

    Used in ``key`` strings that seed the simulation engine, so it must never depend on
    platform, locale or run order.
    """
    if isinstance(x, bool | str):
        return str(x)
    v = float(x)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


class ErrorLaw(ABC):
    """A univariate continuous error law with exact population facts.

    Subclasses set ``name`` (the study-file name) and implement ``params``, ``_sample`` and
    the distribution functions; moments default to ``nan`` and are overridden with closed forms.
    """

    #: study-file name of the law (``tailreg.distributions.make`` takes it)
    name: str = "law"
    #: True when the law is Gaussian (AR(1) uses an exact stationary start then)
    gaussian: bool = False

    # ------------------------------------------------------------------ identity
    @property
    @abstractmethod
    def params(self) -> dict[str, float]:
        """The law's parameters as a plain dict (name -> value)."""

    @property
    def key(self) -> str:
        """Stable, deterministic identity string (used to derive simulation seeds)."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={fmt_param(v)}" for k, v in self.params.items())
        return f"{self.name}({inner})"

    @property
    def label(self) -> str:
        """Readable label for tables and plots, e.g. ``"t(3)"``."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(fmt_param(v) for v in self.params.values())})"

    @property
    def support(self) -> tuple[float, float]:
        """Closure of the support, ``(lower, upper)``."""
        return (-math.inf, math.inf)

    @property
    def symmetric(self) -> bool:
        """True when the law is symmetric about its median, :math:`F(m - x) = 1 - F(m + x)`.

        The one statement of symmetry the package uses: closed-form MAD and IQR here, the
        location functionals and variances of :mod:`tailreg.theory` (every location
        functional of a symmetric law is its centre), the simulation's targets. Each law
        states it exactly from its parameters; a law that cannot know says False.
        """
        return False

    @property
    def tail_index(self) -> float:
        """Tail index (``inf`` when every moment is finite); see the module notes."""
        return math.inf

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ErrorLaw) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    # ------------------------------------------------------------------ sampling
    def sample(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Draw an array of shape ``size`` using only ``rng`` (reproducible, no global state).

        Parameters
        ----------
        size : int or tuple of int
        rng : numpy.random.Generator
        """
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        return np.asarray(self._sample(size, rng), dtype=float)

    @abstractmethod
    def _sample(self, size, rng: np.random.Generator) -> np.ndarray: ...

    # ------------------------------------------------------------------ distribution functions
    @abstractmethod
    def pdf(self, x): ...

    def logpdf(self, x):
        """Log density (``-inf`` outside the support)."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    @abstractmethod
    def cdf(self, x): ...

    def sf(self, x):
        """Survival function :math:`1 - F(x)`."""
        return 1.0 - self.cdf(x)

    @abstractmethod
    def ppf(self, p): ...

    def quantile(self, p):
        """Alias of :meth:`ppf`."""
        return self.ppf(p)

    # ------------------------------------------------------------------ population facts
    def mean(self) -> float:
        """Population mean (``nan`` when undefined)."""
        return math.nan

    def median(self) -> float:
        """Population median :math:`F^{-1}(1/2)`."""
        return float(self.ppf(0.5))

    def var(self) -> float:
        """Population variance (``inf`` when infinite, ``nan`` when undefined)."""
        return math.nan

    def std(self) -> float:
        """Population standard deviation, :math:`\\sqrt{\\mathrm{var}}`."""
        return math.sqrt(self.var())

    def skewness(self) -> float:
        """Population skewness :math:`E(X-\\mu)^3/\\sigma^3` (``nan`` when undefined)."""
        return math.nan

    def kurtosis(self) -> float:
        """Population EXCESS kurtosis :math:`E(X-\\mu)^4/\\sigma^4 - 3`."""
        return math.nan

    def iqr(self) -> float:
        """Interquartile range :math:`F^{-1}(3/4) - F^{-1}(1/4)`."""
        q = self.ppf(np.array([0.25, 0.75]))
        return float(q[1] - q[0])

    def mad(self) -> float:
        """Population MAD about the median (unnormalised): the ``d`` with
        :math:`F(m + d) - F(m - d) = 1/2`.

        Closed form :math:`F^{-1}(3/4) - m` for symmetric laws, otherwise Brent's root
        in the bracket ``[min, max]`` of the two quartile distances (the root lies there
        because :math:`F(m+d) - F(m-d)` is increasing in ``d``).
        """
        m = self.median()
        if self.symmetric:
            return float(self.ppf(0.75)) - m
        q1, q3 = (float(v) for v in self.ppf(np.array([0.25, 0.75])))
        lo, hi = sorted((q3 - m, m - q1))
        if hi - lo <= 4 * np.finfo(float).eps * max(abs(hi), 1.0):
            return hi

        def g(d: float) -> float:
            return float(self.cdf(m + d) - self.cdf(m - d)) - 0.5

        glo, ghi = g(lo), g(hi)
        if glo >= 0:
            return lo
        if ghi <= 0:
            return hi
        return float(optimize.brentq(g, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))

    def has_mean(self) -> bool:
        """True when the mean exists and is finite."""
        return bool(np.isfinite(self.mean()))

    def has_var(self) -> bool:
        """True when the variance exists and is finite."""
        return bool(np.isfinite(self.var()))

    # ------------------------------------------------------------------ standardisation
    def standardized(self, center: str | None = None, scale: str | None = None) -> ErrorLaw:
        """Return the law of :math:`(X - c)/s` with ``c`` and ``s`` chosen by name.

        Parameters
        ----------
        center : {"mean", "median", None}
            Subtract the population mean or median (None: no shift).
        scale : {"sd", "iqr", "mad", None}
            Divide by the population standard deviation, interquartile range or MAD about
            the median (unnormalised; None: no rescaling).

        Returns
        -------
        Standardized
            Exact affine image: its pdf/cdf/ppf/moments are those of the base law shifted
            and rescaled, so e.g. ``median()`` of a median-centred law is 0 exactly.

        Raises
        ------
        ValueError
            If ``center``/``scale`` is not a known name, or asks for a moment that does not
            exist (mean of a Cauchy, sd of a t(1.5)).
        """
        if center not in _CENTERS:
            raise ValueError(f"center must be one of 'mean', 'median' or None, got {center!r}")
        if scale not in _SCALES:
            raise ValueError(f"scale must be one of 'sd', 'iqr', 'mad' or None, got {scale!r}")
        loc = 0.0
        if center == "mean":
            if not self.has_mean():
                raise ValueError(
                    f"center='mean' is impossible: the mean of {self.label} does not exist "
                    f"(mean = {self.mean()}); use center='median'"
                )
            loc = self.mean()
        elif center == "median":
            loc = self.median()
        s = 1.0
        if scale == "sd":
            if not self.has_var():
                raise ValueError(
                    f"scale='sd' is impossible: the variance of {self.label} is not finite "
                    f"(var = {self.var()}); use scale='iqr' or 'mad'"
                )
            s = self.std()
        elif scale == "iqr":
            s = self.iqr()
        elif scale == "mad":
            s = self.mad()
        return Standardized(self, loc, s, center=center, scale_by=scale)


class Standardized(ErrorLaw):
    """The law of :math:`Y = (X - \\mathrm{loc})/\\mathrm{scale}` for a base law of ``X``.

    Every population fact is the exact affine image of the base law's:
    :math:`f_Y(y) = s f_X(\\mathrm{loc} + s y)`, :math:`F_Y(y) = F_X(\\mathrm{loc} + s y)`,
    :math:`Q_Y(p) = (Q_X(p) - \\mathrm{loc})/s`, mean and median shift, variance scales by
    :math:`s^{-2}`, skewness, kurtosis and tail index are unchanged.

    Parameters
    ----------
    base : ErrorLaw
    loc : float
    scale : float, > 0
    center, scale_by : str or None
        Names of the rule that produced ``loc``/``scale`` (recorded in ``key``/``label``).
    """

    def __init__(
        self,
        base: ErrorLaw,
        loc: float = 0.0,
        scale: float = 1.0,
        *,
        center: str | None = None,
        scale_by: str | None = None,
    ) -> None:
        if not isinstance(base, ErrorLaw):
            raise ValueError(f"base must be an ErrorLaw, got {type(base).__name__}")
        if not (np.isfinite(loc) and np.isfinite(scale) and scale > 0):
            raise ValueError(f"need finite loc and a positive finite scale, got {loc}, {scale}")
        self.base = base
        self.loc = float(loc)
        self.scale = float(scale)
        self.center = center
        self.scale_by = scale_by
        self.name = base.name
        self.gaussian = base.gaussian

    @property
    def params(self) -> dict[str, float]:
        return {**self.base.params, "loc": self.loc, "scale": self.scale}

    @property
    def key(self) -> str:
        parts = [self.base.key]
        if self.center is not None or self.scale_by is not None:
            parts += [f"center={self.center}", f"scale={self.scale_by}"]
        else:
            parts += [f"loc={fmt_param(self.loc)}", f"scale={fmt_param(self.scale)}"]
        return "|".join(parts)

    @property
    def label(self) -> str:
        bits = [self.base.label]
        if self.center is not None:
            bits.append(f"{self.center}-centred")
        if self.scale_by is not None:
            bits.append({"sd": "unit sd", "iqr": "unit IQR", "mad": "unit MAD"}[self.scale_by])
        if self.center is None and self.scale_by is None:
            bits.append(f"loc {self.loc:g}, scale {self.scale:g}")
        return ", ".join(bits)

    def __repr__(self) -> str:
        return (
            f"Standardized({self.base!r}, loc={self.loc!r}, scale={self.scale!r}, "
            f"center={self.center!r}, scale_by={self.scale_by!r})"
        )

    @property
    def support(self) -> tuple[float, float]:
        lo, hi = self.base.support
        return ((lo - self.loc) / self.scale, (hi - self.loc) / self.scale)

    @property
    def tail_index(self) -> float:
        return self.base.tail_index

    @property
    def symmetric(self) -> bool:
        """An affine image of a symmetric law is symmetric (about the image of its centre)."""
        return self.base.symmetric

    def _sample(self, size, rng):
        return (self.base.sample(size, rng) - self.loc) / self.scale

    def _x(self, y):
        return self.loc + self.scale * np.asarray(y, dtype=float)

    def pdf(self, x):
        return self.scale * self.base.pdf(self._x(x))

    def logpdf(self, x):
        return math.log(self.scale) + self.base.logpdf(self._x(x))

    def cdf(self, x):
        return self.base.cdf(self._x(x))

    def sf(self, x):
        return self.base.sf(self._x(x))

    def ppf(self, p):
        return (self.base.ppf(p) - self.loc) / self.scale

    def mean(self) -> float:
        m = self.base.mean()
        # exact zero for a mean-centred law, even if the subtraction would round
        return 0.0 if self.center == "mean" else (m - self.loc) / self.scale

    def median(self) -> float:
        if self.center == "median":
            return 0.0
        return (self.base.median() - self.loc) / self.scale

    def var(self) -> float:
        if self.scale_by == "sd":
            return 1.0
        return self.base.var() / self.scale**2

    def std(self) -> float:
        return 1.0 if self.scale_by == "sd" else self.base.std() / self.scale

    def skewness(self) -> float:
        return self.base.skewness()

    def kurtosis(self) -> float:
        return self.base.kurtosis()

    def iqr(self) -> float:
        return 1.0 if self.scale_by == "iqr" else self.base.iqr() / self.scale

    def mad(self) -> float:
        return 1.0 if self.scale_by == "mad" else self.base.mad() / self.scale


def mad(law: ErrorLaw) -> float:
    """Population MAD of ``law`` about its median (unnormalised); see :meth:`ErrorLaw.mad`."""
    return law.mad()


def iqr(law: ErrorLaw) -> float:
    """Interquartile range of ``law``; see :meth:`ErrorLaw.iqr`."""
    return law.iqr()
