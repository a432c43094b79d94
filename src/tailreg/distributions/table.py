"""The table of named error laws: constructor and parameter domains of every study-file name.

This is the one place that says which laws a study may name and which values their
parameters may take; :func:`tailreg.distributions.make` validates against it and the study
parser reads it (:func:`law_names`, :func:`parameters`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from types import MappingProxyType
from typing import Any

from ._base import ErrorLaw
from .extra import AsymmetricLaplace
from .laws import ChiSquare, Gamma, Gumbel, Laplace, Logistic, LogNormal, Lomax, Normal, StudentT
from .mixture import ContaminatedNormal
from .skewnormal import SkewNormal
from .stable import Stable

__all__ = ["LAWS", "Domain", "LawEntry", "law_names", "parameters"]


def _fmt(v: float) -> str:
    return format(v, "g")


@dataclass(frozen=True)
class Domain:
    """The values a law parameter may take: an interval, and a default or "required".

    Attributes
    ----------
    low, high : float
        Interval ends (``-inf`` / ``inf`` allowed; an infinite end is never included).
    low_closed, high_closed : bool
        Whether the finite ends belong to the domain.
    default : float or None
        Value used when the parameter is not given; ``None``: the parameter is required.
    description : str
        What the parameter is.
    """

    low: float = 0.0
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    default: float | None = None
    description: str = ""

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is None

    def __str__(self) -> str:
        lb = "[" if self.low_closed and math.isfinite(self.low) else "("
        hb = "]" if self.high_closed and math.isfinite(self.high) else ")"
        return f"{lb}{_fmt(self.low)}, {_fmt(self.high)}{hb}"

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, Real):
            return False
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return False
        ok_low = v >= self.low if self.low_closed else v > self.low
        ok_high = v <= self.high if self.high_closed else v < self.high
        return ok_low and ok_high

    def check(self, value: Any, where: str) -> float:
        """``value`` as a float, or a ``ValueError`` naming ``where`` and the domain.

        Parameters
        ----------
        value : object
        where : str
            How the caller names the parameter in messages (e.g. ``"errors[0].df"``).
        """
        if value in self:
            return float(value)
        if self.low == 0.0 and not self.low_closed and self.high == math.inf:
            raise ValueError(
                f"{where} must be a positive finite number (domain {self}), got {value!r}"
            )
        raise ValueError(f"{where} must lie in {self}, got {value!r}")


@dataclass(frozen=True)
class LawEntry:
    """One row of the law table.

    Attributes
    ----------
    name : str
        The study-file name.
    constructor : callable
        Called with the parameters as keywords (defaults filled in).
    parameters : Mapping[str, Domain]
        Parameter name -> domain, in the constructor's order.
    summary : str
        One line for documentation and error messages.
    """

    name: str
    constructor: Callable[..., ErrorLaw]
    parameters: Mapping[str, Domain] = field(default_factory=dict)
    summary: str = ""


def _cauchy() -> ErrorLaw:
    return StudentT(1.0)


_ENTRIES = (
    LawEntry("normal", Normal, {}, "standard normal"),
    LawEntry("t", StudentT, {"df": Domain(description="degrees of freedom")}, "Student t"),
    LawEntry("cauchy", _cauchy, {}, "standard Cauchy, t(1)"),
    LawEntry("laplace", Laplace, {}, "standard Laplace, density exp(-|x|)/2"),
    LawEntry("logistic", Logistic, {}, "standard logistic"),
    LawEntry(
        "skewnormal",
        SkewNormal,
        {"a": Domain(-math.inf, math.inf, description="shape (0: normal)")},
        "Azzalini skew-normal, density 2 phi(x) Phi(a x)",
    ),
    LawEntry("lognormal", LogNormal, {"s": Domain(description="sd of log X")}, "exp(s Z)"),
    LawEntry("chisquare", ChiSquare, {"k": Domain(description="degrees of freedom")}, "chi^2_k"),
    LawEntry("gamma", Gamma, {"shape": Domain(description="shape, unit scale")}, "gamma"),
    LawEntry("gumbel", Gumbel, {}, "standard Gumbel for maxima"),
    LawEntry(
        "lomax", Lomax, {"alpha": Domain(description="tail index")}, "Pareto II, (1 + x)^-alpha"
    ),
    LawEntry(
        "contaminated",
        ContaminatedNormal,
        {
            "eps": Domain(0.0, 1.0, low_closed=True, description="contamination share"),
            "c": Domain(description="sd of the contaminating normal"),
        },
        "(1 - eps) N(0, 1) + eps N(0, c^2)",
    ),
    LawEntry(
        "asymmetric_laplace",
        AsymmetricLaplace,
        {"tau": Domain(0.0, 1.0, description="level of the zero quantile")},
        "asymmetric Laplace with F(0) = tau",
    ),
    LawEntry(
        "stable",
        Stable,
        {
            "alpha": Domain(0.0, 2.0, high_closed=True, description="stability index"),
            "beta": Domain(-1.0, 1.0, True, True, default=0.0, description="skewness"),
        },
        "alpha-stable, S1 parametrisation",
    ),
)

#: study-file name -> :class:`LawEntry` (read-only)
LAWS: Mapping[str, LawEntry] = MappingProxyType({e.name: e for e in _ENTRIES})


def law_names() -> tuple[str, ...]:
    """The study-file names of the built-in laws, in table order.

    Besides these, :func:`tailreg.distributions.make` takes ``"scipy.stats:NAME"`` (any
    continuous scipy distribution) and ``"package.module:callable"`` (a factory).
    """
    return tuple(LAWS)


def parameters(name: str) -> Mapping[str, Domain]:
    """Parameter name -> :class:`Domain` of a built-in law (read-only mapping).

    Raises
    ------
    ValueError
        ``name`` is not a built-in law.

    Examples
    --------
    >>> str(parameters("stable")["alpha"]), parameters("stable")["beta"].default
    ('(0, 2]', 0.0)
    """
    entry = LAWS.get(name.lower()) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(f"unknown error law {name!r}; known laws: {', '.join(sorted(LAWS))}")
    return MappingProxyType(dict(entry.parameters))
