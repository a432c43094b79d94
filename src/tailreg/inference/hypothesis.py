r"""Wald tests of linear hypotheses :math:`R\theta = q` on a fit's parameters.

.. math::
    W = (R\hat\theta - q)^\top (R\hat V R^\top)^{-1} (R\hat\theta - q)
    \;\sim\; \chi^2_m \quad (m = \operatorname{rows}(R)),

under the result's covariance :math:`\hat V` (its default kind and options, or the kind
asked for); with ``use_t`` the statistic is :math:`F = W/m` on :math:`(m, n - k)` degrees of
freedom, as statsmodels' ``wald_test`` (``use_f``) and R's ``waldtest``/``linearHypothesis``
with ``test = "F"``. A single combination :math:`r^\top\theta - q` has the t (or z) test
:func:`t_test`: estimate, standard error :math:`(r^\top\hat V r)^{1/2}`, statistic, p-value
and confidence interval.

Constraints are a string of comma-separated linear equations in the parameter names,
``"x1 = 0, x2 = x3"``, ``"2*x1 - x2 = 1"``, ``"x1 + x2"`` (``= 0`` implied); names are
matched longest first, so names with spaces, brackets or dots (formula columns such as
``C(g)[T.b]`` or ``np.log(x2)``) need no quoting. Or an ``(R, q)`` pair (``R`` (m, q) or one
row; ``q`` scalar or (m,)), or ``R`` alone (``q = 0``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["TTest", "WaldTest", "constraint_matrix", "t_test", "wald_test"]

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class WaldTest:
    """Result of a joint Wald test.

    Attributes
    ----------
    statistic : float
        :math:`F = W/m` when ``distribution == "F"``, else the chi-square :math:`W`.
    chi2 : float
        :math:`W` whatever the distribution.
    df_num : int
        Number of restrictions :math:`m`.
    df_denom : int or None
        :math:`n - k` for the F distribution, None for chi-square.
    pvalue : float
    distribution : {"chi2", "F"}
    R, q : ndarray
        The restrictions tested.
    cov_kind : str
        Covariance the test used (with ``cov_options``).
    cov_options : dict
    """

    statistic: float
    chi2: float
    df_num: int
    df_denom: int | None
    pvalue: float
    distribution: str
    R: np.ndarray
    q: np.ndarray
    cov_kind: str
    cov_options: dict[str, Any]

    @property
    def df(self) -> tuple[int, ...]:
        """``(df_num,)`` for chi-square, ``(df_num, df_denom)`` for F."""
        return (self.df_num,) if self.df_denom is None else (self.df_num, self.df_denom)

    def __str__(self) -> str:
        dist = f"F({self.df_num}, {self.df_denom})" if self.df_denom else f"chi2({self.df_num})"
        return (
            f"Wald test ({self.cov_kind}): {dist} = {self.statistic:.6g}, "
            f"p-value = {self.pvalue:.4g}"
        )


@dataclass(frozen=True)
class TTest:
    """Result of t (or z) tests of single linear combinations :math:`r_j^\\top\\theta = q_j`.

    The arrays have one entry per row of ``R``.

    Attributes
    ----------
    estimate, se, statistic, pvalue : ndarray (m,)
    conf_int : ndarray (m, 2)
        ``1 - alpha`` Wald interval of :math:`r_j^\\top\\theta` (not shifted by ``q``).
    df : int or None
        Degrees of freedom of the t reference (None: normal).
    distribution : {"t", "z"}
    """

    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    conf_int: np.ndarray
    df: int | None
    distribution: str
    R: np.ndarray
    q: np.ndarray
    alpha: float
    cov_kind: str

    def summary_frame(self) -> pd.DataFrame:
        """One row per combination: estimate, std err, t or z, p-value, interval bounds."""
        stat = self.distribution
        a = self.alpha
        return pd.DataFrame(
            {
                "estimate": self.estimate,
                "std err": self.se,
                stat: self.statistic,
                f"P>|{stat}|": self.pvalue,
                f"[{a / 2:g}": self.conf_int[:, 0],
                f"{1 - a / 2:g}]": self.conf_int[:, 1],
            }
        )

    def __str__(self) -> str:
        return self.summary_frame().to_string()


# --------------------------------------------------------------------------------------
# parsing


def constraint_matrix(constraints: Any, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` (m, len(names)) and (m,) of constraints given as a string or as arrays."""
    names = [str(n) for n in names]
    if isinstance(constraints, str):
        rows = _parse(constraints, names)
        R = np.array([r for r, _ in rows], dtype=float)
        q = np.array([c for _, c in rows], dtype=float)
        return R, q
    if isinstance(constraints, tuple) and len(constraints) == 2:
        R_in, q_in = constraints
    else:
        R_in, q_in = constraints, 0.0
    R = np.atleast_2d(np.asarray(R_in, dtype=float))
    if R.ndim != 2 or R.shape[1] != len(names):
        raise ValueError(
            f"R must have {len(names)} columns, one per parameter {names}, got shape "
            f"{np.shape(R_in)}"
        )
    q = np.broadcast_to(np.asarray(q_in, dtype=float), (R.shape[0],)).copy()
    if not (np.isfinite(R).all() and np.isfinite(q).all()):
        raise ValueError("R and q must be finite")
    return R, q


