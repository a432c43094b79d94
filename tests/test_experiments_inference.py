"""End-to-end test of experiments/inference.py in a tiny configuration, plus known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def inf(load_experiment):
    return load_experiment("inference")


TINY = """
name = "inference-tiny"
seed = 11
seed_block = 20
[design]
x = "normal"
beta = [1.0]
intercept = 1.0
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
label = "normal"
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
heteroscedastic = { scale_fn = "linear", a = 0.2, b = 1.0 }
label = "normal, het"
[parts.main]
replications = 40
sample_sizes = [30]
[[parts.main.estimators]]
name = "ols"
kinds = ["classical", "HC3"]
[[parts.main.estimators]]
name = "gaussian_mle"
kinds = ["oim", "sandwich"]
"""


def test_tiny_run_end_to_end(inf, tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    args = ["--config", str(cfg), "--out", str(out), "--backend", "serial", "--no-progress"]
    assert inf.main(args) == 0
    for name in (
        "coverage.csv",
        "coverage.md",
        "meta.json",
        "fig_coverage_slope.png",
        "fig_coverage_intercept.svg",
    ):
        assert (out / name).is_file(), name
    cov = pd.read_csv(out / "coverage.csv")
    # known answer: for the slope (target = true value) the script's coverage equals the
    # engine's summary metric, computed independently in tailreg.simulation.metrics
    from tailreg.simulation import read_results
    from tailreg.simulation.metrics import summarize

    study = inf.build_studies(inf.load_config(cfg))["main"]
    summ = summarize(read_results(out / "raw" / "main", study), bootstrap=0)
    for kind in ("classical", "HC3"):
        mine = cov[(cov.estimator == "ols") & (cov.kind == kind) & (cov.parameter == "x1")]
        ref = summ[(summ.estimator == "ols") & (summ.parameter == "x1")]
        m = mine.set_index("law")["coverage"].sort_index()
        r = ref.set_index("law")[f"coverage_{kind}"].sort_index()
        np.testing.assert_allclose(m.to_numpy(), r.to_numpy(), atol=1e-12)
    # sigma^2 rows exist for both laws, with the heteroscedastic target filled in here
    s2 = cov[(cov.parameter == "sigma2") & (cov.kind == "oim")].set_index("law")
    assert math.isfinite(s2.loc["normal, het", "target"])
    text = inf.report_section(out, "inference")
    assert "inference/fig_coverage_slope.png" in text


def test_sigma2_target_closed_form_against_simulation(inf):
    """E e^2 for e = (a + b|x|) u, x ~ N(0,1), against 10^6 simulated errors, and for AR(1)."""
    from tailreg.simulation.generate import make_process
    from tailreg.simulation.spec import Design, ErrorSpec

    design = Design.from_dict({"x": "normal", "beta": [1.0]})
    het = ErrorSpec.from_dict(
        {
            "law": "t",
            "df": 5,
            "center": "median",
            "scale": "iqr",
            "heteroscedastic": {"a": 0.2, "b": 1.0},
        }
    )
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1_000_000, 1))
    e = make_process(het).sample(X, rng)
    assert inf.sigma2_target(design, het) == pytest.approx(np.mean(e**2), rel=0.02)
    ar = ErrorSpec.from_dict(
        {"law": "normal", "center": "median", "scale": "iqr", "ar1": {"phi": 0.5}}
    )
    e = make_process(ar).sample(np.zeros((200_000, 1)), rng)
    assert inf.sigma2_target(design, ar) == pytest.approx(np.var(e), rel=0.02)
