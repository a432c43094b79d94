"""Rendering helpers: plain text, Markdown, LaTeX and HTML tables, and the text summary.

Every renderer here is written out by hand on the standard library, so that no export path
depends on an optional package (``DataFrame.to_markdown`` needs tabulate and
``Styler.to_latex`` jinja2; neither is used). A table is a header row and body rows of
strings plus one alignment letter per column (``"l"``, ``"c"`` or ``"r"``); ``rules``
lists the body rows above which a horizontal rule is drawn (the header always has one).

:func:`summary_text` renders one :class:`~tailreg.inference.FitResult` the way
statsmodels' ``summary()`` does: a header of fit facts above the coefficient table. It reads
the result only through its public attributes, so it imports nothing from the estimators.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "cov_label",
    "format_number",
    "html_table",
    "latex_escape",
    "latex_table",
    "markdown_table",
    "summary_text",
    "text_table",
]

_ALIGN = ("l", "c", "r")
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))
#: ``result.extra`` entries shown in the summary header, with their labels
_EXTRA_LABELS = {"loss": "Loss", "tau": "Quantile (tau)", "df": "t degrees of freedom"}
_WIDTH = 78


# -- cells --------------------------------------------------------------------------------
def format_number(x: Any, digits: int = 3) -> str:
    """Fixed-point text of a number with ``digits`` decimals; NaN/None give ``""``.

    Integers (Python or numpy) are printed without decimals, and a negative number that
    rounds to zero loses its sign (``-0.0004`` -> ``"0.000"``).

    Examples
    --------
    >>> format_number(3.14159, 2), format_number(7), format_number(float("nan"))
    ('3.14', '7', '')
    """
    if x is None:
        return ""
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return str(int(x))
    v = float(x)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def cov_label(result: Any) -> str:
    """The covariance kind with its options, e.g. ``"HAC (maxlags=4)"``.

    Options are read from ``result.cov_options`` (a mapping) when the result has one.
    """
    options = getattr(result, "cov_options", None) or {}
    if not options:
        return str(result.cov_kind)
    inner = ", ".join(f"{k}={_short(v)}" for k, v in options.items())
    return f"{result.cov_kind} ({inner})"


def _short(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"array{v.shape}"
    return str(v)


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters (``_`` -> ``\_``, ``&`` -> ``\&``, ...).

    Examples
    --------
    >>> print(latex_escape("C(g)[T.b] & x_1"))
    C(g)[T.b] \& x\_1
    """
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], str(text))


def _check_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None) -> str:
    k = len(header)
    for i, row in enumerate(rows):
        if len(row) != k:
            raise ValueError(f"row {i} has {len(row)} cells, the header {k}")
    align = align or "l" + "r" * (k - 1)
    if len(align) != k or any(a not in _ALIGN for a in align):
        raise ValueError(f"align must be {k} letters from 'lcr', got {align!r}")
    return align


def _pad(cell: str, width: int, how: str) -> str:
    if how == "l":
        return cell.ljust(width)
    if how == "r":
        return cell.rjust(width)
    return cell.center(width)


# -- tables -------------------------------------------------------------------------------
def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: str | None = None,
    rules: Sequence[int] = (),
    sep: str = "  ",
) -> str:
    """A monospaced table: columns padded to their widest cell, rules of ``-``.

    Examples
    --------
    >>> print(text_table(["", "a"], [["x", "1.0"], ["yy", "22.5"]]))
           a
    --------
    x    1.0
    yy  22.5
    """
    align = _check_table(header, rows, align)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return sep.join(_pad(str(c), w, a) for c, w, a in zip(cells, widths, align, strict=True))

    rule = "-" * (sum(widths) + len(sep) * (len(widths) - 1))
    out = [line(header), rule]
    for i, row in enumerate(rows):
        if i in rules:
            out.append(rule)
        out.append(line(row))
    return "\n".join(s.rstrip() for s in out)


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None
) -> str:
    """A GitHub-flavoured Markdown pipe table with aligned columns.

    Pipes inside cells are escaped (``\\|``); the delimiter row carries the alignment
    (``:---``, ``:---:``, ``---:``).

    Examples
    --------
    >>> print(markdown_table(["term", "coef"], [["x", "1.50"], ["a|b", "-2.00"]]))
    | term |  coef |
    | :--- | ----: |
    | x    |  1.50 |
    | a\\|b | -2.00 |
    """
    align = _check_table(header, rows, align)
    cells = [[str(c).replace("|", "\\|") for c in r] for r in (header, *rows)]
    widths = [max(3, *(len(r[j]) for r in cells)) for j in range(len(header))]

    def delim(w: int, a: str) -> str:
        if a == "l":
            return ":" + "-" * (w - 1)
        if a == "r":
            return "-" * (w - 1) + ":"
        return ":" + "-" * (w - 2) + ":"

    lines = [
        "| " + " | ".join(_pad(c, w, a) for c, w, a in zip(r, widths, align, strict=True)) + " |"
        for r in cells
    ]
    lines.insert(
        1, "| " + " | ".join(delim(w, a) for w, a in zip(widths, align, strict=True)) + " |"
    )
    return "\n".join(lines)


