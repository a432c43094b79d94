"""End-to-end run of experiments/efficiency.py in a tiny configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailreg.reproduce import load_study


def load(name: str):
    return load_study(name)


TINY = """
name = "efficiency-tiny"
seed = 5
replications = 400
sample_sizes = [200]
seed_block = 100
[design]
x = "normal"
beta = [1.0]
intercept = 1.0
[curves]
df_min = 1.0
df_max = 30.0
df_points = 4
eps_max = 0.3
eps_points = 3
contamination_c = 5.0
[[estimators]]
name = "ols"
kinds = []
[[estimators]]
name = "huber"
kinds = []
[[estimators]]
name = "lad"
solver = "interior-point"
kinds = []
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
label = "normal"
[[errors]]
law = "t"
df = 3
center = "median"
scale = "iqr"
label = "t3"
[[errors]]
law = "contaminated"
eps = 0.1
c = 5.0
center = "median"
scale = "iqr"
label = "CN(10%, x5)"
"""


@pytest.fixture(scope="module")
def run(run_tiny_study):
    return run_tiny_study("efficiency", TINY)


def test_files_exist(run):
    _, out = run
    for stem in ("efficiency", "curves"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.md").is_file()
    for fig in ("fig_efficiency", "fig_are_df", "fig_are_eps"):
        assert (out / f"{fig}.png").is_file() and (out / f"{fig}.svg").is_file()
    assert (out / "meta.json").is_file()


def test_theory_known_answers(run):
    _, out = run
    eff = pd.read_csv(out / "efficiency.csv").set_index(["law", "estimator"])
    # Huber k = 1.345 is 95% efficient at the normal; the median 2/pi; OLS attains the bound
    assert abs(eff.loc[("normal", "huber"), "are_theory"] - 0.9500) < 5e-4
    assert abs(eff.loc[("normal", "lad"), "are_theory"] - 2 / np.pi) < 1e-6
    assert abs(eff.loc[("normal", "ols"), "eff_crlb_theory"] - 1.0) < 1e-6
    # t3: median vs mean 16/pi^2 = 1.621 (LITERATURE.md); OLS vs bound 0.5
    assert abs(eff.loc[("t3", "lad"), "are_theory"] - 16 / np.pi**2) < 1e-4
    assert abs(eff.loc[("t3", "ols"), "eff_crlb_theory"] - 0.5) < 1e-4
    # the Monte Carlo values agree with the theory within 4 MCSE
    for law, est in (("normal", "huber"), ("t3", "lad"), ("t3", "huber")):
        r = eff.loc[(law, est)]
        assert abs(r["rel_eff"] - r["are_theory"]) < 4 * r["rel_eff_mcse"] + 0.03
    cur = pd.read_csv(out / "curves.csv")
    at0 = cur[(cur["family"] == "contaminated") & (cur["x"] == 0.0)].iloc[0]
    assert abs(at0["are_huber"] - 0.95) < 5e-4


def test_report_section(run):
    mod, out = run
    text = mod.report_section(out, "efficiency")
    assert "(efficiency/fig_are_df.png)" in text and "n/a" in text  # no MM in the tiny run
