"""Renderers and the text summary of one result."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import tailreg
from tailreg.formula import fit_formula
from tailreg.reporting import (
    cov_label,
    format_number,
    html_table,
    latex_escape,
    latex_table,
    markdown_table,
    summary_text,
    text_table,
)


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (3.14159, 2, "3.14"),
        (-0.0004, 3, "0.000"),
        (-0.0006, 3, "-0.001"),
        (2.5, 0, "2"),  # round half to even, as Python's format
        (12, 3, "12"),
        (np.int64(7), 3, "7"),
        (np.float64(1e6), 1, "1000000.0"),
        (float("nan"), 3, ""),
        (None, 3, ""),
        (float("inf"), 3, "inf"),
        (-np.inf, 3, "-inf"),
        (True, 3, "True"),
    ],
)
def test_format_number(x, digits, text):
    assert format_number(x, digits) == text


def test_latex_escape_every_special_once():
    assert latex_escape("a_b & 50% $x$ #1 {y} ~ ^") == (
        r"a\_b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{}"
    )
    # the backslash's replacement is not escaped again
    assert latex_escape("\\_") == r"\textbackslash{}\_"
    assert latex_escape("x<1>") == r"x\textless{}1\textgreater{}"
    assert latex_escape("plain C(g)[T.b]") == "plain C(g)[T.b]"


def test_table_shape_checks():
    for render in (text_table, markdown_table, latex_table, html_table):
        with pytest.raises(ValueError, match="row 0 has 1 cells, the header 2"):
            render(["a", "b"], [["1"]])
        with pytest.raises(ValueError, match="align must be 2 letters"):
            render(["a", "b"], [["1", "2"]], "lx")


def test_markdown_alignment_row_and_padding():
    out = markdown_table(["k", "left", "mid", "right"], [["a", "x", "y", "z"]], "llcr")
    lines = out.splitlines()
    assert lines[1] == "| :-- | :--- | :-: | ----: |"
    assert lines[2] == "| a   | x    |  y  |     z |"
    assert len({len(line) for line in lines}) == 1


def test_text_table_rules_and_alignment():
    out = text_table(["", "a"], [["x", "1"], ["y", "22"], ["n", "3"]], "lr", rules=[2])
    assert out.splitlines() == ["    a", "-----", "x   1", "y  22", "-----", "n   3"]


def test_latex_table_notes_and_float():
    tex = latex_table(["", "m"], [["a", "1"]], notes="50% of *", caption="c_1", label="t:1")
    assert "\\multicolumn{2}{l}{\\footnotesize 50\\% of *} \\\\" in tex
    assert "\\caption{c\\_1}" in tex and "\\label{t:1}" in tex
    assert tex.count("\\begin{") == tex.count("\\end{") == 2


def test_html_table_rules_and_notes():
    out = html_table(["", "m"], [["a", "1"], ["b", "2"]], rules=[1], notes="<note>")
    rows = out.split("<tbody>")[1].split("</tbody>")[0].strip().splitlines()
    assert all("border-top" in r for r in rows)  # first body row and the rule before row 1
    assert "&lt;note&gt;" in out and 'colspan="2"' in out


# -- summary_text --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(8)
    n = 70
    df = pd.DataFrame(
        {"x1": rng.normal(size=n), "g": rng.choice(["a", "b"], n), "cl": rng.integers(0, 6, n)}
    )
    df["y"] = 1.0 + df.x1 + rng.standard_t(4, n)
    df.loc[[3, 4], "x1"] = np.nan
    return df


def header_value(text: str, key: str) -> str:
    match = re.search(rf"{re.escape(key)}:\s+(\S+(?: \S+)*?)(?:\s{{2,}}|$)", text, re.M)
    assert match, f"{key} not in summary"
    return match.group(1)


def test_summary_header_facts(frame):
    est = fit_formula("y ~ x1 + C(g)", frame, tailreg.Huber(), groups="cl")
    res = est.result_
    text = summary_text(res)
    assert text.splitlines()[0].strip() == "Huber regression results"
    assert header_value(text, "Estimator") == "Huber"
    assert header_value(text, "Loss") == "Huber(k=1.345)"
    assert header_value(text, "Covariance") == res.cov_kind == "H1"
    assert header_value(text, "Reference distribution") == "normal"
    assert header_value(text, "Converged") == "True"
    assert header_value(text, "Iterations") == str(res.n_iter)
    assert header_value(text, "No. observations") == "68"
    assert header_value(text, "Df residuals") == str(res.df_resid) == "65"
    assert header_value(text, "Scale") == f"{res.scale:.4f}"
    assert header_value(text, "Objective") == f"{res.objective:.4f}"
    assert header_value(text, "Rows dropped (missing)") == "2"
    assert header_value(text, "Clusters") == str(len(np.unique(est.groups_)))
    assert "Formula: y ~ x1 + C(g)" in text
    assert "Weights" not in text  # the IRLS weights in extra["weights"] are not observation weights
    assert summary_text(est) == text  # an estimator is summarised through its result_


def coefficient_rows(text: str) -> dict[str, list[str]]:
    body = text.split("=" * 78)[2].strip().splitlines()[2:]
    return {line.split()[0]: line.split()[1:] for line in body}


@pytest.mark.parametrize("kind", [None, "HC1"])
def test_summary_table_is_the_results_summary(frame, kind):
    est = tailreg.OLS().fit(frame.dropna()[["x1"]], frame.dropna().y)
    res = est.result_
    text = summary_text(res, kind=kind, alpha=0.1)
    table = res.summary(kind, 0.1)
    rows = coefficient_rows(text)
    assert list(rows) == list(table.index)
    for term, values in rows.items():
        assert values == [f"{v:.4f}" for v in table.loc[term]]
    header = re.split(r"\s{2,}", text.split("=" * 78)[2].strip().splitlines()[0])
    assert header == list(table.columns)
    assert header_value(text, "Covariance") == (kind or "classical")
    assert header_value(text, "Reference distribution") == f"t({res.df_resid})"


def test_summary_of_likelihood_and_quantile_fits(frame):
    data = frame.dropna()
    t = tailreg.StudentTMLE(df=3).fit(data[["x1"]], data.y).result_
    text = summary_text(t)
    assert header_value(text, "Log-likelihood") == f"{t.loglik:.3f}"
    assert header_value(text, "t degrees of freedom") == "3.0"
    assert "sigma" in coefficient_rows(text)
    q = tailreg.QuantileRegression(tau=0.25).fit(data[["x1"]], data.y).result_
    assert header_value(summary_text(q), "Quantile (tau)") == "0.25"


def test_summary_weights_options_and_non_convergence(frame):
    data = frame.dropna()
    res = tailreg.OLS().fit(data[["x1"]], data.y).result_
    w = np.linspace(0.5, 1.5, res.nobs)
    weighted = dataclasses.replace(res, extra={**res.extra, "sample_weight": w})
    assert header_value(summary_text(weighted), "Weights (sum)") == f"{w.sum():.3f}"
    failed = dataclasses.replace(res, converged=False)
    text = summary_text(failed)
    assert header_value(text, "Converged") == "False"
    assert text.splitlines()[-1].startswith("Warning: the solver did not converge")
    assert "Warning" not in summary_text(res)


def test_cov_label_shows_options():
    assert cov_label(SimpleNamespace(cov_kind="HAC", cov_options={"maxlags": 4})) == (
        "HAC (maxlags=4)"
    )
    groups = np.arange(5)
    label = cov_label(SimpleNamespace(cov_kind="cluster", cov_options={"groups": groups}))
    assert label == "cluster (groups=array(5,))"
    assert cov_label(SimpleNamespace(cov_kind="HC1")) == "HC1"


def test_docstring_examples():
    module = importlib.import_module("tailreg.reporting")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
