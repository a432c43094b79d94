"""The robustness study end to end in a tiny configuration."""

from __future__ import annotations

import pandas as pd

TINY = """
name = "robustness"
seed = 3
n = 40
replications = 6
fractions = [0.0, 0.2]
intercept = 1.0
slope = 1.0
[vertical]
shift = 10.0
[leverage]
x_out = 5.0
y_out = -5.0
spread = 0.5
[sensitivity]
n = 20
points = 5
span = 10.0
[[estimators]]
name = "ols"
[[estimators]]
name = "mm"
random_state = 0
[quick]
replications = 3
fractions = [0.0]
points = 3
[breakdown]
ols = 0.0
mm = 0.5
"""


def test_robustness_study_runs_end_to_end(tmp_path, load_experiment):
    config = tmp_path / "robustness.toml"
    config.write_text(TINY)
    out = tmp_path / "out"
    mod = load_experiment("robustness")
    assert mod.main(["--out", str(out), "--config", str(config), "--backend", "serial"]) == 0
    for name in (
        "fig_bias_vs_contamination.png",
        "fig_sensitivity.svg",
        "summary.csv",
        "sensitivity.csv",
        "meta.json",
    ):
        assert (out / name).is_file(), name
    s = pd.read_csv(out / "summary.csv").set_index(["kind", "eps", "estimator"])
    # known answer: 20% bad leverage points drag the OLS slope far below 1, MM holds
    assert s.loc[("leverage", 0.2, "ols"), "slope_bias"] < -1.0
    assert abs(s.loc[("leverage", 0.2, "mm"), "slope_bias"]) < 0.3
    # OLS moves by shift * fraction under vertical outliers (up to noise)
    assert abs(s.loc[("vertical", 0.2, "ols"), "intercept_bias"] - 2.0) < 0.5
    section = mod.report_section(out, "robustness")
    assert "fig_sensitivity.png" in section
