"""Error laws with exact population facts, for simulation and theory.

Each law has ``sample(size, rng)``, ``pdf``/``logpdf``/``cdf``/``sf``/``ppf`` (vectorised),
the methods ``mean()``, ``median()``, ``var()``, ``std()``, ``skewness()``, ``kurtosis()``
(EXCESS kurtosis), ``mad()`` (about the median, unnormalised) and ``iqr()``, and the
properties ``tail_index``, ``label``, ``key``, ``params`` and ``support``.
``law.standardized(center=..., scale=...)`` returns the exact affine image and
``make(name, **params)`` builds a law from its study-file name. See ``_base`` for the
conventions on infinite and undefined moments.
"""

from ._base import ErrorLaw, Standardized, iqr, mad
from .extra import AsymmetricLaplace, FromScipy
from .factory import LAWS, make
from .laws import (
    ChiSquare,
    Gamma,
    Gumbel,
    Laplace,
    Logistic,
    LogNormal,
    Lomax,
    Normal,
    SkewNormal,
    StudentT,
)
from .mixture import ContaminatedNormal, Mixture
from .stable import Stable

__all__ = [
    "LAWS",
    "AsymmetricLaplace",
    "ChiSquare",
    "ContaminatedNormal",
    "ErrorLaw",
    "FromScipy",
    "Gamma",
    "Gumbel",
    "Laplace",
    "LogNormal",
    "Logistic",
    "Lomax",
    "Mixture",
    "Normal",
    "SkewNormal",
    "Stable",
    "Standardized",
    "StudentT",
    "iqr",
    "mad",
    "make",
]
