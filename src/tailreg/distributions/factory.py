"""Build an error law from the name and keys a study file uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._base import ErrorLaw
from .extra import AsymmetricLaplace
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
from .mixture import ContaminatedNormal
from .stable import Stable

__all__ = ["LAWS", "make"]

#: study-file name -> (constructor, required keys, optional keys with defaults)
LAWS: dict[str, tuple[Callable[..., ErrorLaw], tuple[str, ...], dict[str, Any]]] = {
    "normal": (Normal, (), {}),
    "t": (StudentT, ("df",), {}),
    "cauchy": (lambda: StudentT(1.0), (), {}),
    "laplace": (Laplace, (), {}),
    "logistic": (Logistic, (), {}),
    "skewnormal": (SkewNormal, ("a",), {}),
    "lognormal": (LogNormal, ("s",), {}),
    "chisquare": (ChiSquare, ("k",), {}),
    "gamma": (Gamma, ("shape",), {}),
    "gumbel": (Gumbel, (), {}),
    "lomax": (Lomax, ("alpha",), {}),
    "contaminated": (ContaminatedNormal, ("eps", "c"), {}),
    "asymmetric_laplace": (AsymmetricLaplace, ("tau",), {}),
    "stable": (Stable, ("alpha",), {"beta": 0.0}),
}


def make(name: str, **params: Any) -> ErrorLaw:
    """Build an error law from its study-file name and parameters.

    Parameters
    ----------
    name : str
        One of ``normal``, ``t`` (df), ``cauchy``, ``laplace``, ``logistic``, ``skewnormal`` (a),
        ``lognormal`` (s), ``chisquare`` (k), ``gamma`` (shape), ``gumbel``, ``lomax`` (alpha),
        ``contaminated`` (eps, c), ``asymmetric_laplace`` (tau), ``stable`` (alpha, beta=0).
    **params
        The law's parameters, plus optional ``center`` in {"mean", "median", None} and
        ``scale`` in {"sd", "iqr", "mad", None}, applied by :meth:`ErrorLaw.standardized`.

    Returns
    -------
    ErrorLaw
        The law, wrapped in :class:`Standardized` when ``center`` or ``scale`` is given.

    Raises
    ------
    ValueError
        Unknown name, unknown or missing key, or a bad value; the message names the key.

    Examples
    --------
    >>> make("t", df=3, center="median", scale="iqr").key
    't(df=3)|center=median|scale=iqr'
    """
    if not isinstance(name, str) or name.lower() not in LAWS:
        raise ValueError(f"unknown error law {name!r}; known laws: {', '.join(sorted(LAWS))}")
    name = name.lower()
    center = params.pop("center", None)
    scale = params.pop("scale", None)
    ctor, required, optional = LAWS[name]
    allowed = set(required) | set(optional)
    unknown = sorted(set(params) - allowed)
    if unknown:
        expected = ", ".join([*required, *optional]) or "no parameters"
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for law {name!r} "
            f"(expected: {expected}; plus center, scale)"
        )
    missing = [k for k in required if k not in params]
    if missing:
        raise ValueError(f"law {name!r} needs parameter(s) {', '.join(map(repr, missing))}")
    kwargs = {**optional, **params}
    law = ctor(**kwargs)
    if center is None and scale is None:
        return law
    return law.standardized(center=center, scale=scale)