def _tokens(text: str, names: list[str]) -> list[tuple[str, Any, int]]:
    """(kind, value, position) tokens: name (its index), num, op (+ - *), eq, sep."""
    by_length = sorted(names, key=len, reverse=True)
    out: list[tuple[str, Any, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        name = next(
            (
                nm
                for nm in by_length
                if text.startswith(nm, i) and not _joins(nm, text, i + len(nm))
            ),
            None,
        )
        if name is not None:
            out.append(("name", names.index(name), i))
            i += len(name)
            continue
        number = _NUMBER.match(text, i)
        if number is not None:
            out.append(("num", float(number.group(0)), i))
            i = number.end()
        elif ch in "+-*":
            out.append(("op", ch, i))
            i += 1
        elif ch == "=":
            out.append(("eq", ch, i))
            i += 1
        elif ch in ",;":
            out.append(("sep", ch, i))
            i += 1
        elif ch.isalpha() or ch == "_":
            word = re.match(r"[\w.]+", text[i:])
            token = word.group(0) if word else ch
            raise _parse_error(text, names, i, f"unknown parameter {token!r}")
        else:
            raise _parse_error(text, names, i, f"unexpected {ch!r}")
    return out


def _joins(name: str, text: str, end: int) -> bool:
    """True when ``name`` ends inside a longer identifier (``x1`` in ``x12``)."""
    ident = re.compile(r"\w")
    return bool(end < len(text) and ident.match(name[-1]) and ident.match(text[end]))


def _parse_error(text: str, names: list[str], pos: int, msg: str) -> ValueError:
    return ValueError(
        f"cannot parse the constraints {text!r} at position {pos} ({msg}); write linear "
        f"equations in the parameter names {names}, e.g. '{names[-1]} = 0' or "
        f"'2*{names[-1]} - {names[0]} = 1', separated by commas"
    )


def _side(
    toks: list[tuple[str, Any, int]], text: str, names: list[str]
) -> tuple[np.ndarray, float]:
    """A sum of terms ``[+-] factor [* factor ...]`` (at most one name per term)."""
    coef, const = np.zeros(len(names)), 0.0
    k = 0
    end = toks[-1][2] + 1 if toks else len(text)
    if not toks:
        raise _parse_error(text, names, end, "an empty side")
    while k < len(toks):
        sign = 1.0
        while k < len(toks) and toks[k][0] == "op" and toks[k][1] in "+-":
            sign = -sign if toks[k][1] == "-" else sign
            k += 1
        value, name = sign, None
        while True:
            if k >= len(toks) or toks[k][0] not in ("num", "name"):
                pos = toks[k][2] if k < len(toks) else end
                raise _parse_error(text, names, pos, "a number or parameter name expected")
            kind, v, pos = toks[k]
            if kind == "num":
                value *= v
            elif name is not None:
                raise _parse_error(text, names, pos, "a product of two parameters is not linear")
            else:
                name = v
            k += 1
            if k < len(toks) and toks[k][0] == "op" and toks[k][1] == "*":
                k += 1
                continue
            break
        if name is None:
            const += value
        else:
            coef[name] += value
        if k < len(toks) and not (toks[k][0] == "op" and toks[k][1] in "+-"):
            raise _parse_error(text, names, toks[k][2], "'+' or '-' expected between terms")
    return coef, const


def _parse(text: str, names: list[str]) -> list[tuple[np.ndarray, float]]:
    """Comma-separated linear equations in ``names`` -> [(row, rhs), ...]."""
    toks = _tokens(text, names)
    equations: list[list[tuple[str, Any, int]]] = [[]]
    for tok in toks:
        if tok[0] == "sep":
            equations.append([])
        else:
            equations[-1].append(tok)
    rows = []
    for eq in equations:
        pos = eq[0][2] if eq else len(text)
        splits = [j for j, t in enumerate(eq) if t[0] == "eq"]
        if len(splits) > 1:
            raise _parse_error(text, names, eq[splits[1]][2], "more than one '=' in an equation")
        if splits:
            lhs, rhs = eq[: splits[0]], eq[splits[0] + 1 :]
            lc, lk = _side(lhs, text, names)
            rc, rk = _side(rhs, text, names)
        else:
            (lc, lk), (rc, rk) = _side(eq, text, names), (np.zeros(len(names)), 0.0)
        row = lc - rc
        if not row.any():
            raise _parse_error(text, names, pos, "an equation without parameters")
        rows.append((row, rk - lk))
    return rows


# --------------------------------------------------------------------------------------
# the tests


def wald_test(
    params: np.ndarray,
    cov: np.ndarray,
    R: np.ndarray,
    q: np.ndarray,
    *,
    df_resid: int | None,
    cov_kind: str = "",
    cov_options: dict[str, Any] | None = None,
) -> WaldTest:
    """Joint Wald test of :math:`R\\theta = q`; F on ``(m, df_resid)`` when ``df_resid`` is set."""
    d = R @ params - q
    middle = R @ cov @ R.T
    m = R.shape[0]
    if np.linalg.matrix_rank(middle) < m:
        raise ValueError(
            "the restrictions are linearly dependent (or involve parameters with zero "
            "variance): R V R' is singular; drop redundant rows"
        )
    W = float(d @ np.linalg.solve(middle, d))
    if df_resid is None:
        stat, p, dist = W, float(stats.chi2.sf(W, m)), "chi2"
    else:
        stat, p, dist = W / m, float(stats.f.sf(W / m, m, df_resid)), "F"
    return WaldTest(
        statistic=stat,
        chi2=W,
        df_num=m,
        df_denom=df_resid,
        pvalue=p,
        distribution=dist,
        R=R,
        q=q,
        cov_kind=cov_kind,
        cov_options=dict(cov_options or {}),
    )


def t_test(
    params: np.ndarray,
    cov: np.ndarray,
    R: np.ndarray,
    q: np.ndarray,
    *,
    df_resid: int | None,
    alpha: float = 0.05,
    cov_kind: str = "",
) -> TTest:
    """t (``df_resid`` given) or z tests of each row of :math:`R\\theta = q`."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    est = R @ params
    se = np.sqrt(np.einsum("ij,jk,ik->i", R, cov, R))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (est - q) / se
    ref = stats.norm() if df_resid is None else stats.t(df_resid)
    crit = ref.ppf(1.0 - alpha / 2.0)
    return TTest(
        estimate=est,
        se=se,
        statistic=stat,
        pvalue=2.0 * ref.sf(np.abs(stat)),
        conf_int=np.column_stack([est - crit * se, est + crit * se]),
        df=df_resid,
        distribution="z" if df_resid is None else "t",
        R=R,
        q=q,
        alpha=alpha,
        cov_kind=cov_kind,
    )
