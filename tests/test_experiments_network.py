"""The network study end to end in a tiny configuration."""

from __future__ import annotations

import json

import pandas as pd

TINY = """
name = "network"
seed = 1
seeds = 2
sample_sizes = [60, 120]
losses = ["squared", "huber"]
noise_scale = 0.5
grid_points = 6
[network]
hidden = [4]
activation = "tanh"
alpha = 1e-4
max_iter = 15
student_df = 3.0
[[errors]]
law = "normal"
center = "median"
scale = "iqr"
[[errors]]
law = "t"
df = 1
center = "median"
scale = "iqr"
[quick]
seeds = 1
sample_sizes = [60]
max_iter = 5
grid_points = 5
[panel]
n = 50
law = "t"
df = 1
"""


def test_network_study_runs_end_to_end_and_resumes(tmp_path, load_experiment):
    config = tmp_path / "network.toml"
    config.write_text(TINY)
    out = tmp_path / "out"
    mod = load_experiment("network")
    argv = ["--out", str(out), "--config", str(config), "--backend", "serial"]
    assert mod.main(argv) == 0
    for name in (
        "fig_ise_vs_n.png",
        "fig_gradient_vs_n.svg",
        "fig_cauchy_panel.png",
        "summary.csv",
        "summary.md",
        "meta.json",
    ):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 * 2 * 2  # laws x n x losses
    assert (summary["R"] == 2).all()
    assert json.loads((out / "meta.json").read_text())["seed"] == 1
    # a rerun skips the finished cells and reproduces the tables exactly
    cells = sorted((out / "raw").glob("*.parquet")) + sorted((out / "tasks").rglob("*.parquet"))
    mtimes = [c.stat().st_mtime_ns for c in cells]
    first = (out / "summary.csv").read_text()
    assert mod.main(argv) == 0
    assert [c.stat().st_mtime_ns for c in cells] == mtimes
    assert (out / "summary.csv").read_text() == first
    section = mod.report_section(out, "network")
    assert "fig_ise_vs_n.png" in section and "{" not in section.replace("{[", "")


def test_the_study_file_is_valid(study_file):
    import tomllib

    cfg = tomllib.loads(study_file("network").read_text())
    assert cfg["sample_sizes"][0] == 200 and cfg["sample_sizes"][-1] >= 6400
    assert cfg["seeds"] >= 20
