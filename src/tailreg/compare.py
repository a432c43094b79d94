"""Side-by-side tables of several fits (the regression table of a paper).

:func:`compare` lines up fitted estimators or :class:`~tailreg.inference.FitResult` objects:
one column per fit, one row per parameter (the union of their names, in first-seen order)
with the estimate and, beneath it, its standard error, z/t statistic, p-value or confidence
interval under that fit's own covariance kind; then footer rows with the number of
observations, the scale, the covariance kind and the estimator. The returned
:class:`Comparison` renders to text, Markdown, LaTeX and HTML with the hand-written
renderers of :mod:`tailreg.reporting` (no optional dependency on any path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .reporting import (
    cov_label,
    format_number,
    html_table,
    latex_table,
    markdown_table,
    text_table,
)

__all__ = ["STATS", "Comparison", "compare"]

#: what ``compare(stat=...)`` can put beneath each estimate, and how the note names it
STATS = {
    "se": "Standard errors in parentheses",
    "t": "z or t statistics in parentheses",
    "p": "p-values in parentheses",
    "ci": "{level:g}% confidence intervals in brackets",
}
_DEFAULT_STARS = (0.10, 0.05, 0.01)
_STAT_FRAME = {"se": "bse", "t": "tvalues", "p": "pvalues"}
_FOOTER = ("Observations", "Scale", "Covariance", "Estimator")


@dataclass(frozen=True, eq=False, repr=False)
class Comparison:
    """Several fits side by side; build it with :func:`compare`.

    Attributes
    ----------
    names : tuple of str
        Column (model) names.
    params, bse, tvalues, pvalues, lower, upper : DataFrame
        Numeric tables, rows the parameters, columns the models (NaN where a model has no
        such parameter); ``lower``/``upper`` are the ``1 - alpha`` Wald intervals. All
        under each fit's own default covariance kind.
    footer : DataFrame
        Strings: observations, scale, covariance kind (with options) and estimator.
    frame : DataFrame
        The table as displayed, all strings: per parameter a row with the estimate
        (labelled by the parameter) and a row with the ``stat`` beneath (label ``""``),
        then the footer rows.
    stat : str
        ``"se"``, ``"t"``, ``"p"`` or ``"ci"``.
    notes : str
        What the numbers beneath the estimates are (and the star legend).
    """

    names: tuple[str, ...]
    params: pd.DataFrame
    bse: pd.DataFrame
    tvalues: pd.DataFrame
    pvalues: pd.DataFrame
    lower: pd.DataFrame
    upper: pd.DataFrame
    footer: pd.DataFrame
    frame: pd.DataFrame
    stat: str
    notes: str

    @property
    def _rules(self) -> tuple[int, ...]:
        """Body rows above which the renderers draw a rule: where the footer starts."""
        return (len(self.frame) - len(self.footer),)

    def _cells(self) -> tuple[list[str], list[list[str]], str]:
        header = ["", *self.names]
        rows = [
            [str(label), *map(str, row)]
            for label, row in zip(self.frame.index, self.frame.to_numpy(), strict=True)
        ]
        return header, rows, "l" + "c" * len(self.names)

    def __str__(self) -> str:
        header, rows, align = self._cells()
        return text_table(header, rows, align, self._rules) + "\n" + self.notes

    def __repr__(self) -> str:
        return str(self)

    def to_markdown(self) -> str:
        """A Markdown pipe table (aligned), the notes in a line beneath."""
        header, rows, align = self._cells()
        return markdown_table(header, rows, align) + "\n\n" + self.notes

    def to_latex(
        self, caption: str | None = None, label: str | None = None, booktabs: bool = False
    ) -> str:
        r"""A LaTeX ``tabular`` (in a ``table`` float with a caption or label), escaped.

        ``booktabs=True`` uses ``\toprule``/``\midrule``/``\bottomrule`` (needs the
        booktabs package); the default ``\hline`` compiles with plain LaTeX.
        """
        header, rows, align = self._cells()
        return latex_table(
            header,
            rows,
            align,
            self._rules,
            caption=caption,
            label=label,
            notes=self.notes,
            booktabs=booktabs,
        )

    def to_html(self, caption: str | None = None) -> str:
        """A self-contained HTML ``<table>`` (inline styles, every text escaped)."""
        header, rows, align = self._cells()
        return html_table(header, rows, align, self._rules, caption=caption, notes=self.notes)

    def _repr_html_(self) -> str:
        return self.to_html()


def _results(fits: Any, names: Sequence[str] | None) -> tuple[list[Any], tuple[str, ...]]:
    if isinstance(fits, Mapping):
        if names is not None:
            raise ValueError("pass names or a dict of fits, not both")
        names, fits = [str(k) for k in fits], list(fits.values())
    elif not isinstance(fits, Sequence) or isinstance(fits, str):
        fits = [fits]  # a single fit
    fits = list(fits)
    if not fits:
        raise ValueError("compare needs at least one fit")
    results = []
    for i, fit in enumerate(fits):
        res = getattr(fit, "result_", fit)
        if not (hasattr(res, "params") and hasattr(res, "bse") and hasattr(res, "cov_kind")):
            raise ValueError(
                f"fit {i} ({type(fit).__name__}) is neither a fitted estimator nor a FitResult"
            )
        results.append(res)
    names = tuple(f"({i + 1})" for i in range(len(fits))) if names is None else tuple(names)
    if len(names) != len(results):
        raise ValueError(f"got {len(names)} names for {len(results)} fits")
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique, got {list(names)}")
    return results, names


def _union(results: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for res in results:
        seen.update(dict.fromkeys(map(str, res.params.index)))
    return list(seen)


def _numeric(
    results: list[Any], names: tuple[str, ...], rows: list[str], alpha: float
) -> dict[str, pd.DataFrame]:
    """params, bse, tvalues, pvalues, lower, upper as (parameter x model) frames."""
    columns: dict[str, dict[str, pd.Series]] = {
        k: {} for k in ("params", "bse", "tvalues", "pvalues", "lower", "upper")
    }
    for name, res in zip(names, results, strict=True):
        ci = res.conf_int(alpha)
        values = {
            "params": res.params,
            "bse": res.bse(),
            "tvalues": res.tvalues(),
            "pvalues": res.pvalues(),
            "lower": ci["lower"],
            "upper": ci["upper"],
        }
        index = [str(i) for i in res.params.index]
        for key, series in values.items():
            columns[key][name] = pd.Series(np.asarray(series, dtype=float), index=index)
    return {
        key: pd.DataFrame(cols, columns=list(names)).reindex(rows) for key, cols in columns.items()
    }


def _thresholds(stars: bool | Sequence[float]) -> tuple[float, ...]:
    if stars is True:
        return _DEFAULT_STARS
    if stars is False or stars is None:
        return ()
    out = tuple(sorted((float(t) for t in stars), reverse=True))
    if any(not 0.0 < t < 1.0 for t in out):
        raise ValueError(f"star thresholds must lie in (0, 1), got {list(stars)}")
    return out


def _star(p: float, thresholds: tuple[float, ...]) -> str:
    if np.isnan(p):
        return ""
    return "*" * sum(p < t for t in thresholds)


def compare(
    fits: Sequence[Any] | Mapping[str, Any],
    names: Sequence[str] | None = None,
    stat: str = "se",
    *,
    digits: int = 3,
    stars: bool | Sequence[float] = False,
    alpha: float = 0.05,
) -> Comparison:
    """Put several fits side by side.

    Each column is one fit under its own default covariance kind (choose it beforehand with
    ``result_.with_cov(kind)``). Beneath each estimate :math:`\\hat\\theta_j` stands, per
    ``stat``: its standard error :math:`\\widehat{se}_j` (``"se"``), the Wald statistic
    :math:`\\hat\\theta_j/\\widehat{se}_j` (``"t"``), the two-sided p-value (``"p"``) or the
    Wald interval :math:`\\hat\\theta_j \\pm q_{1-\\alpha/2}\\widehat{se}_j` (``"ci"``;
    :math:`q` from :math:`t_{n-k}` when the fit has ``use_t``, else normal).

    Parameters
    ----------
    fits : sequence of fitted estimators or FitResults, or a dict {name: fit}
    names : column names (default ``(1)``, ``(2)``, ...; the keys of a dict)
    stat : {"se", "t", "p", "ci"}
    digits : decimals of every number
    stars : False (default), True for ``* p<0.1, ** p<0.05, *** p<0.01``, or thresholds
    alpha : ``1 - alpha`` intervals for ``stat="ci"``

    Returns
    -------
    Comparison
        ``.frame`` (strings), numeric ``.params``/``.bse``/..., ``.to_markdown()``,
        ``.to_latex()``, ``.to_html()`` and ``str()``.

    Examples
    --------
    >>> import numpy as np
    >>> from tailreg import OLS, Huber
    >>> from tailreg.compare import compare
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 1)); y = 1 + 2 * X[:, 0] + rng.standard_t(3, 50)
    >>> table = compare({"OLS": OLS().fit(X, y), "Huber": Huber().fit(X, y)})
    >>> list(table.frame.index)
    ['const', '', 'x1', '', 'Observations', 'Scale', 'Covariance', 'Estimator']
    >>> print(table.to_markdown().splitlines()[1])
    | :----------- | :-------: | :-----: |
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {list(STATS)}, got {stat!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    thresholds = _thresholds(stars)
    results, names = _results(fits, names)
    rows = _union(results)
    num = _numeric(results, names, rows, alpha)
    params, pvalues, lower, upper = num["params"], num["pvalues"], num["lower"], num["upper"]

    def fmt(x: float) -> str:
        return format_number(x, digits)

    body: list[list[str]] = []
    labels: list[str] = []
    for term in rows:
        est, beneath = [], []
        for name in names:
            theta = params.at[term, name]
            if np.isnan(theta):
                est.append("")
                beneath.append("")
                continue
            est.append(fmt(theta) + _star(pvalues.at[term, name], thresholds))
            if stat == "ci":
                lo, hi = lower.at[term, name], upper.at[term, name]
                beneath.append(f"[{fmt(lo)}, {fmt(hi)}]" if not np.isnan(lo) else "")
            else:
                v = num[_STAT_FRAME[stat]].at[term, name]
                beneath.append(f"({fmt(v)})" if not np.isnan(v) else "")
        body += [est, beneath]
        labels += [term, ""]
    footer = pd.DataFrame(
        [
            [str(r.nobs) for r in results],
            [fmt(r.scale) for r in results],
            [cov_label(r) for r in results],
            [str(r.estimator) for r in results],
        ],
        index=list(_FOOTER),
        columns=list(names),
    )
    frame = pd.DataFrame(body, index=labels, columns=list(names))
    frame = pd.concat([frame, footer])
    notes = STATS[stat].format(level=100 * (1 - alpha))
    if thresholds:
        legend = ", ".join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(thresholds))
        notes += "; " + legend
    return Comparison(names=names, footer=footer, frame=frame, stat=stat, notes=notes, **num)
