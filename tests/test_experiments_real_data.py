"""Smoke test of the real_data study: a quick run of two data sets and its report section."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from tailreg_experiments import STUDIES, real_data
from tailreg_experiments.common import config_file, read_toml


def test_config_ships_at_least_four_datasets():
    cfg = read_toml(config_file("real_data"))
    assert len(cfg["datasets"]) >= 4
    for ds in cfg["datasets"]:
        frame = real_data.load(ds["module"])  # from the installed statsmodels, no download
        assert len(frame) >= 20
    assert "real_data" in STUDIES


def test_quick_run_and_report(tmp_path):
    cfg = read_toml(config_file("real_data"))
    cfg["datasets"] = [d for d in cfg["datasets"] if d["name"] in ("stackloss", "macrodata")]
    cfg["quick"] = {"replications": 10, "n_boot": 49}
    toml = tmp_path / "rd.toml"
    lines = [f'name = "real_data"\nseed = {cfg["seed"]}\nreplications = 10\nn_boot = 49']
    lines.append("[quick]\nreplications = 10\nn_boot = 49")
    for d in cfg["datasets"]:
        # JSON scalars are valid TOML values (strings, booleans)
        body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())
        lines.append("[[datasets]]\n" + body)
    toml.write_text("\n\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert (
        real_data.main(["--out", str(out), "--config", str(toml), "--quick", "--no-progress"]) == 0
    )
    s = pd.read_csv(out / "summary.csv")
    assert list(s["dataset"]) == ["stackloss", "macrodata"]
    assert "dependence" in s.set_index("dataset").at["macrodata", "detected"]
    for name in s["dataset"]:
        assert (out / name / "diagnosis.md").is_file()
        assert (out / name / "simulation.csv").is_file()
    text = real_data.report_section(out, "real_data")
    assert text.startswith("## Real data")
    est = pd.read_csv(out / "stackloss" / "estimates.csv")
    airflow = est[(est.estimator == "OLS") & (est.term == "AIRFLOW")].iloc[0]
    assert f"{airflow['estimate']:.3g}" in text  # numbers read from the tables
    assert Path(out / "meta.json").is_file()
