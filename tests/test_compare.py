"""compare(): table content against the results, and the four renderings."""

from __future__ import annotations

import doctest
import importlib
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import tailreg
from tailreg.compare import Comparison, compare
from tailreg.reporting import format_number


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(4)
    n = 60
    X = pd.DataFrame({"x_1": rng.normal(size=n), "x2": rng.normal(size=n)})
    y = 1.0 + 2.0 * X.x_1 - X.x2 + rng.standard_t(3, n)
    return {
        "OLS": tailreg.OLS().fit(X, y),
        "Huber": tailreg.Huber().fit(X, y),
        "LAD": tailreg.LAD().fit(X[["x_1"]], y),
        "t": tailreg.StudentTMLE(df=3).fit(X, y),
    }


def stat_row(table: Comparison, term: str) -> int:
    """Position of ``term``'s estimate row in ``frame`` (the stat row follows it)."""
    return list(table.frame.index).index(term)


def test_rows_are_the_union_of_names_in_first_seen_order(fits):
    table = compare(fits)
    assert list(table.params.index) == ["const", "x_1", "x2", "sigma"]
    assert list(table.frame.index) == [
        "const", "", "x_1", "", "x2", "", "sigma", "",
        "Observations", "Scale", "Covariance", "Estimator",
    ]  # fmt: skip
    assert table.names == ("OLS", "Huber", "LAD", "t")
    assert np.isnan(table.params.at["x2", "LAD"]) and np.isnan(table.bse.at["sigma", "OLS"])
    i = stat_row(table, "x2")
    assert table.frame.iloc[i]["LAD"] == "" and table.frame.iloc[i + 1]["LAD"] == ""


@pytest.mark.parametrize("digits", [2, 3, 5])
def test_estimates_and_standard_errors_are_the_results_numbers(fits, digits):
    table = compare(fits, digits=digits)
    for name, est in fits.items():
        res = est.result_
        for term in res.params.index:
            i = stat_row(table, term)
            assert table.frame.iloc[i][name] == format_number(res.params[term], digits)
            assert table.frame.iloc[i + 1][name] == f"({format_number(res.bse()[term], digits)})"
        np.testing.assert_array_equal(table.params[name].dropna(), res.params.to_numpy())
        np.testing.assert_array_equal(table.bse[name].dropna(), res.bse().to_numpy())


def test_other_stats_beneath(fits):
    res = fits["Huber"].result_
    i = stat_row(compare(fits), "x_1")
    t = compare(fits, stat="t").frame.iloc[i + 1]["Huber"]
    assert t == f"({res.tvalues()['x_1']:.3f})"
    p = compare(fits, stat="p", digits=4).frame.iloc[i + 1]["Huber"]
    assert p == f"({res.pvalues()['x_1']:.4f})"
    ci = res.conf_int(0.1).loc["x_1"]
    table = compare(fits, stat="ci", alpha=0.1)
    assert table.frame.iloc[i + 1]["Huber"] == f"[{ci.lower:.3f}, {ci.upper:.3f}]"
    assert "90% confidence intervals in brackets" in table.notes
    np.testing.assert_array_equal(table.lower["Huber"].dropna(), res.conf_int(0.1)["lower"])


def test_each_column_uses_its_own_covariance_kind(fits):
    hc1 = fits["OLS"].result_.with_cov("HC1")
    table = compare([fits["OLS"], hc1])
    assert list(table.footer.loc["Covariance"]) == ["classical", "HC1"]
    assert table.bse.at["x_1", "(2)"] == hc1.bse("HC1")["x_1"]
    assert table.bse.at["x_1", "(1)"] != table.bse.at["x_1", "(2)"]


def test_footer(fits):
    table = compare(fits)
    for name, est in fits.items():
        res = est.result_
        assert table.footer.at["Observations", name] == str(res.nobs)
        assert table.footer.at["Scale", name] == format_number(res.scale, 3)
        assert table.footer.at["Covariance", name] == res.cov_kind
        assert table.footer.at["Estimator", name] == res.estimator


def test_stars_are_off_by_default_and_follow_the_p_values(fits):
    assert not any("*" in c for c in compare(fits).frame.to_numpy().ravel())
    table = compare(fits, stars=True)
    for name in fits:
        for term, p in table.pvalues[name].dropna().items():
            cell = table.frame.iloc[stat_row(table, term)][name]
            assert cell.count("*") == (p < 0.1) + (p < 0.05) + (p < 0.01)
    assert table.notes.endswith("* p<0.1, ** p<0.05, *** p<0.01")
    custom = compare(fits, stars=[0.001, 0.5])
    assert custom.notes.endswith("* p<0.5, ** p<0.001")


def test_inputs(fits):
    as_list = compare(list(fits.values()))
    assert as_list.names == ("(1)", "(2)", "(3)", "(4)")
    results = compare([e.result_ for e in fits.values()], names=list(fits))
    pd.testing.assert_frame_equal(results.frame, compare(fits).frame)
    assert compare(fits["OLS"]).names == ("(1)",)
    with pytest.raises(ValueError, match="got 1 names for 2 fits"):
        compare([fits["OLS"], fits["LAD"]], names=["a"])
    with pytest.raises(ValueError, match="unique"):
        compare([fits["OLS"], fits["LAD"]], names=["a", "a"])
    with pytest.raises(ValueError, match="not both"):
        compare(fits, names=list(fits))
    with pytest.raises(ValueError, match=r"fit 1 \(OLS\) is neither a fitted estimator"):
        compare([fits["OLS"], tailreg.OLS()])
    with pytest.raises(ValueError, match="at least one fit"):
        compare([])
    with pytest.raises(ValueError, match="stat must be one of"):
        compare(fits, stat="bse")
    with pytest.raises(ValueError, match="alpha"):
        compare(fits, alpha=1.5)
    with pytest.raises(ValueError, match="digits"):
        compare(fits, digits=-1)
    with pytest.raises(ValueError, match="star thresholds"):
        compare(fits, stars=[5])


