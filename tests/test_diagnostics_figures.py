"""Diagnostic figures: they show the data they are given and leave no pyplot state behind."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib import _pylab_helpers
from matplotlib.figure import Figure

import tailreg
from tailreg.diagnostics import figures as F
from tailreg.diagnostics.laws import fit_law
from tailreg.diagnostics.outliers import outlier_diagnostics
from tailreg.diagnostics.tails import tail_diagnostics


@pytest.fixture(scope="module")
def stack(stackloss_data):
    X, y = stackloss_data
    mm = tailreg.MM(random_state=0).fit(X, y)
    return X, y, mm


def _png_ok(fig: Figure) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_qq_plot_points_are_sorted_residuals_against_law_quantiles(rng):
    r = rng.standard_t(4, 150)
    fit = fit_law(r, "t")
    fig = F.qq_plot(r, fit)
    (ax,) = fig.axes
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(y, np.sort(r))
    np.testing.assert_allclose(x, fit.law.ppf((np.arange(1, 151) - 0.5) / 150))
    assert fit.label in ax.get_xlabel()
    _png_ok(fig)


def test_residuals_vs_fitted(stack):
    X, _, mm = stack
    fig = F.residuals_vs_fitted(mm.predict(X), mm.result_.resid)
    (ax,) = fig.axes
    x, yy = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, mm.predict(X))
    np.testing.assert_array_equal(yy, mm.result_.resid)
    assert len(ax.lines) == 4  # points, zero line, two LOWESS curves
    with pytest.raises(ValueError, match="equal length"):
        F.residuals_vs_fitted(np.ones(3), np.ones(4))
    _png_ok(fig)


def test_hill_plot_marks_the_chosen_k(rng):
    td = tail_diagnostics(rng.standard_t(3, 900))
    fig = F.hill_plot(td)
    upper, lower = fig.axes
    k, alpha = upper.lines[0].get_data()
    np.testing.assert_array_equal(k, td.upper_path.k)
    np.testing.assert_array_equal(alpha, td.upper_path.alpha)
    assert upper.lines[1].get_xdata()[0] == td.upper.k
    assert lower.get_title() == "lower tail"
    _png_ok(fig)


def test_weights_plot_shows_weights_and_flags(stack):
    X, _, mm = stack
    od = outlier_diagnostics(mm, X, random_state=0)
    fig = F.weights_plot(od)
    left, right = fig.axes
    pts = left.collections[0].get_offsets()
    np.testing.assert_array_equal(pts[:, 1], od.table["weight"])
    labels = {t.get_text() for t in right.texts}
    assert {str(i) for i in od.bad_leverage} <= labels
    assert right.lines[-1].get_xdata()[0] == od.leverage_cutoff
    _png_ok(fig)


def test_estimates_plot():
    table = pd.DataFrame(
        {
            "term": ["x1", "x1", "x2", "x2"],
            "estimator": ["OLS", "MM"] * 2,
            "estimate": [0.7, 0.9, -0.1, -0.2],
            "lower": [0.5, 0.8, -0.5, -0.6],
            "upper": [0.9, 1.0, 0.3, 0.2],
        }
    )
    fig = F.estimates_plot(table)
    assert [a.get_title() for a in fig.axes] == ["x1", "x2"]
    with pytest.raises(ValueError, match="needs columns"):
        F.estimates_plot(table.drop(columns="upper"))
    _png_ok(fig)


def test_no_pyplot_figures_are_left_open(rng, stack):
    before = len(_pylab_helpers.Gcf.get_all_fig_managers())
    r = rng.standard_normal(50)
    F.qq_plot(r, fit_law(r, "normal").law)
    F.hill_plot(tail_diagnostics(r))
    X, _, mm = stack
    F.weights_plot(outlier_diagnostics(mm, X, random_state=0))
    assert len(_pylab_helpers.Gcf.get_all_fig_managers()) == before
