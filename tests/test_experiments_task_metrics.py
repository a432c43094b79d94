"""tailreg.simulation.task_metrics against independent computations: the engine's summarize,
numpy and scipy on the same numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tailreg.simulation import summarize
from tailreg.simulation.task_metrics import (
    IQR_NORMAL,
    critical_value,
    error_summary,
    group_means,
    interval_coverage,
    median_abs_errors,
    shape_distances,
    standardize,
)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """An engine-shaped replication table: 2 laws x 2 n, one estimator, one parameter."""
    rng = np.random.default_rng(17)
    parts = []
    for law, scale in (("normal", 1.0), ("t3", 2.0)):
        for n in (50, 200):
            R = 300
            est = 1.0 + scale / math.sqrt(n) * rng.standard_normal(R)
            se = scale / math.sqrt(n) * (1 + 0.1 * rng.standard_normal(R))
            parts.append(
                pd.DataFrame(
                    {
                        "design": "x",
                        "law": law,
                        "n": n,
                        "replication": np.arange(R),
                        "estimator": "ols",
                        "parameter": "x1",
                        "estimate": est,
                        "se_HC0": se,
                        "converged": rng.random(R) < 0.9,
                        "true_value": 1.0,
                        "pseudo_true": 1.0,
                        "avar": scale**2,
                        "crlb": np.nan,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


BY = ["law", "n"]


def test_error_summary_agrees_with_the_engine_summary(table):
    ref = summarize(table, bootstrap=0).set_index(BY)
    err = table.assign(e=table["estimate"] - table["true_value"])
    got = error_summary(err, BY, {"": "e"}).set_index(BY)
    for mine, theirs in (
        ("bias", "bias"),
        ("bias_mcse", "bias_mcse"),
        ("sd", "sd"),
        ("rmse", "rmse"),
        ("rmse_mcse", "rmse_mcse"),
    ):
        np.testing.assert_allclose(got[mine], ref.loc[got.index, theirs], rtol=1e-12)
    assert (got["R"] == 300).all()


def test_group_means_against_numpy(table):
    got = group_means(table, BY, ["estimate", "converged"], mcse=["estimate"])
    assert "converged_mcse" not in got
    for row in got.itertuples(index=False):
        d = table[(table["law"] == row.law) & (table["n"] == row.n)]
        assert row.estimate == pytest.approx(np.mean(d["estimate"]), rel=1e-14)
        sem = np.std(d["estimate"].to_numpy(), ddof=1) / math.sqrt(len(d))
        assert row.estimate_mcse == pytest.approx(sem, rel=1e-12)
        assert row.converged == pytest.approx(d["converged"].mean())
    # groups in order of first appearance
    assert list(zip(got["law"], got["n"], strict=True)) == [
        ("normal", 50),
        ("normal", 200),
        ("t3", 50),
        ("t3", 200),
    ]


def test_medae_and_coverage_agree_with_the_engine_summary(table):
    ref = summarize(table, bootstrap=0).set_index(BY)
    med = median_abs_errors(table, BY, table["estimate"] - table["true_value"]).set_index(BY)
    np.testing.assert_allclose(med["medae"], ref.loc[med.index, "medae"], rtol=1e-14)
    np.testing.assert_allclose(med["medae_mcse"], ref.loc[med.index, "medae_mcse"], rtol=1e-14)
    for (law, n), d in table.groupby(BY, sort=False):
        cov = interval_coverage(
            d["estimate"].to_numpy(), d["se_HC0"].to_numpy(), 1.0, critical_value("HC0", n - 2)
        )
        r = ref.loc[(law, n)]
        assert cov["coverage"] == pytest.approx(r["coverage_HC0"], abs=1e-15)
        assert cov["coverage_mcse"] == pytest.approx(r["coverage_HC0_mcse"], rel=1e-12)
        assert cov["mean_se"] == pytest.approx(r["mean_se_HC0"], rel=1e-12)
        assert cov["se_sd"] == pytest.approx(r["se_sd_HC0"], rel=1e-12)
        assert cov["n_rep"] == 300


def test_interval_coverage_edge_cases():
    x = np.array([0.0, 1.0, np.nan, 2.0])
    se = np.array([1.0, -1.0, 1.0, np.inf])
    assert interval_coverage(x, se, 0.0, 1.96) is None  # one usable replication
    assert interval_coverage(np.zeros(5), np.ones(5), math.nan, 1.96) is None
    c = interval_coverage(np.array([0.0, 3.0]), np.ones(2), 0.0, 1.96)
    assert c["coverage"] == 0.5 and c["coverage_mcse"] == pytest.approx(math.sqrt(0.125))


def test_critical_values():
    assert critical_value("classical", 10) == pytest.approx(stats.t.ppf(0.975, 10), rel=1e-15)
    assert critical_value("HC3", 10) == pytest.approx(1.959963984540054, rel=1e-15)
    assert critical_value("HC3", 10, level=0.9) == pytest.approx(1.6448536269514722)


def test_standardize_and_shape_distances(table):
    t = table.assign(avar=np.where(table["law"] == "t3", np.inf, table["avar"]))
    t.loc[(t["law"] == "normal") & (t["n"] == 200), "avar"] = np.nan
    z = standardize(t, BY)
    d = z[(z["law"] == "normal") & (z["n"] == 50)]
    np.testing.assert_allclose(d["z"], (d["estimate"] - 1.0) / math.sqrt(1.0 / 50))
    assert set(d["standardization"]) == {"theory"}
    d = z[(z["law"] == "t3") & (z["n"] == 50)]
    q1, med, q3 = np.percentile(d["estimate"], [25, 50, 75])
    np.testing.assert_allclose(d["z"], (d["estimate"] - med) / ((q3 - q1) / IQR_NORMAL))
    assert set(d["standardization"]) == {"iqr"}
    d = z[(z["law"] == "normal") & (z["n"] == 200)]
    assert set(d["standardization"]) == {"mc"}
    assert d["z"].mean() == pytest.approx(0.0, abs=1e-12)
    shape = shape_distances(z, BY, bootstrap=50)
    for row in shape.itertuples(index=False):
        zz = z[(z["law"] == row.law) & (z["n"] == row.n)]["z"].to_numpy()
        assert row.ks == pytest.approx(stats.kstest(zz, "norm").statistic, rel=1e-12)
        assert row.ks_null == pytest.approx(0.8687 / math.sqrt(300))
        assert 0 < row.ks_mcse < 0.1 and row.ad_mcse > 0
    # the bootstrap is seeded by the group: the same table gives the same MCSEs
    again = shape_distances(z, BY, bootstrap=50)
    pd.testing.assert_frame_equal(shape, again, check_exact=True)
