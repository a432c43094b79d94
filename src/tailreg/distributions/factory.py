"""Build an error law from the name and keys a study file uses.

Three kinds of name, one entry point (:func:`make`):

* a built-in name of the law table (:func:`~tailreg.distributions.law_names`), its
  parameters validated against their domains (:func:`~tailreg.distributions.parameters`);
* ``"scipy.stats:NAME"`` — any continuous scipy distribution
  (:func:`~tailreg.distributions.from_scipy`), its shape parameters by name;
* ``"package.module:callable"`` — a factory (:func:`from_factory`) returning a tailreg
  :class:`~tailreg.distributions.ErrorLaw` or a frozen continuous scipy distribution.

``center`` and ``scale`` standardise any of them (:meth:`ErrorLaw.standardized`).
"""

from __future__ import annotations

import importlib
from typing import Any

from scipy import stats

from ._base import ErrorLaw
from .scipy_laws import FromScipy, from_scipy
from .table import LAWS

__all__ = ["from_factory", "make"]


def _standardize(law: ErrorLaw, center: Any, scale: Any) -> ErrorLaw:
    return law if center is None and scale is None else law.standardized(center, scale)


def _resolve(path: str) -> Any:
    """The object named by ``"package.module:attribute[.attribute...]"``."""
    module_name, _, attr_path = path.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"law {path!r}: expected 'package.module:callable'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"law {path!r}: cannot import module {module_name!r} ({exc})") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(
                f"law {path!r}: {module_name!r} has no attribute {attr_path!r}"
            ) from None
    return obj


def from_factory(
    path: str, /, *, center: str | None = None, scale: str | None = None, **kwargs: Any
) -> ErrorLaw:
    """An error law from a user's factory, ``"package.module:callable"``.

    The callable is called with ``kwargs`` and must return a tailreg
    :class:`~tailreg.distributions.ErrorLaw` (used as it is) or a frozen continuous
    ``scipy.stats`` distribution (wrapped by :class:`~tailreg.distributions.FromScipy`, whose
    symmetry and tail-index rules apply).

    Parameters
    ----------
    path : str
        ``"package.module:callable"`` (importable from the current environment).
    center, scale : str, optional
        Standardisation, as for the built-in laws.
    **kwargs
        Passed to the factory.

    Raises
    ------
    ValueError
        The module cannot be imported, has no such attribute, the attribute is not callable,
        the call fails, or it returns something else; the message names ``path``.
    """
    factory = _resolve(path)
    if not callable(factory):
        raise ValueError(f"law {path!r}: {factory!r} is not callable")
    try:
        out = factory(**kwargs)
    except Exception as exc:  # a plug-in's own failure, reported with the law's name
        raise ValueError(f"law {path!r}: calling it with {kwargs} failed: {exc!r}") from exc
    if isinstance(out, ErrorLaw):
        return _standardize(out, center, scale)
    if isinstance(getattr(out, "dist", None), stats.rv_continuous):
        return _standardize(FromScipy(out), center, scale)
    raise ValueError(
        f"law {path!r} returned {out!r}; expected a tailreg.distributions.ErrorLaw or a frozen "
        "continuous scipy.stats distribution"
    )


def _make_builtin(name: str, params: dict[str, Any]) -> ErrorLaw:
    entry = LAWS[name]
    domains = entry.parameters
    unknown = sorted(set(params) - set(domains))
    if unknown:
        expected = ", ".join(domains) or "no parameters"
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for law {name!r} "
            f"(expected: {expected}; plus center, scale)"
        )
    missing = [k for k, d in domains.items() if d.required and k not in params]
    if missing:
        raise ValueError(f"law {name!r} needs parameter(s) {', '.join(map(repr, missing))}")
    kwargs = {
        k: d.check(params[k], f"law {name!r}: {k}") if k in params else d.default
        for k, d in domains.items()
    }
    return entry.constructor(**kwargs)


def make(name: str, **params: Any) -> ErrorLaw:
    """Build an error law from its study-file name and parameters.

    Parameters
    ----------
    name : str
        A built-in name — ``normal``, ``t`` (df), ``cauchy``, ``laplace``, ``logistic``,
        ``skewnormal`` (a), ``lognormal`` (s), ``chisquare`` (k), ``gamma`` (shape),
        ``gumbel``, ``lomax`` (alpha), ``contaminated`` (eps, c), ``asymmetric_laplace``
        (tau), ``stable`` (alpha, beta=0) —, ``"scipy.stats:NAME"`` or
        ``"package.module:callable"`` (see the module notes).
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
        Unknown name, unknown or missing key, or a value outside its domain; the message
        names the key and the domain.

    Examples
    --------
    >>> make("t", df=3, center="median", scale="iqr").key
    't(df=3)|center=median|scale=iqr'
    >>> make("scipy.stats:gennorm", beta=2.0).key
    'scipy.gennorm(beta=2)'
    """
    if not isinstance(name, str):
        raise ValueError(f"unknown error law {name!r}; known laws: {', '.join(sorted(LAWS))}")
    center = params.pop("center", None)
    scale = params.pop("scale", None)
    if ":" in name:
        if name.startswith("scipy.stats:"):
            return from_scipy(name, center=center, scale=scale, **params)
        return from_factory(name, center=center, scale=scale, **params)
    if name.lower() not in LAWS:
        raise ValueError(f"unknown error law {name!r}; known laws: {', '.join(sorted(LAWS))}")
    return _standardize(_make_builtin(name.lower(), params), center, scale)
