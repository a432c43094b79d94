"""Figure helpers shared by the studies (matplotlib, Agg backend, never ``show``).

Every Monte Carlo curve is drawn with a band of :math:`\\pm 1.96` Monte Carlo standard errors,
so that a reader sees which differences the simulation can resolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._optional import require

__all__ = [
    "band",
    "bottom_legend",
    "facet",
    "log_n_axis",
    "plain_log_y",
    "reference_rate",
    "save",
    "save_titled",
    "table_markdown",
]


def _plt():
    matplotlib = require("matplotlib", "figures")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "figures")

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 9,
        }
    )
    return plt


def facet(n_panels: int, ncols: int = 3, width: float = 3.6, height: float = 2.9, **kw):
    """A grid of ``n_panels`` axes (extra axes hidden); returns (fig, flat list of axes)."""
    plt = _plt()
    ncols = min(ncols, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw
    )
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def band(ax, x, mean, mcse, label: str | None = None, **kw):
    """Line with a shaded :math:`\\pm 1.96` MCSE band."""
    x = np.asarray(x, dtype=float)
    mean = np.asarray(mean, dtype=float)
    mcse = np.asarray(mcse, dtype=float)
    (line,) = ax.plot(x, mean, marker="o", ms=3, label=label, **kw)
    lo = mean - 1.96 * mcse
    if ax.get_yscale() == "log":
        lo = np.where(lo > 0, lo, mean / 10)
    ax.fill_between(x, lo, mean + 1.96 * mcse, color=line.get_color(), alpha=0.2, lw=0)
    return line


def log_n_axis(ax, ns: Sequence[float], label: str = "sample size n") -> None:
    """Log-scaled x axis ticked at the sample sizes themselves."""
    from matplotlib.ticker import NullFormatter, NullLocator

    ax.set_xscale("log")
    ns = sorted({int(n) for n in ns})
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns], rotation=45 if len(ns) > 6 else 0)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)


def reference_rate(ax, x: Sequence[float], y0: float, slope: float, label: str, **kw):
    """Dashed reference line :math:`y = y_0 (x/x_0)^{\\text{slope}}` through ``(x[0], y0)``."""
    xs = np.asarray(x, dtype=float)
    kw.setdefault("color", "0.4")
    kw.setdefault("ls", "--")
    kw.setdefault("lw", 1)
    ax.plot(xs, y0 * (xs / xs[0]) ** slope, label=label, **kw)


def plain_log_y(ax) -> None:
    """Log y axis labelled at 1, 2, 5 x 10^k in plain numbers (minor labels clutter)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    subs = (1.0, 2.0, 5.0) if hi / max(lo, 1e-300) < 100 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def bottom_legend(fig, ax, ncol: int = 8) -> None:
    """One legend for the figure, below the panels (use with :func:`save_titled`)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(ncol, len(labels)),
        fontsize=7,
        bbox_to_anchor=(0.5, 0.0),
    )


def save_titled(
    fig, stem: str | Path, bottom: float = 0.0, title_lines: int = 1, **kw
) -> list[Path]:
    """:func:`save`, laid out with room for the suptitle and a bottom legend (inches).

    A plain ``tight_layout`` would drop that room and let the suptitle overlap the top
    panels.
    """
    h = fig.get_figheight()
    fig.tight_layout(rect=(0, bottom / h, 1, 1 - (0.12 + 0.2 * title_lines) / h))
    return save(fig, stem, layout=False, **kw)


def save(
    fig, stem: str | Path, formats: Sequence[str] = ("png", "svg"), *, layout: bool = True
) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` (creating the folder) and close the figure.

    ``layout=False`` keeps the figure's layout (no ``tight_layout``).
    """
    plt = _plt()
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    if layout:
        fig.tight_layout()
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        # fixed metadata keeps SVG output byte-identical between runs
        fig.savefig(path, dpi=150, metadata={"Date": None} if fmt == "svg" else None)
        paths.append(path)
    plt.close(fig)
    return paths


def table_markdown(df, floatfmt: str = ".4g") -> str:
    """A DataFrame as a GitHub Markdown table (no tabulate dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float | np.floating):
                cells.append(format(v, floatfmt) if np.isfinite(v) else str(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
