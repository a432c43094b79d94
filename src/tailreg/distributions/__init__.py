"""Error laws with exact population facts, for simulation and theory.

Each law has ``sample(size, rng)``, ``pdf``/``logpdf``/``cdf``/``sf``/``ppf`` (vectorised),
the methods ``mean()``, ``median()``, ``var()``, ``std()``, ``skewness()``, ``kurtosis()``
(EXCESS kurtosis), ``mad()`` (about the median, unnormalised) and ``iqr()``, and the
properties ``tail_index``, ``symmetric``, ``label``, ``key``, ``params`` and ``support``.
``law.standardized(center=..., scale=...)`` returns the exact affine image. See ``_base``
for the conventions on infinite and undefined moments.

Building laws by name: ``make(name, **params)`` takes a built-in name of the law table
(:func:`law_names`; parameter domains from :func:`parameters`), ``"scipy.stats:NAME"``
(:func:`from_scipy`: any continuous scipy distribution) or ``"package.module:callable"``
(:func:`from_factory`).
"""

from ._base import ErrorLaw, Standardized, fmt_param, iqr, mad
from .extra import AsymmetricLaplace
from .factory import from_factory, make
from .laws import (
    ChiSquare,
    Gamma,
    Gumbel,
    Laplace,
    Logistic,
    LogNormal,
    Lomax,
    Normal,
    StudentT,
)
from .mixture import ContaminatedNormal, Mixture
from .scipy_laws import FromScipy, from_scipy
from .skewnormal import SkewNormal
from .stable import Stable
from .table import LAWS, Domain, LawEntry, law_names, parameters

__all__ = [
    "LAWS",
    "AsymmetricLaplace",
    "ChiSquare",
    "ContaminatedNormal",
    "Domain",
    "ErrorLaw",
    "FromScipy",
    "Gamma",
    "Gumbel",
    "Laplace",
    "LawEntry",
    "LogNormal",
    "Logistic",
    "Lomax",
    "Mixture",
    "Normal",
    "SkewNormal",
    "Stable",
    "Standardized",
    "StudentT",
    "fmt_param",
    "from_factory",
    "from_scipy",
    "iqr",
    "law_names",
    "mad",
    "make",
    "parameters",
]
