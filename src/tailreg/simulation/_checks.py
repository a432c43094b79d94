"""Formatting and validation helpers of study specifications (messages name the key)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

Params = tuple[tuple[str, Any], ...]


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, Real) and not isinstance(v, Integral):
        return repr(float(v))
    return str(v)


def _fmt_params(params: Params) -> str:
    return ",".join(f"{k}={_fmt(v)}" for k, v in params)


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
        raise ValueError(f"{where} must be a number, got {value!r}")
    return float(value)


def _positive(where: str, value: Any) -> float:
    v = _number(where, value)
    if not (0.0 < v < math.inf):
        raise ValueError(f"{where} must be a positive finite number, got {value!r}")
    return v


def _in_range(where: str, value: Any, lo: float, hi: float, lc: bool, hc: bool) -> float:
    v = _number(where, value)
    ok = (v >= lo if lc else v > lo) and (v <= hi if hc else v < hi)
    if not ok:
        raise ValueError(
            f"{where} must lie in {'[' if lc else '('}{lo}, {hi}{']' if hc else ')'}, got {value!r}"
        )
    return v


def _unknown(where: str, given: Mapping[str, Any], allowed: Sequence[str]) -> None:
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra}; allowed keys are {sorted(allowed)}")
