"""Error laws of a study file: built-in names, ``scipy.stats`` distributions and factories.

``[[errors]] law = ...`` takes

* a name of the law table :data:`tailreg.distributions.LAWS` (``"t"``, ``"lognormal"``, ...)
  with that law's parameters — validated by :func:`tailreg.distributions.make` itself;
* ``"scipy.stats:NAME"``, any continuous scipy distribution, with its shape parameters as
  keys (``law = "scipy.stats:gennorm"``, ``beta = 1.2``), wrapped by :func:`scipy_law`;
* ``"package.module:callable"``, a factory called with the remaining keys that returns a
  tailreg error law or a frozen continuous scipy distribution.

``center``/``scale`` standardize every kind alike. scipy cannot say whether a law is
symmetric or how heavy its tails are, so for the last two kinds the optional keys
``symmetric`` and ``tail_index`` say it; by default the rules of
:class:`tailreg.distributions.FromScipy` apply (a list of families known to be symmetric, or
with a known tail index; an asserted ``symmetric = true`` is checked numerically). The theory
targets then come from the law's pdf/cdf/ppf exactly as for a built-in law.
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache
from typing import Any

from scipy import stats

from ..distributions import LAWS, ErrorLaw, FromScipy, make, parameters
from ._checks import Params
from .plugins import is_import_path, load_object

__all__ = ["LAW_OPTIONS", "build_law", "law_keys", "scipy_law"]

#: keys every scipy or factory law takes besides its own parameters
LAW_OPTIONS = ("symmetric", "tail_index")


def scipy_law(
    frozen: Any, *, symmetric: bool | None = None, tail_index: float = math.nan
) -> ErrorLaw:
    """A tailreg error law of a frozen continuous scipy distribution.

    Parameters
    ----------
    frozen : frozen ``scipy.stats`` continuous distribution
    symmetric : bool, optional
        Symmetry about the median (theory uses it, e.g. for MM's intercept variance).
        Default: the known-family rule of :class:`~tailreg.distributions.FromScipy`.
    tail_index : float, default nan (the known-family rule)
    """
    return FromScipy(frozen, tail_index if math.isfinite(tail_index) else None, symmetric)


def _factory_keys(obj: Any) -> tuple[str, ...] | None:
    """Keyword names a factory takes (None: it takes any, ``**kwargs``)."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # a builtin without a signature: accept any key
        return None
    names = []
    for prm in sig.parameters.values():
        if prm.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if prm.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.append(prm.name)
    return tuple(names)


def law_keys(law: Any, where: str) -> tuple[str, ...] | None:
    """The parameter keys of a law (None: a factory that takes any keyword).

    Raises
    ------
    ValueError
        Unknown name, unimportable path, or an object that is neither a continuous scipy
        distribution nor a callable.
    """
    if isinstance(law, str) and law in LAWS:
        return tuple(parameters(law))
    if not is_import_path(law):
        raise ValueError(
            f"{where}.law: unknown error law {law!r}; choose from {list(LAWS)}, or give "
            f"'scipy.stats:NAME' or 'package.module:factory'"
        )
    obj = load_object(law, f"{where}.law")
    if isinstance(obj, stats.rv_continuous):
        shapes = [s.strip() for s in obj.shapes.split(",")] if obj.shapes else []
        return (*shapes, *LAW_OPTIONS)
    if isinstance(obj, stats.rv_discrete) or not callable(obj):
        raise ValueError(
            f"{where}.law: {law!r} is not a continuous scipy distribution or a factory "
            f"(got {type(obj).__name__})"
        )
    keys = _factory_keys(obj)
    return None if keys is None else (*keys, *(k for k in LAW_OPTIONS if k not in keys))


def _from_path(law: str, kw: dict[str, Any]) -> ErrorLaw:
    obj = load_object(law, "law")
    own = () if isinstance(obj, stats.rv_continuous) else (_factory_keys(obj) or ())
    symmetric = kw.pop("symmetric", None) if "symmetric" not in own else None
    tail = kw.pop("tail_index", math.nan) if "tail_index" not in own else math.nan
    if symmetric is not None and not isinstance(symmetric, bool):
        raise ValueError(f"symmetric must be true or false, got {symmetric!r}")
    made = obj(**kw)
    if isinstance(getattr(made, "dist", None), stats.rv_continuous):
        out = scipy_law(made, symmetric=symmetric, tail_index=float(tail))
        if not math.isfinite(out.median()):
            raise ValueError(f"parameters {kw} are outside the domain of {law!r} (median nan)")
        return out
    if isinstance(getattr(made, "dist", None), stats.rv_discrete):
        raise ValueError(f"{law!r} returned a discrete distribution; errors must be continuous")
    missing = [m for m in ("sample", "pdf", "cdf", "ppf") if not callable(getattr(made, m, None))]
    if missing:
        raise ValueError(
            f"{law!r} returned {type(made).__name__}, which is neither a tailreg error law nor "
            f"a frozen scipy distribution (it lacks {missing})"
        )
    return made


@lru_cache(maxsize=512)
def build_law(law: str, params: Params, center: str | None, scale: str | None) -> ErrorLaw:
    """The i.i.d. law of an ``[[errors]]`` table (cached: laws are immutable).

    Raises
    ------
    ValueError, TypeError
        Bad parameters (the law's own message, e.g. ``"df must be a positive ..."``).
    """
    kw = dict(params)
    if law in LAWS:
        return make(law, **kw, center=center, scale=scale)
    out = _from_path(law, kw)
    if center is None and scale is None:
        return out
    if not callable(getattr(out, "standardized", None)):
        raise ValueError(
            f"center/scale need a tailreg error law; {type(out).__name__} has no standardized()"
        )
    return out.standardized(center=center, scale=scale)
