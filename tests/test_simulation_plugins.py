"""Plug-in estimators: any scikit-learn-style regressor by import path, no registry edit."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tailreg.simulation import SimulationError, Study, run_study, summarize
from tailreg.simulation.registry import ESTIMATORS

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _plugins_importable(monkeypatch):
    # the plug-in classes live in tests/sim_plugins.py, a module src/ never names
    monkeypatch.syspath_prepend(str(HERE))


def _study(estimators, law=None, **kw):
    d = {
        "name": "plugins",
        "seed": 11,
        "replications": 60,
        "sample_sizes": [30, 80],
        "seed_block": 20,
        "design": {"x": "uniform", "beta": [1.5, -0.5]},
        "errors": [law or {"law": "lognormal", "s": 0.5, "center": "mean"}],
        "estimators": estimators,
        **kw,
    }
    return Study.from_dict(d)


def _wide(table, est):
    t = table.loc[table.estimator == est]
    return t.pivot_table(index=["n", "replication"], columns="parameter", values="estimate")


def test_sklearn_linear_regression_equals_ols():
    s = _study([{"name": "ols"}, {"name": "sklearn.linear_model:LinearRegression"}])
    table = run_study(s, progress=False).replications
    ols, skl = _wide(table, "ols"), _wide(table, "sklearn.linear_model:LinearRegression")
    assert len(ols) == 2 * 60
    np.testing.assert_allclose(skl[["x1", "x2"]], ols[["x1", "x2"]], rtol=0, atol=1e-10)
    np.testing.assert_allclose(skl["const"], ols["const"], rtol=0, atol=1e-10)
    sk = table.loc[table.estimator == "sklearn.linear_model:LinearRegression"]
    # no result_: no standard errors; no target(): no pseudo-true values ("no theory")
    assert sk.filter(like="se_").isna().all().all()
    assert sk["pseudo_true"].isna().all() and (sk["theory"] == "none").all()
    assert np.isfinite(sk["crlb"]).all() and np.isfinite(sk["true_value"]).all()
    assert sk["converged"].all() and (sk["error"] == "").all()


def test_test_module_estimator_has_its_own_targets():
    assert "sim_plugins:MedianInterceptOLS" not in ESTIMATORS
    s = _study(
        [{"name": "ols"}, {"name": "sim_plugins:MedianInterceptOLS", "label": "median-ols"}],
        replications=600,
        seed_block=100,
        sample_sizes=[200],
    )
    run = run_study(s, progress=False)
    table = run.replications
    mine = table.loc[table.estimator == "median-ols"]
    median = 1.0 - math.exp(0.125)  # lognormal(s=0.5) centred at its mean
    const = mine.loc[mine.parameter == "const"]
    assert const["pseudo_true"].iloc[0] == pytest.approx(1.0 + median, rel=1e-12)
    assert (const["theory"] == "").all()
    summ = summarize(table, reference="ols")
    row = summ.set_index(["estimator", "parameter"])
    # the intercept is centred at its own target, not at the mean the OLS intercept targets
    assert (
        abs(row.loc[("median-ols", "const"), "bias_pseudo"])
        < 4 * row.loc[("median-ols", "const"), "bias_pseudo_mcse"]
    )
    assert (
        abs(row.loc[("median-ols", "const"), "bias"])
        > 10 * row.loc[("median-ols", "const"), "bias_mcse"]
    )
    # slopes: OLS's variance, and the same estimates as OLS
    for p in ("x1", "x2"):
        r = row.loc[("median-ols", p)]
        assert abs(r["nvar_ratio"] - 1) < 4 * r["nvar_ratio_mcse"]
        assert r["avar"] == pytest.approx(row.loc[("ols", p), "avar"], rel=1e-12)


def test_huber_regressor_records_scale_iterations_and_warnings():
    s = _study(
        [
            {"name": "sklearn.linear_model:HuberRegressor", "epsilon": 1.35, "alpha": 0.0},
            {"name": "sklearn.linear_model:HuberRegressor", "max_iter": 2, "label": "short"},
        ]
    )
    table = run_study(s, progress=False).replications
    full = table.loc[table.estimator == "sklearn.linear_model:HuberRegressor"]
    short = table.loc[table.estimator == "short"]
    assert np.isfinite(full["scale"]).all() and (full["n_iter"] > 2).all()
    assert full["converged"].all() and (full["n_warnings"] == 0).all()
    # every fit of the short one stops early: a ConvergenceWarning per replication
    assert not short["converged"].any()
    summ = summarize(table, reference=None).set_index(["estimator", "n", "parameter"]).sort_index()
    assert (summ.loc["short", "warnings"] >= 60).all()
    assert summ.loc["short", "first_warning"].str.startswith("ConvergenceWarning: ").all()
    assert (summ.loc["sklearn.linear_model:HuberRegressor", "warnings"] == 0).all()


def test_batched_plugin_warnings_are_counted_per_fit_call(tmp_path):
    s = _study([{"name": "sim_plugins:WarningOLS", "kinds": ["HC0"]}])
    run = run_study(s, out=tmp_path, progress=False)
    table = run.replications
    assert np.isfinite(table["se_HC0"]).all()  # tailreg-style: SEs from its fit_many
    first = table.loc[table.parameter == "const"]
    # one warning per seed block (3 blocks of 20 per cell), on the block's first replication
    assert first.groupby("n")["n_warnings"].sum().tolist() == [3, 3]
    assert set(first.loc[first.n_warnings > 0, "replication"]) == {0, 20, 40}
    summ = summarize(table)
    assert (summ["warnings"] == 3).all()
    assert (summ["first_warning"] == "UserWarning: fit_many was called").all()
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert [w["warnings"] for w in meta["warnings"]] == [3, 3]


def test_theory_failures_are_counted_and_reported(tmp_path):
    s = _study([{"name": "ols"}, {"name": "sim_plugins:NoTheoryOLS", "label": "nt"}])
    table = run_study(s, out=tmp_path, progress=False).replications
    nt = table.loc[table.estimator == "nt"]
    assert nt["theory"].str.startswith("failed: target: ValueError: no closed form").all()
    # it states a target (the slopes stay consistent); the intercept's is NaN, and said so
    assert nt.loc[nt.parameter == "const", "pseudo_true"].isna().all()
    assert (nt.loc[nt.parameter == "x1", "pseudo_true"] == 1.5).all()
    assert (table.loc[table.estimator == "ols", "theory"] == "").all()
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert len(meta["theory_failures"]) == 2  # one per cell
    assert {f["estimator"] for f in meta["theory_failures"]} == {"nt"}
    summ = summarize(table)
    assert summ.loc[summ.estimator == "nt", "theory"].str.contains("failed:").all()
    assert (summ.loc[summ.estimator == "ols", "theory"] == "").all()


def test_a_failing_fit_is_a_recorded_row_within_max_errors():
    spec = {"name": "sim_plugins:MedianInterceptOLS", "fail_above": 3.0}
    s = _study([spec], max_errors=1000)
    table = run_study(s, progress=False).replications
    bad = table.loc[table["error"] != ""]
    assert len(bad) > 0 and len(bad) < len(table)
    assert bad["error"].str.startswith("RuntimeError: y[0] = ").all()
    assert bad["estimate"].isna().all() and not bad["converged"].any()
    with pytest.raises(SimulationError, match=r"exceed max_errors=0.*RuntimeError: y\[0\]"):
        run_study(s.replace(max_errors=0), progress=False)


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (
            {"name": "no_such_module:Thing"},
            r"estimators\[1\]: cannot import module 'no_such_module'",
        ),
        (
            {"name": "sklearn.linear_model:NoSuchRegressor"},
            r"estimators\[1\]: module .* no attribute",
        ),
        ({"name": "math:pi"}, r"estimators\[1\]: 'math:pi' is not a class"),
        ({"name": "collections:OrderedDict"}, r"estimators\[1\]: .* is not a regressor"),
        (
            {"name": "sklearn.linear_model:LinearRegression", "alpha": 1.0},
            r"estimators\[1\] \(sklearn.linear_model:LinearRegression\): constructing it",
        ),
        ({"name": "sim_plugins:BrokenFit"}, r"estimators\[1\]: fitting it to a probe .*cannot fit"),
        ({"name": "sim_plugins:WrongShape"}, r"estimators\[1\]: WrongShape.coef_ has shape \(7,\)"),
        (
            {"name": "sklearn.linear_model:HuberRegressor", "epsilon": 0.5},
            r"estimators\[1\]: fitting it to a probe .*epsilon",
        ),
        ({"name": "sim_plugins:WarningOLS", "kinds": ["H1"]}, r"estimators\[1\]\.kinds: \['H1'\]"),
        ({"name": "sklearn.linear_model:Ridge", "kinds": ["HC0"]}, r"estimators\[1\]\.kinds"),
        ({"name": "sklearn.linear_model:Ridge", "cv": {"a": 1}}, r"tables are not accepted"),
        ({"name": ":Ridge"}, r"is not an import path"),
    ],
)
def test_bad_plugins_are_clear_errors_naming_the_key(estimator, match):
    with pytest.raises(ValueError, match=match):
        _study([{"name": "ols"}, estimator])


def test_plugins_run_identically_on_every_backend():
    s = _study(
        [
            {"name": "sklearn.linear_model:HuberRegressor", "alpha": 0.0},
            {"name": "sim_plugins:MedianInterceptOLS"},
        ],
        law={"law": "scipy.stats:gennorm", "beta": 1.2},
    )
    serial = run_study(s, progress=False).replications
    procs = run_study(s, backend="processes", workers=2, block_size=20, progress=False)
    pd.testing.assert_frame_equal(procs.replications, serial, check_exact=True)


def test_plugin_study_round_trips_and_keeps_its_resolved_kinds():
    s = _study(
        [{"name": "sklearn.linear_model:Ridge", "alpha": 0.5}, {"name": "sim_plugins:WarningOLS"}]
    )
    assert s.estimators[0].kinds == ()  # no result_: nothing to record
    assert s.estimators[1].kinds is None  # states cov_kinds: the run-time default applies
    assert Study.from_dict(s.to_dict()) == s
    assert "sim_plugins" in sys.modules
