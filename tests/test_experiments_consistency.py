"""End-to-end run of experiments/consistency.py in a tiny configuration."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from tailreg_experiments.common import config_file

from tailreg.reproduce import load_study


def load(name: str):
    return load_study(name)


TINY = """
name = "consistency-tiny"
seed = 7
replications = 30
sample_sizes = [50, 200, 800]
seed_block = 10
figure_laws = ["normal", "Cauchy"]
[design]
x = "normal"
beta = [1.0]
intercept = 1.0
[costly]
replications = 6
estimators = ["student_t"]
[targets]
n = 4000
[[estimators]]
name = "ols"
kinds = []
[[estimators]]
name = "huber"
kinds = []
[[estimators]]
name = "student_t"
kinds = []
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
label = "normal"
[[errors]]
law = "cauchy"
center = "median"
scale = "iqr"
label = "Cauchy"
[[errors]]
law = "lognormal"
s = 1.0
center = "mean"
scale = "iqr"
label = "lognormal"
"""


@pytest.fixture(scope="module")
def run(run_tiny_study):
    return run_tiny_study("consistency", TINY)


def test_files_exist(run):
    _, out = run
    for stem in ("summary", "rates", "targets", "medae"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.md").is_file()
    for fig in (
        "fig_rmse_slope",
        "fig_rmse_intercept",
        "fig_bias_slope",
        "fig_bias_intercept",
        "fig_medae_slope",
        "fig_rates",
    ):
        assert (out / f"{fig}.png").is_file() and (out / f"{fig}.svg").is_file()
    assert (out / "meta.json").is_file()


def test_known_answers(run):
    mod, out = run
    s = pd.read_csv(out / "summary.csv")
    # OLS intercept target under the mean-centred lognormal is the nominal intercept 1;
    # LAD-type targets are 1 + median of the law, the Huber one lies between
    ols = s[(s["law"] == "lognormal") & (s["estimator"] == "ols") & (s["parameter"] == "const")]
    assert np.allclose(ols["pseudo_true"], 1.0)
    r = pd.read_csv(out / "rates.csv").set_index(["law", "estimator", "parameter"])
    assert r.loc[("Cauchy", "ols", "slope"), "rate_theory"] == 0.0
    assert r.loc[("normal", "huber", "slope"), "rate_theory"] == 0.5
    # the df-estimated t-MLE's lognormal intercept has no theory target: a big-sample fit
    # supplies it, between the law's median (1 - 0.45) and its mean (1)
    tg = pd.read_csv(out / "targets.csv")
    assert list(tg["estimator"]) == ["student_t"] and list(tg["law"]) == ["lognormal"]
    assert 0.4 < tg["target"].iloc[0] < 0.8
    st = s[
        (s["law"] == "lognormal") & (s["estimator"] == "student_t") & (s["parameter"] == "const")
    ]
    assert np.allclose(st["pseudo_true"], tg["target"].iloc[0])
    # every non-OLS intercept now has a target
    rob = s[(s["estimator"] != "ols") & (s["parameter"] == "const")]
    assert rob["pseudo_true"].notna().all()
    # the report section reads its numbers from the tables
    text = mod.report_section(out, "consistency")
    assert "![RMSE of the slope](consistency/fig_rmse_slope.png)" in text


def test_quick_config_parses():
    mod = load("consistency")
    cfg = mod.load_config(config_file("consistency"), quick=True)
    parts = mod.split_studies(cfg)
    full = tomllib.loads(config_file("consistency").read_text())
    assert parts["main"].replications == full["quick"]["replications"]
    assert parts["costly"].replications == full["quick"]["costly_replications"]
    assert {e.display for e in parts["costly"].estimators} == {"mm", "student_t"}
    assert len(parts["main"].errors) == 14
