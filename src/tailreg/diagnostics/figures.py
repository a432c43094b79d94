"""Diagnostic figures (matplotlib, object-oriented: no pyplot state, never ``show``).

Each function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``, so
nothing is registered globally and nothing needs closing; save it with ``fig.savefig`` or
embed it with :mod:`tailreg.diagnostics.html`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from statsmodels.nonparametric.smoothers_lowess import lowess

from ..distributions import ErrorLaw
from .laws import LawFit
from .outliers import OUTLIER_CUTOFF, OutlierDiagnostics
from .tails import HillPath, TailDiagnostics

__all__ = ["estimates_plot", "hill_plot", "qq_plot", "residuals_vs_fitted", "weights_plot"]

_FLAG = "#c0392b"
_BASE = "#2c5d8f"
_GREY = "0.45"


def _style(ax) -> None:
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _figure(ncols: int = 1, width: float = 4.6, height: float = 3.6):
    fig = Figure(figsize=(width * ncols, height), dpi=110, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        _style(ax)
    return fig, list(axes)


def qq_plot(resid, law: ErrorLaw | LawFit, *, title: str | None = None) -> Figure:
    """Quantile–quantile plot of the residuals against a fitted law.

    Sorted residuals :math:`r_{(i)}` against :math:`F^{-1}\\{(i - 1/2)/n\\}` of ``law`` (a
    fitted law is on the residuals' own scale, so agreement is the line :math:`y = x`).

    Parameters
    ----------
    resid : array-like of shape (n,)
    law : ErrorLaw or LawFit
        E.g. ``fit_error_laws(resid).best``.
    title : str, optional
    """
    label = law.label if isinstance(law, LawFit) else getattr(law, "label", "law")
    dist = law.law if isinstance(law, LawFit) else law
    r = np.sort(np.asarray(resid, dtype=float))
    n = r.size
    q = np.asarray(dist.ppf((np.arange(1, n + 1) - 0.5) / n), dtype=float)
    fig, (ax,) = _figure()
    ax.plot(q, r, "o", ms=3, color=_BASE, alpha=0.7)
    lo, hi = np.nanmin([q.min(), r.min()]), np.nanmax([q.max(), r.max()])
    ax.plot([lo, hi], [lo, hi], "--", color=_GREY, lw=1, label="y = x")
    ax.set_xlabel(f"quantiles of {label}")
    ax.set_ylabel("ordered residuals")
    ax.set_title(title or "QQ plot against the fitted error law", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return fig


def residuals_vs_fitted(fitted, resid, *, title: str | None = None) -> Figure:
    """Residuals against fitted values with a LOWESS smooth
    (``statsmodels.nonparametric.smoothers_lowess.lowess``, ``frac = 2/3``) of the residuals
    and of their absolute values (a rising spread marks heteroscedasticity)."""
    f = np.asarray(fitted, dtype=float)
    r = np.asarray(resid, dtype=float)
    if f.shape != r.shape or f.ndim != 1:
        raise ValueError(f"fitted and resid must be 1-d of equal length, got {f.shape}, {r.shape}")
    fig, (ax,) = _figure()
    ax.plot(f, r, "o", ms=3, color=_BASE, alpha=0.6)
    ax.axhline(0.0, color=_GREY, lw=1, ls="--")
    if r.size >= 10:
        sm = lowess(r, f, frac=2 / 3, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color=_FLAG, lw=1.5, label="LOWESS of residuals")
        sa = lowess(np.abs(r), f, frac=2 / 3, return_sorted=True)
        ax.plot(sa[:, 0], sa[:, 1], color="#e67e22", lw=1.2, ls="-.", label="LOWESS of |residuals|")
        ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("fitted values")
    ax.set_ylabel("residuals")
    ax.set_title(title or "Residuals against fitted values", fontsize=10)
    return fig


def _hill_panel(ax, path: HillPath, chosen_k: int, chosen_alpha: float) -> None:
    ax.fill_between(path.k, path.lower, path.upper, color=_BASE, alpha=0.18, lw=0)
    ax.plot(path.k, path.alpha, color=_BASE, lw=1.2, label="Hill estimate")
    ax.axvline(chosen_k, color=_FLAG, lw=1, ls="--", label=f"chosen k = {chosen_k}")
    ax.plot([chosen_k], [chosen_alpha], "o", color=_FLAG, ms=4)
    for level, text in ((2.0, "variance"), (4.0, "4th moment")):
        ax.axhline(level, color=_GREY, lw=0.8, ls=":")
        ax.text(path.k[-1], level, f" {text} finite above", fontsize=7, va="bottom", ha="right")
    top = np.nanquantile(path.upper, 0.9) if path.upper.size else 10.0
    ax.set_ylim(0.0, max(6.0, min(float(top), 3 * max(chosen_alpha, 1.0))))
    ax.set_xlabel("k (order statistics used)")
    ax.set_ylabel("tail index alpha")
    ax.set_title(f"{path.tail} tail", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper right")


def hill_plot(tails: TailDiagnostics) -> Figure:
    """Hill plots of both tails: :math:`\\hat\\alpha_k` with its Wald band against
    :math:`k`, the chosen :math:`k` marked, and the levels 2 and 4 below which the variance
    and the fourth moment are infinite."""
    fig, (a1, a2) = _figure(2)
    _hill_panel(a1, tails.upper_path, tails.upper.k, tails.upper.alpha)
    _hill_panel(a2, tails.lower_path, tails.lower.k, tails.lower.alpha)
    fig.suptitle("Hill plots of the residual tails (about the median)", fontsize=10)
    return fig


def weights_plot(outliers: OutlierDiagnostics, *, max_labels: int = 10) -> Figure:
    """The robust fit's weights and flagged rows.

    Left: robustness weight of each row (row order). Right: standardized residual
    :math:`r_i/\\hat s` against the robust distance of the regressors (Rousseeuw & van
    Zomeren 1990; the hat value when the MCD fell back), with the outlier cutoff
    :math:`\\pm 2.5` and the leverage cutoff. Flagged rows are red and labelled.
    """
    t = outliers.table
    flag = (t["outlier"] | t["leverage"]).to_numpy()
    colors = np.where(flag, _FLAG, _BASE)
    fig, (a1, a2) = _figure(2)
    a1.scatter(t["row"], t["weight"], s=10, c=colors)
    a1.set_ylim(-0.05, 1.05)
    a1.set_xlabel("row")
    a1.set_ylabel("robustness weight")
    a1.set_title("MM weights (0 = ignored by the fit)", fontsize=10)
    xcol = outliers.leverage_measure
    a2.scatter(t[xcol], t["std_resid"], s=10, c=colors)
    for c in (-outliers.cutoff, outliers.cutoff):
        a2.axhline(c, color=_GREY, lw=0.8, ls="--")
    a2.axvline(outliers.leverage_cutoff, color=_GREY, lw=0.8, ls=":")
    labelled = t.loc[flag].reindex(t.loc[flag, "std_resid"].abs().sort_values().index[::-1])
    for _, row in labelled.head(max_labels).iterrows():
        a2.annotate(
            str(int(row["row"])),
            (row[xcol], row["std_resid"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    a2.set_xlabel("robust distance of the regressors" if xcol == "robust_distance" else "hat value")
    a2.set_ylabel(f"residual / robust scale (cutoff {OUTLIER_CUTOFF:g})")
    a2.set_title("Outliers and leverage", fontsize=10)
    return fig


def estimates_plot(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Estimates with confidence intervals, one panel per term, one row per estimator.

    Parameters
    ----------
    table : DataFrame
        Columns ``term``, ``estimator``, ``estimate``, ``lower``, ``upper``.
    """
    need = {"term", "estimator", "estimate", "lower", "upper"}
    if not need <= set(table.columns):
        raise ValueError(f"table needs columns {sorted(need)}, got {list(table.columns)}")
    terms = list(dict.fromkeys(table["term"]))
    ests = list(dict.fromkeys(table["estimator"]))
    fig, axes = _figure(len(terms), width=3.4, height=0.5 * len(ests) + 1.4)
    for ax, term in zip(axes, terms, strict=True):
        sub = table[table["term"] == term].set_index("estimator").reindex(ests)
        y = np.arange(len(ests))[::-1]
        ax.errorbar(
            sub["estimate"],
            y,
            xerr=[sub["estimate"] - sub["lower"], sub["upper"] - sub["estimate"]],
            fmt="o",
            ms=4,
            color=_BASE,
            ecolor=_BASE,
            capsize=2,
        )
        ax.set_yticks(y)
        ax.set_yticklabels(ests if ax is axes[0] else [""] * len(ests))
        ax.set_title(str(term), fontsize=10)
    fig.suptitle(title or "Estimates with confidence intervals", fontsize=10)
    return fig
