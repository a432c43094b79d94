"""End-to-end run of experiments/normality.py in a tiny configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailreg.reproduce import load_study


def load(name: str):
    return load_study(name)


TINY = """
name = "normality-tiny"
seed = 11
replications = 60
sample_sizes = [50, 400]
seed_block = 20
figure_laws = ["normal", "t1.5", "lognormal"]
qq_laws = ["normal", "t1.5", "lognormal"]
skewed_laws = ["lognormal"]
[[designs]]
x = "normal"
beta = [1.0]
intercept = 1.0
label = "x normal"
[[designs]]
x = "lognormal"
beta = [1.0]
intercept = 1.0
label = "x lognormal"
[[estimators]]
name = "ols"
kinds = []
[[estimators]]
name = "huber"
kinds = []
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
label = "normal"
[[errors]]
law = "t"
df = 1.5
center = "median"
scale = "iqr"
label = "t1.5"
[[errors]]
law = "lognormal"
s = 1.0
center = "mean"
scale = "iqr"
label = "lognormal"
"""


@pytest.fixture(scope="module")
def run(run_tiny_study):
    return run_tiny_study("normality", TINY)


def test_files_exist(run):
    _, out = run
    for stem in ("shape", "skewness_theory"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.md").is_file()
    for fig in ("fig_qq_slope", "fig_ks_ad_slope", "fig_moments_intercept", "fig_skewness_design"):
        assert (out / f"{fig}.png").is_file() and (out / f"{fig}.svg").is_file()
    assert (out / "meta.json").is_file()


def test_standardization_and_shape(run):
    mod, out = run
    sh = pd.read_csv(out / "shape.csv").set_index(["design", "law", "n", "estimator", "parameter"])
    # infinite variance: OLS is standardized by its IQR, Huber by its theoretical V
    assert sh.loc[("x normal", "t1.5", 400, "ols", "x1"), "standardization"] == "iqr"
    assert sh.loc[("x normal", "t1.5", 400, "huber", "x1"), "standardization"] == "theory"
    # at the normal, z is N(0, 1): KS within 4 noise levels
    row = sh.loc[("x normal", "normal", 400, "ols", "x1")]
    assert row["ks"] < 4 * row["ks_null"]
    text = mod.report_section(out, "normality")
    assert "(normality/fig_qq_slope.png)" in text


def test_skewness_theory(run):
    _, out = run
    th = pd.read_csv(out / "skewness_theory.csv").set_index(["design", "n", "parameter"])
    # symmetric x: the intercept weights are ~1/n (ratio ~ n^-1/2), the slope's cancel
    icpt = th.loc[("x normal", 400, "const"), "weight_ratio"]
    assert abs(icpt - 400**-0.5) < 0.1 * 400**-0.5
    assert abs(th.loc[("x normal", 400, "x1"), "weight_ratio"]) < 0.2 * icpt
    # skewed x: the slope's weights are skewed too (ratio ~ gamma_1(x)/sqrt(n) > 0)
    assert th.loc[("x lognormal", 400, "x1"), "weight_ratio"] > icpt


def test_standardize_known_answer():
    mod = load("normality")
    rng = np.random.default_rng(1)
    x = 1.0 + 0.1 * rng.standard_normal(500)
    reps = pd.DataFrame(
        {
            "design": "d",
            "law": "l",
            "n": 100,
            "estimator": "ols",
            "parameter": "x1",
            "estimate": x,
            "pseudo_true": 1.0,
            "avar": 1.0,
        }
    )
    z = mod.standardize(reps)["z"].to_numpy()
    assert np.allclose(z, (x - 1.0) / 0.1)