# -- renderings ---------------------------------------------------------------------------
def split_row(line: str) -> list[str]:
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def test_markdown_is_a_valid_aligned_table(fits):
    table = compare(fits, stars=True)
    text = table.to_markdown()
    lines, notes = text.split("\n\n")
    lines = lines.splitlines()
    assert notes == table.notes
    assert len({len(line) for line in lines}) == 1  # aligned: every row equally wide
    rows = [split_row(line) for line in lines]
    assert len({len(r) for r in rows}) == 1  # every row has the same number of cells
    assert rows[0] == ["", *fits]
    assert all(re.fullmatch(r":-+:?|-+:", c) for c in rows[1])
    body = [r[1:] for r in rows[2:]]
    assert body == table.frame.to_numpy().tolist()
    assert [r[0] for r in rows[2:]] == list(table.frame.index)


def test_markdown_escapes_pipes(fits):
    text = compare([fits["OLS"]], names=["a|b"]).to_markdown()
    assert "a\\|b" in text
    assert split_row(text.splitlines()[0]) == ["", "a\\|b"]


def latex_envs_balanced(tex: str) -> bool:
    stack = []
    for kind, env in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            return False
    return not stack


@pytest.mark.parametrize("booktabs", [False, True])
def test_latex_is_structurally_sound_and_escaped(fits, booktabs):
    table = compare(fits, stars=True)
    tex = table.to_latex(caption="Fits of y_i & co", label="tab:fits", booktabs=booktabs)
    assert latex_envs_balanced(tex)
    assert tex.startswith("\\begin{table}") and tex.endswith("\\end{table}")
    assert "\\begin{tabular}{lcccc}" in tex
    assert "x\\_1" in tex and "Fits of y\\_i \\& co" in tex
    assert not re.search(r"(?<!\\)[_&%#]", tex.replace(" & ", " ")), "unescaped special"
    rows = [line for line in tex.splitlines() if line.endswith("\\\\")]
    cell_rows = [r for r in rows if not r.startswith("\\multicolumn")]
    assert len(cell_rows) == 1 + len(table.frame)  # header + body
    assert all(r.count(" & ") == len(fits) for r in cell_rows)
    rules = ("\\toprule", "\\midrule", "\\bottomrule") if booktabs else ("\\hline",) * 3
    assert all(r in tex for r in rules)
    assert "\\toprule" not in table.to_latex()
    bare = table.to_latex()
    assert bare.startswith("\\begin{tabular}") and latex_envs_balanced(bare)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ok = True
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        self.ok &= bool(self.stack) and self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_well_formed_and_escaped(fits):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x<1>&": rng.normal(size=30)})
    y = X.iloc[:, 0] + rng.normal(size=30)
    table = compare({"<b>A&B</b>": tailreg.OLS().fit(X, y), "B": fits["LAD"]})
    out = table.to_html(caption="<script>")
    assert "<b>" not in out and "<script>" not in out
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in out and "x&lt;1&gt;&amp;" in out
    parser = _Collector()
    parser.feed(out)
    assert parser.ok and not parser.stack
    assert "x<1>&" in parser.text and "<b>A&B</b>" in parser.text  # the text round-trips
    assert out.count("<tr>") == 1 + len(table.frame) + 1  # header, body, notes
    assert table._repr_html_() == table.to_html()


def test_text_rendering(fits):
    table = compare(fits)
    text = str(table)
    lines = text.splitlines()
    assert lines[-1] == table.notes
    assert lines[0].split() == list(fits)
    assert sum(set(line) == {"-"} for line in lines) == 2  # under the header, above the footer
    assert "Observations" in text and "(0." in text
    assert repr(table) == text


def test_exports_need_no_optional_dependency(fits, monkeypatch):
    for name in ("tabulate", "jinja2"):
        monkeypatch.setitem(sys.modules, name, None)  # import would raise ImportError
    table = compare(fits, stat="ci", stars=True)
    for text in (table.to_markdown(), table.to_latex(), table.to_html(), str(table)):
        assert "x_1" in text or "x\\_1" in text


def test_docstring_examples():
    module = importlib.import_module("tailreg.compare")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


class _WithOptions:
    """A FitResult with covariance options (as ``with_cov(kind, **options)`` gives them)."""

    def __init__(self, result, kind, **options):
        self._result = result.with_cov(kind)
        self.cov_options = options

    def __getattr__(self, name):
        return getattr(self._result, name)


def test_covariance_options_are_shown_when_a_result_has_them(fits):
    est = fits["OLS"]
    with_opts = _WithOptions(est.result_, "HAC", maxlags=3)
    table = compare({"plain": est, "hac": with_opts})
    assert table.footer.at["Covariance", "plain"] == "classical"
    assert table.footer.at["Covariance", "hac"] == "HAC (maxlags=3)"
    assert "HAC (maxlags=3)" in table.to_markdown()
    assert table.bse.at["x_1", "hac"] == est.result_.bse("HAC")["x_1"]
