"""The quantile regression process (tailreg.estimators.quantile_process, solvers.quantile_path,
inference.quantile_tests).

References: R quantreg 5.94 — ``tests/reference/quantile.json`` (``anova``: Wald tests across
tau on data set "quantile") and ``tests/reference/quantile_process.json`` (``rq`` at
``tau = 1:19/20`` and ``1:9/10``; ``anova.rq`` joint/separate on the non-positive-sparsity data
set "quantile_nid" and on the 9-point grid). Single-tau ``QuantileRegression`` fits are the
reference for the process itself.
"""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from _reference import load_data, load_reference
from tailreg import OLS, QuantileProcess, QuantileRegression
from tailreg.estimators.quantile_process import GRID
from tailreg.solvers import quantile_path
from tailreg.solvers.quantile_lp import solve_quantile_one
from tailreg.solvers.quantile_path import frisch_newton_rhs, solve_quantile_path

matplotlib.use("Agg")

REF = load_reference("quantile")
PROC = load_reference("quantile_process")
NAMES = ["const", "x1", "x2"]


def data(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    df = load_data(name)
    return df[["x1", "x2"]], df["y"].to_numpy(float)


def close(ours, ref, tol: float = 1e-6) -> None:
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    err = np.abs(ours - ref) / np.maximum(1.0, np.abs(ref))
    assert err.max() <= tol, f"max scaled error {err.max():.2e}"


def hetero(n: int, seed: int, p: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ np.arange(1.0, p + 1) + (1.0 + 0.5 * np.abs(X[:, 0])) * rng.standard_t(3, n)
    return X, y


# --- R quantreg parity -----------------------------------------------------------------


@pytest.mark.parametrize(("key", "taus"), [("grid19", "grid"), ("grid9", 9)])
def test_grid_coefficients_match_rq(key, taus):
    X, y = data("quantile")
    qp = QuantileProcess(taus=taus).fit(X, y)
    np.testing.assert_allclose(qp.taus_, PROC[key]["taus"], rtol=0, atol=1e-15)
    close(qp.coef_.to_numpy(), PROC[key]["coef"])
    assert qp.reused_.sum() >= len(qp.taus_) - 1  # all but the start solved from a neighbour


def anova_cases():
    ref = REF["anova"]
    yield "quantile", ref["taus"], ref["joint"], ref["separate"], False
    for key, name in [("anova_nid", "quantile_nid"), ("anova_nid5", "quantile_nid")]:
        r = PROC[key]
        yield name, r["taus"], r["joint"], r["separate"], True
    r = PROC["anova_grid"]
    yield "quantile", r["taus"], r["joint"], r["separate"], False


@pytest.mark.parametrize("case", list(anova_cases()), ids=lambda c: f"{c[0]}-{len(c[1])}taus")
def test_equal_slopes_matches_anova_rq(case):
    name, taus, joint, separate, nonpositive = case
    X, y = data(name)
    qp = QuantileProcess(taus=taus).fit(X, y)
    for is_joint, ref in [(True, joint), (False, separate)]:
        if nonpositive:  # quantreg warns "<k> non-positive fis" and zeroes those densities
            with pytest.warns(RuntimeWarning, match="non-positive fis"):
                out = qp.test_equal_slopes(joint=is_joint)
        else:
            out = qp.test_equal_slopes(joint=is_joint)
        close(out["statistic"], np.atleast_1d(ref["Tn"]))
        close(out["pvalue"], np.atleast_1d(ref["pvalue"]))
        np.testing.assert_array_equal(out["df_num"], np.atleast_1d(ref["ndf"]))
        np.testing.assert_array_equal(out["df_denom"], np.atleast_1d(ref["ddf"]))
    assert list(out.index) == ["x1", "x2"]


def test_stacked_covariance_matches_quantreg():
    from tailreg.inference.quantile_tests import stacked_covariance

    X, y = data("quantile")
    qp = QuantileProcess(taus=REF["anova"]["taus"]).fit(X, y)
    W = stacked_covariance([qp.results_[t] for t in qp.taus_])
    close(W, REF["anova"]["stacked_covariance"], tol=1e-8)
    # its diagonal blocks are each fit's nid covariance
    for i, t in enumerate(qp.taus_):
        close(W[3 * i : 3 * i + 3, 3 * i : 3 * i + 3], qp.results_[t].cov("nid"), tol=1e-12)


def test_equal_slopes_subset_and_errors():
    X, y = data("quantile")
    qp = QuantileProcess(taus=REF["anova"]["taus"]).fit(X, y)
    one = qp.test_equal_slopes(params="x1", joint=True)
    sep = qp.test_equal_slopes(joint=False)
    close(one.loc["joint", "statistic"], sep.loc["x1", "statistic"], tol=1e-12)
    with pytest.raises(ValueError, match="coefficient names"):
        qp.test_equal_slopes(params=["nope"])
    single = QuantileProcess(taus=(0.5,)).fit(X, y)
    with pytest.raises(ValueError, match="at least two"):
        single.test_equal_slopes()


# --- the process equals single fits ----------------------------------------------------


@pytest.mark.parametrize(("n", "seed"), [(60, 0), (500, 1), (4000, 2)])
def test_process_equals_single_fits(n, seed):
    X, y = hetero(n, seed)
    taus = (0.05, 0.2, 0.5, 0.7, 0.95)
    qp = QuantileProcess(taus=taus, cov="iid").fit(X, y)
    for t in taus:
        single = QuantileRegression(tau=t, solver="interior-point").fit(X, y).result_
        ours = qp.results_[t]
        np.testing.assert_allclose(ours.params, single.params, rtol=0, atol=1e-10)
        assert ours.objective == pytest.approx(single.objective, rel=1e-13)
        assert ours.scale == pytest.approx(single.scale, rel=1e-13)
        assert ours.loglik == pytest.approx(single.loglik, rel=1e-13)
        assert ours.cov_kind == "iid" and ours.nobs == n and ours.extra["tau"] == t
        for kind in ("iid", "nid", "ker"):
            try:
                expected = single.bse(kind)
            except ValueError as err:  # tau +- h outside (0, 1) at small n: the same error
                with pytest.raises(ValueError, match="bandwidth leaves"):
                    ours.bse(kind)
                assert "bandwidth leaves" in str(err)
                continue
            np.testing.assert_allclose(ours.bse(kind), expected, rtol=1e-8)
    # the start (tau nearest 1/2) is the single fit's own path: identical to the bit
    start = QuantileRegression(tau=0.5, solver="interior-point").fit(X, y).result_
    np.testing.assert_array_equal(qp.results_[0.5].params, start.params)
    if n >= 500:
        assert qp.reused_.sum() == len(taus) - 1


@pytest.mark.parametrize("solver", ["highs", "interior-point"])
def test_solver_option_reaches_the_full_fits(solver):
    X, y = hetero(300, 3)
    qp = QuantileProcess(taus=5, solver=solver).fit(X, y)
    assert all(r.extra["solver"] == solver for r in qp.results_.values())
    single = QuantileRegression(tau=0.5, solver=solver).fit(X, y)
    np.testing.assert_array_equal(qp.coef_.loc[0.5], single.result_.params)


def test_fixups_and_fallback_keep_the_answer(monkeypatch):
    """A band too narrow forces fix-ups/doublings; no fix-up at all falls back to full fits."""
    X, y = hetero(3000, 4, p=3)
    Xc = np.column_stack([np.ones(len(y)), X])
    taus = [0.1, 0.3, 0.5, 0.7, 0.9]
    ref = [solve_quantile_one(Xc, y, t, "interior-point") for t in taus]
    monkeypatch.setattr(quantile_path, "_BAND_FACTOR", 0.02)
    narrow, used = solve_quantile_path(Xc, y, taus)
    assert sum(used) == 4
    monkeypatch.setattr(quantile_path, "_MAX_FIXUPS", 0)
    fallback, used0 = solve_quantile_path(Xc, y, taus)
    assert sum(used0) == 0
    for a, b, c in zip(narrow, fallback, ref, strict=True):
        np.testing.assert_allclose(a.beta, c.beta, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(b.beta, c.beta)


def test_tied_responses_reach_the_optimal_objective():
    """Integer responses: optima need not be unique, the objective is still the LP minimum."""
    rng = np.random.default_rng(5)
    X = rng.integers(0, 4, size=(2000, 2)).astype(float)
    y = np.round(X.sum(axis=1) + rng.standard_normal(2000))
    qp = QuantileProcess(taus="grid", cov="iid").fit(X, y)
    for t in qp.taus_:
        single = QuantileRegression(tau=t).fit(X, y).result_
        assert qp.results_[t].objective == pytest.approx(single.objective, rel=1e-12, abs=1e-9)


def test_reduced_interior_point_solves_the_glob_free_problem():
    """With nothing globbed the reduced problem is the full one: frisch_newton's answer."""
    X, y = hetero(400, 6)
    Xc = np.column_stack([np.ones(400), X])
    b = 0.3 * Xc.sum(axis=0)
    beta, n_iter = frisch_newton_rhs(Xc, y, b, 0.7)
    ref = solve_quantile_one(Xc, y, 0.7, "highs").beta
    np.testing.assert_allclose(beta, ref, rtol=0, atol=1e-6)
    assert 0 < n_iter < 100


# --- estimator surface -------------------------------------------------------------------


def test_coef_frame_results_mapping_and_names():
    X, y = data("quantile")
    qp = QuantileProcess().fit(X, y)
    assert list(qp.coef_.columns) == NAMES and qp.coef_.index.name == "tau"
    np.testing.assert_array_equal(qp.coef_.index, [0.1, 0.25, 0.5, 0.75, 0.9])
    assert set(qp.results_) == {0.1, 0.25, 0.5, 0.75, 0.9}
    assert all(r.cov_kind == "nid" for r in qp.results_.values())
    with pytest.raises(TypeError):
        qp.results_[0.3] = qp.results_[0.5]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        qp.results_[0.5].scale = 1.0  # type: ignore[misc]
    np.testing.assert_array_equal(qp.coef_.loc[0.25], qp.results_[0.25].params)
    ref = REF["fits"]["tau0.25"]
    close(qp.coef_.loc[0.25], [ref["coef"][c] for c in REF["coef_names"]])
    close(qp.results_[0.25].bse(), [ref["nid_hs_true"]["se"][c] for c in REF["coef_names"]])
    plain = QuantileProcess(fit_intercept=False).fit(X.to_numpy(), y)
    single = QuantileRegression(fit_intercept=False).fit(X.to_numpy(), y).result_
    assert list(plain.coef_.columns) == list(single.params.index) == ["x1", "x2"]
    assert clone(qp).get_params() == qp.get_params()


def test_taus_grid_options_and_bad_input():
    X, y = hetero(200, 7)
    assert tuple(QuantileProcess(taus="grid").fit(X, y).taus_) == GRID
    np.testing.assert_allclose(QuantileProcess(taus=4).fit(X, y).taus_, [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_array_equal(QuantileProcess(taus=[0.7, 0.2]).fit(X, y).taus_, [0.2, 0.7])
    for bad, match in [
        ("deciles", "grid"),
        (0, "grid size"),
        ([0.5, 1.0], r"\(0, 1\)"),
        ([0.2, 0.2], "distinct"),
        ([], "non-empty"),
    ]:
        with pytest.raises(ValueError, match=match):
            QuantileProcess(taus=bad).fit(X, y)
    with pytest.raises(ValueError, match="cov must be"):
        QuantileProcess(cov="hc3").fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        QuantileProcess(solver="simplex").fit(X, y)


def test_predict_and_rearrangement_monotone():
    X, y = hetero(150, 8)  # small n: quantile lines cross somewhere in the design
    qp = QuantileProcess(taus="grid").fit(X, y)
    Xnew = np.random.default_rng(9).standard_normal((400, 2)) * 3
    raw = qp.predict(Xnew)
    assert raw.shape == (400, 19)
    np.testing.assert_allclose(raw[:, 4], QuantileRegression(tau=0.25).fit(X, y).predict(Xnew))
    assert np.any(np.diff(raw, axis=1) < 0)  # crossing exists, so the test below can fail
    fixed = qp.predict(Xnew, rearrange=True)
    assert np.all(np.diff(fixed, axis=1) >= 0)
    np.testing.assert_array_equal(np.sort(raw, axis=1), fixed)  # a per-row rearrangement


def test_sample_weight_per_tau():
    X, y = hetero(300, 10)
    w = np.random.default_rng(11).integers(1, 4, 300).astype(float)
    if not QuantileRegression.supports_sample_weight:
        with pytest.raises(ValueError, match="does not support sample_weight"):
            QuantileRegression().fit(X, y, sample_weight=w)
        with pytest.raises(ValueError, match="does not support sample_weight"):
            QuantileProcess().fit(X, y, sample_weight=w)
        return
    qp = QuantileProcess(taus=(0.25, 0.5, 0.75)).fit(X, y, sample_weight=w)
    for t in qp.taus_:
        single = QuantileRegression(tau=t, solver="interior-point").fit(X, y, sample_weight=w)
        np.testing.assert_allclose(qp.results_[t].params, single.result_.params, atol=1e-10)
        for kind in ("iid", "nid"):
            np.testing.assert_allclose(
                qp.results_[t].bse(kind), single.result_.bse(kind), rtol=1e-10
            )


# --- rank intervals per tau ----------------------------------------------------------------


@pytest.mark.parametrize("iid", [True, False])
def test_rank_conf_int_per_tau(iid):
    X, y = data("quantile")
    qp = QuantileProcess(taus=(0.25, 0.5, 0.75)).fit(X, y)
    out = qp.rank_conf_int(level=0.9, iid=iid)
    assert out.index.names == ["tau", "param"] and list(out.columns) == ["lower", "upper"]
    for t in qp.taus_:
        single = QuantileRegression(tau=t).fit(X, y).rank_conf_int(level=0.9, iid=iid)
        pd.testing.assert_frame_equal(out.loc[t], single, check_names=False)
        coef = qp.coef_.loc[t].to_numpy()
        assert np.all(out.loc[t, "lower"] <= coef) and np.all(coef <= out.loc[t, "upper"])


# --- figure -------------------------------------------------------------------------------


def test_plot_panels_lines_and_ols_reference():
    X, y = data("quantile")
    qp = QuantileProcess(taus="grid").fit(X, y)
    fig = qp.plot()
    assert len(fig.axes) == 3
    ols = OLS().fit(X, y).result_
    ci = ols.conf_int(alpha=0.10)
    for ax, name in zip(fig.axes, NAMES, strict=True):
        assert ax.get_title() == name
        line = ax.lines[0]
        np.testing.assert_array_equal(line.get_xdata(), qp.taus_)
        np.testing.assert_array_equal(line.get_ydata(), qp.coef_[name].to_numpy())
        hlines = [float(h.get_ydata()[0]) for h in ax.lines[1:]]
        np.testing.assert_allclose(hlines, [ols.params[name], *ci.loc[name]], rtol=1e-10)
        band = ax.collections[0].get_paths()[0].vertices[:, 1]
        lo = [qp.results_[t].conf_int(alpha=0.10).loc[name].iloc[0] for t in qp.taus_]
        assert np.isclose(band, lo[0]).any() and np.isclose(band, lo[-1]).any()
    two = qp.plot(params=["x2"], level=0.8, ols=False)
    assert len(two.axes) == 1 and len(two.axes[0].lines) == 1
    with pytest.raises(ValueError, match="unknown params"):
        qp.plot(params=["x9"])
    with pytest.raises(ValueError, match="level"):
        qp.plot(level=1.5)
    import matplotlib.pyplot as plt

    plt.close("all")