def latex_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: str | None = None,
    rules: Sequence[int] = (),
    *,
    caption: str | None = None,
    label: str | None = None,
    notes: str | None = None,
    booktabs: bool = False,
) -> str:
    r"""A LaTeX ``tabular`` (inside a ``table`` float when a caption or label is given).

    Cells, caption and notes are escaped with :func:`latex_escape`; the label is not. The
    default rules are ``\hline`` (plain LaTeX); ``booktabs=True`` uses ``\toprule``,
    ``\midrule`` and ``\bottomrule`` and needs ``\usepackage{booktabs}``.

    Examples
    --------
    >>> print(latex_table(["", "(1)"], [["x_1", "0.50"]]))
    \begin{tabular}{lr}
    \hline
     & (1) \\
    \hline
    x\_1 & 0.50 \\
    \hline
    \end{tabular}
    """
    align = _check_table(header, rows, align)
    top, mid, bottom = (r"\toprule", r"\midrule", r"\bottomrule") if booktabs else (r"\hline",) * 3

    def line(cells: Sequence[str]) -> str:
        return " & ".join(latex_escape(c) for c in cells) + r" \\"

    body = [rf"\begin{{tabular}}{{{align}}}", top, line(header), mid]
    for i, row in enumerate(rows):
        if i in rules:
            body.append(mid)
        body.append(line(row))
    body.append(bottom)
    if notes:
        body.append(
            rf"\multicolumn{{{len(header)}}}{{l}}{{\footnotesize {latex_escape(notes)}}} \\"
        )
    body.append(r"\end{tabular}")
    if caption is None and label is None:
        return "\n".join(body)
    wrapped = [r"\begin{table}[htbp]", r"\centering"]
    if caption is not None:
        wrapped.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        wrapped.append(rf"\label{{{label}}}")
    return "\n".join([*wrapped, *body, r"\end{table}"])


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: str | None = None,
    rules: Sequence[int] = (),
    *,
    caption: str | None = None,
    notes: str | None = None,
) -> str:
    """A self-contained HTML ``<table>`` (inline styles only, every text escaped).

    Examples
    --------
    >>> out = html_table(["", "a<b"], [["x & y", "1"]])
    >>> '<th style="text-align:right;padding:0.15em 0.6em;">a&lt;b</th>' in out
    True
    >>> "x &amp; y" in out, out.splitlines()[-1]
    (True, '</table>')
    """
    align = _check_table(header, rows, align)
    side = {"l": "left", "c": "center", "r": "right"}
    cell_style = "padding:0.15em 0.6em;"

    def tr(cells: Sequence[str], tag: str, rule: bool) -> str:
        border = "border-top:1px solid currentColor;" if rule else ""
        inner = "".join(
            f'<{tag} style="text-align:{side[a]};{cell_style}{border}">'
            f"{html.escape(str(c))}</{tag}>"
            for c, a in zip(cells, align, strict=True)
        )
        return f"<tr>{inner}</tr>"

    out = [
        '<table style="border-collapse:collapse;border-top:2px solid currentColor;'
        'border-bottom:2px solid currentColor;">'
    ]
    if caption is not None:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out += ["<thead>", tr(header, "th", False), "</thead>", "<tbody>"]
    out += [tr(row, "td", i == 0 or i in rules) for i, row in enumerate(rows)]
    out.append("</tbody>")
    if notes:
        out.append(
            f'<tfoot><tr><td colspan="{len(header)}" style="text-align:left;{cell_style}'
            f'font-size:smaller;border-top:1px solid currentColor;">{html.escape(notes)}'
            "</td></tr></tfoot>"
        )
    out.append("</table>")
    return "\n".join(out)


