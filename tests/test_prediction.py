"""predict_interval: predict.lm parity, the delta method for every estimator, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

import tailreg
from _reference import load_data, load_reference
from tailreg.formula import fit_formula

ESTIMATORS = [
    tailreg.OLS(),
    tailreg.GaussianMLE(),
    tailreg.Huber(),
    tailreg.Bisquare(),
    tailreg.LAD(),
    tailreg.QuantileRegression(tau=0.3),
    tailreg.MM(random_state=7),
    tailreg.StudentTMLE(df=3),
]


def hetero_design(df):
    dummies = [(np.asarray(df["f"]) == lev).astype(float) for lev in ("b", "c", "d")]
    return np.column_stack([np.asarray(df[c], dtype=float) for c in ("x1", "x2", "x3")] + dummies)


@pytest.fixture(scope="module")
def ref():
    return load_reference("modelling")["predict"]


@pytest.fixture(scope="module")
def new_rows(ref):
    return hetero_design(pd.DataFrame(ref["newdata"]))


@pytest.mark.parametrize("which", ["unweighted", "weighted"])
@pytest.mark.parametrize("level", [0.95, 0.90])
def test_ols_matches_predict_lm(ref, new_rows, which, level):
    df = load_data("hetero")
    w = df["w"].to_numpy() if which == "weighted" else None
    est = tailreg.OLS().fit(hetero_design(df), df["y"].to_numpy(), sample_weight=w)
    block = ref[which][f"level{level:.2f}"]
    ci = est.predict_interval(new_rows, level=level)
    np.testing.assert_allclose(ci["se"], ref[which]["se_fit"], rtol=1e-6)
    np.testing.assert_allclose(ci[["mean", "lower", "upper"]], block["confidence"], rtol=1e-6)
    pi = est.predict_interval(new_rows, level=level, kind="prediction")
    np.testing.assert_allclose(
        pi[["mean", "lower", "upper"]], block["prediction_default_weights"], rtol=1e-6
    )
    if which == "weighted":
        pw = est.predict_interval(new_rows, level, "prediction", weights=ref["new_weights"])
        np.testing.assert_allclose(
            pw[["mean", "lower", "upper"]], block["prediction_new_weights"], rtol=1e-6
        )


@pytest.mark.parametrize("which", ["unweighted", "weighted"])
def test_gaussian_mle_prediction_is_predict_lm(ref, new_rows, which):
    est = tailreg.GaussianMLE()
    if which == "weighted" and not type(est).supports_sample_weight:
        with pytest.raises(ValueError, match="does not support sample_weight"):
            est.fit(np.ones((5, 1)), np.arange(5.0), sample_weight=np.ones(5))
        return
    df = load_data("hetero")
    w = df["w"].to_numpy() if which == "weighted" else None
    est.fit(hetero_design(df), df["y"].to_numpy(), sample_weight=w)
    block = ref[which]["level0.95"]
    pi = est.predict_interval(new_rows, kind="prediction")
    np.testing.assert_allclose(
        pi[["mean", "lower", "upper"]], block["prediction_default_weights"], rtol=1e-6
    )
    # its confidence interval is the delta method under oim with the normal reference
    ci = est.predict_interval(new_rows)
    V = est.result_.cov().to_numpy()[:-1, :-1]
    x0 = np.column_stack([np.ones(len(new_rows)), new_rows])
    se = np.sqrt(np.einsum("ij,jk,ik->i", x0, V, x0))
    np.testing.assert_allclose(ci["se"], se, rtol=1e-12)
    np.testing.assert_allclose(ci["upper"] - ci["mean"], stats.norm.ppf(0.975) * se, rtol=1e-12)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_confidence_is_the_delta_method_under_the_current_covariance(est, rng):
    n = 80
    X = rng.normal(size=(n, 2))
    y = 1 + X @ [1.0, -0.5] + rng.standard_t(3, n)
    est = clone(est).fit(X, y)
    X0 = rng.normal(size=(4, 2))
    for kind in est.cov_kinds[:2]:
        if kind == "bootstrap":
            continue
        est.result_ = est.result_.with_cov(kind)
        res = est.result_
        out = est.predict_interval(X0, level=0.9)
        k = 3
        V = res.cov().to_numpy()[:k, :k]
        x0 = np.column_stack([np.ones(4), X0])
        se = np.sqrt(np.einsum("ij,jk,ik->i", x0, V, x0))
        q = (stats.t(res.df_resid) if res.use_t else stats.norm()).ppf(0.95)
        np.testing.assert_allclose(out["mean"], est.predict(X0), rtol=1e-12)
        np.testing.assert_allclose(out["se"], se, rtol=1e-10)
        np.testing.assert_allclose(out["lower"], out["mean"] - q * se, rtol=1e-10)
        np.testing.assert_allclose(out["upper"], out["mean"] + q * se, rtol=1e-10)
    pi = est.predict_interval(X0, level=0.9, kind="prediction")
    assert (pi["lower"] < out["lower"]).all() and (pi["upper"] > out["upper"]).all()


def test_error_law_interval_is_the_convolution_quantile(rng):
    """F(lower) = alpha/2, F(upper) = 1 - alpha/2, F = mean_i Phi((t - r_i sqrt(n/(n-k)))/se)."""
    n = 60
    X = rng.normal(size=(n, 1))
    est = tailreg.Huber().fit(X, 2 + X[:, 0] + rng.standard_t(2, n))
    out = est.predict_interval(rng.normal(size=(3, 1)), level=0.8, kind="prediction")
    r = est.result_.resid * np.sqrt(n / (n - 2))  # modified residuals
    for row in out.itertuples():
        F = lambda t, row=row: stats.norm.cdf((t - row.mean - r) / row.se).mean()  # noqa: E731
        np.testing.assert_allclose([F(row.lower), F(row.upper)], [0.1, 0.9], atol=1e-12)


def _coverage(est, law, n=200, reps=200, m=20, seed=20261202):
    """Per-replication coverage of m new responses at fixed new x0: mean and MCSE."""
    rng = np.random.default_rng(seed)
    X0 = rng.normal(size=(m, 2))
    cover = np.empty(reps)
    for r in range(reps):
        X = rng.normal(size=(n, 2))
        y = 1 + X @ [1.0, -1.0] + law(rng, n)
        fit = clone(est).fit(X, y)
        out = fit.predict_interval(X0, level=0.9, kind="prediction")
        y0 = 1 + X0 @ [1.0, -1.0] + law(rng, m)
        cover[r] = np.mean((out["lower"] <= y0) & (y0 <= out["upper"]))
    return cover.mean(), cover.std(ddof=1) / np.sqrt(reps)


@pytest.mark.parametrize(
    ("est", "law"),
    [
        (tailreg.Huber(), lambda rng, n: rng.standard_t(3, n)),
        (tailreg.LAD(), lambda rng, n: rng.lognormal(0.0, 0.8, n)),  # skewed: location is off
        (tailreg.OLS(), lambda rng, n: rng.normal(size=n)),
    ],
    ids=["Huber-t3", "LAD-lognormal", "OLS-normal"],
)
def test_prediction_interval_coverage_monte_carlo(est, law):
    cover, mcse = _coverage(est, law)
    assert abs(cover - 0.9) < 3 * mcse, (cover, mcse)


def test_data_frames_in_and_out():
    df = load_data("hetero")
    est = fit_formula("y ~ x1 + x2 + x3 + C(f)", df, tailreg.Huber())
    new = df.head(4).drop(columns="y").set_index(pd.Index(list("abcd")))
    out = est.predict_interval(new, kind="prediction")
    assert list(out.index) == list("abcd")
    assert list(out.columns) == ["mean", "se", "lower", "upper"]
    np.testing.assert_allclose(out["mean"], est.predict(new))
    arr = tailreg.Huber().fit(hetero_design(df), df["y"].to_numpy())
    np.testing.assert_allclose(
        arr.predict_interval(hetero_design(new)).to_numpy(),
        est.predict_interval(new).to_numpy(),
        rtol=1e-12,
    )


def test_bad_arguments(rng):
    X = rng.normal(size=(30, 1))
    est = tailreg.OLS().fit(X, X[:, 0] + rng.normal(size=30))
    with pytest.raises(ValueError, match="kind must be one of"):
        est.predict_interval(X[:2], kind="tolerance")
    with pytest.raises(ValueError, match="level must lie in"):
        est.predict_interval(X[:2], level=95)
    with pytest.raises(ValueError, match="one per new row"):
        est.predict_interval(X[:2], kind="prediction", weights=[1.0, -1.0])
    hub = tailreg.Huber().fit(X, X[:, 0] + rng.normal(size=30))
    with pytest.raises(ValueError, match="OLS and GaussianMLE only"):
        hub.predict_interval(X[:2], kind="prediction", weights=[1.0, 1.0])
