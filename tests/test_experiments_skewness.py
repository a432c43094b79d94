"""End-to-end test of experiments/skewness.py in a tiny configuration, plus known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def sk(load_experiment):
    return load_experiment("skewness")


TINY = """
name = "skewness-tiny"
seed = 7
replications = 20
sample_sizes = [40, 80]
seed_block = 10
[design]
x = "uniform"
beta = [1.0]
intercept = 1.0
[[errors]]
law = "lognormal"
s = 1.0
center = "mean"
scale = "iqr"
label = "lognormal"
[[errors]]
law = "lognormal"
s = 1.0
center = "mean"
scale = "iqr"
heteroscedastic = { scale_fn = "linear", a = 0.5, b = 1.0 }
label = "lognormal, het"
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
[population]
x_nodes = 8
u_strata = 400
"""


def test_tiny_run_end_to_end(sk, tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    assert (
        sk.main(["--config", str(cfg), "--out", str(out), "--backend", "serial", "--no-progress"])
        == 0
    )
    for name in (
        "summary.csv",
        "limits.csv",
        "limits.md",
        "meta.json",
        "fig_iid_estimates.png",
        "fig_het_estimates.svg",
        "fig_bias.png",
    ):
        assert (out / name).is_file(), name
    lim = pd.read_csv(out / "limits.csv")
    summ = pd.read_csv(out / "summary.csv")
    # the limits table reads the Monte Carlo mean at the largest n from the summary
    r = lim[(lim.law == "lognormal") & (lim.estimator == "ols") & (lim.parameter == "const")].iloc[
        0
    ]
    s = summ[(summ.law == "lognormal") & (summ.estimator == "ols") & (summ.parameter == "const")]
    assert r["mean"] == pytest.approx(float(s[s.n == 80]["mean"].iloc[0]), rel=1e-12)
    # LAD under heteroscedasticity: conditional-median slope beta + b * median(u), exact
    lad = lim[(lim.law == "lognormal, het") & (lim.estimator == "lad") & (lim.parameter == "x1")]
    assert lad["target"].iloc[0] == pytest.approx(1.0 + 1.0 * (-0.44628141552251965), abs=1e-6)
    text = sk.report_section(out, "skewness")
    assert "skewness/fig_het_estimates.png" in text and "nan" not in text.split("MCSE")[0]


def test_population_fit_matches_theory_iid(sk):
    """Huber's population fit (IRLS on a discretised population) against the theory's
    M-functional with the estimated MAD scale: two independent computations."""
    from tailreg.simulation.spec import Cell, Design, ErrorSpec, EstimatorSpec
    from tailreg.simulation.targets import cell_targets

    design = Design.from_dict({"x": "uniform", "beta": [1.0], "intercept": 1.0})
    spec = ErrorSpec.from_dict({"law": "chisquare", "k": 3, "center": "mean", "scale": "iqr"})
    est = EstimatorSpec.from_dict({"name": "huber"})
    pop = sk.population_fit(design, spec, est, 16, 2000)
    theory = cell_targets(Cell(design, spec, 100), est, ("const", "x1"), 2)["pseudo_true"]
    np.testing.assert_allclose(pop, theory, atol=2e-4)
    ols = sk.population_fit(design, spec, EstimatorSpec.from_dict({"name": "ols"}), 16, 2000)
    np.testing.assert_allclose(ols, [1.0, 1.0], atol=2e-4)