# -- one result ---------------------------------------------------------------------------
def _header_facts(result: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    extra: Mapping[str, Any] = result.extra or {}
    left = [("Estimator", str(result.estimator) or "-")]
    left += [(label, str(extra[key])) for key, label in _EXTRA_LABELS.items() if key in extra]
    left += [
        ("Covariance", cov_label(result)),
        ("Reference distribution", f"t({result.df_resid})" if result.use_t else "normal"),
        ("Converged", str(bool(result.converged))),
        ("Iterations", str(result.n_iter)),
    ]
    right = [
        ("No. observations", str(result.nobs)),
        ("Df residuals", str(result.df_resid)),
        ("Scale", format_number(result.scale, 4)),
    ]
    if result.loglik is not None:
        right.append(("Log-likelihood", format_number(result.loglik, 3)))
    if result.objective is not None:
        right.append(("Objective", format_number(result.objective, 4)))
    if "n_dropped" in extra:
        right.append(("Rows dropped (missing)", str(extra["n_dropped"])))
    if extra.get("groups") is not None:
        right.append(("Clusters", str(len(np.unique(np.asarray(extra["groups"]))))))
    if extra.get("sample_weight") is not None:
        w = np.asarray(extra["sample_weight"], dtype=float)
        right.append(("Weights (sum)", format_number(w.sum(), 3)))
    return left, right


def _two_columns(left: list[tuple[str, str]], right: list[tuple[str, str]]) -> list[str]:
    """Key: value pairs in two columns; the left one widens to its longest entry."""

    def cell(pair: tuple[str, str]) -> str:
        key, value = pair
        return f"{key + ':':<24}{value}"

    lcells = [cell(p) for p in left]
    rcells = [cell(p) for p in right]
    width = max(_WIDTH // 2, *(len(c) + 2 for c in lcells))
    n = max(len(lcells), len(rcells))
    lcells += [""] * (n - len(lcells))
    rcells += [""] * (n - len(rcells))
    return [(a.ljust(width) + b).rstrip() for a, b in zip(lcells, rcells, strict=True)]


def summary_text(result: Any, kind: str | None = None, alpha: float = 0.05, digits: int = 4) -> str:
    """A statsmodels-style text summary: fit facts above the coefficient table.

    The header lists the estimator, its loss (``result.extra["loss"]``) and other stated
    tuning (``tau``, t ``df``), the covariance kind with its options, the reference
    distribution (:math:`t_{n-k}` when ``use_t``, else normal), convergence and iterations;
    beside them nobs, residual df, scale, log-likelihood / objective when present, rows
    dropped for missing values, the number of clusters (``extra["groups"]``) and the sum of
    the observation weights (``extra["sample_weight"]``). The table is
    ``result.summary(kind, alpha)`` with ``digits`` decimals.

    Parameters
    ----------
    result : FitResult, or a fitted estimator (its ``result_`` is used)
    kind : covariance kind of the table (default: the result's)
    alpha : the confidence intervals are ``1 - alpha``
    digits : decimals of the table

    Examples
    --------
    >>> import numpy as np
    >>> from tailreg import OLS
    >>> X = np.arange(10.0)[:, None]
    >>> y = 1 + 2 * X[:, 0] + np.tile([0.5, -0.5], 5)
    >>> text = summary_text(OLS().fit(X, y).result_)
    >>> print(text.splitlines()[0].strip())
    OLS regression results
    >>> "No. observations:       10" in text
    True
    """
    result = getattr(result, "result_", result)
    left, right = _header_facts(result)
    if kind is not None:
        left = [(k, v if k != "Covariance" else str(kind)) for k, v in left]
    table = result.summary(kind, alpha)
    header = ["", *map(str, table.columns)]
    rows = [
        [str(name), *(format_number(v, digits) for v in values)]
        for name, values in zip(table.index, table.to_numpy(), strict=True)
    ]
    coef = text_table(header, rows, "l" + "r" * (len(header) - 1), sep="   ")
    title = f"{result.estimator or 'Fit'} regression results".center(_WIDTH).rstrip()
    out = [title, "=" * _WIDTH, *_two_columns(left, right)]
    formula = (result.extra or {}).get("formula")
    if formula:
        out.append(f"Formula: {formula}")
    out += ["=" * _WIDTH, coef, "=" * _WIDTH]
    if not result.converged:
        out.append("Warning: the solver did not converge; the estimates are not reliable.")
    return "\n".join(out)
