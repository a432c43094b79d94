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
    if isinstance(v, tuple):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
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


def _integer(where: str, value: Any, low: int, what: str) -> int:
    """``value`` as an int >= ``low``; else a ValueError "<where> must be <what>, got ..."."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{where} must be {what}, got {value!r}")
    return int(value)


def _label(where: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    return value


def _unknown(where: str, given: Mapping[str, Any], allowed: Sequence[str]) -> None:
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra}; allowed keys are {sorted(allowed)}")


def _table_list(where: str, value: Any) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a non-empty list of [[{where}]] tables")
    return value


def _freeze(where: str, value: Any) -> Any:
    """A hashable copy of a study-file value: lists become tuples (tables are refused)."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(where, v) for v in value)
    if isinstance(value, Mapping):
        raise ValueError(
            f"{where}: tables are not accepted as argument values; use numbers, strings, "
            f"booleans or lists"
        )
    return value


def _thaw(value: Any) -> Any:
    """The study-file form of a frozen value (tuples back to lists)."""
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
