"""The command line: tailreg run / summarize / demo."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tailreg import cli

TOML = """
name = "cli"
seed = 3
replications = 20
sample_sizes = [20, 40]
seed_block = 10
[design]
beta = [1.0]
[[errors]]
law = "logistic"
[[estimators]]
name = "ols"
kinds = ["classical", "HC1"]
"""


def test_run_then_summarize(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TOML)
    out = tmp_path / "out"
    assert cli.main(["run", str(spec), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert len(list((out / "cells").glob("*.parquet"))) == 2
    assert cli.main(["run", str(spec), "--out", str(out)]) == 0
    assert "0 cell(s) computed, 2 already finished" in capsys.readouterr().out

    assert cli.main(["summarize", str(out)]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == 2 * 2  # two sizes x (const, x1)
    assert {"bias", "bias_mcse", "coverage_HC1", "rate", "rate_mcse"} <= set(table.columns)

    assert cli.main(["summarize", str(out), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| design | law | n | estimator | parameter | n_rep | bias |" in md
    assert "coverage_classical" in md and "(" in md

    target = tmp_path / "s.md"
    assert cli.main(["summarize", str(out), "--format", "markdown", "--output", str(target)]) == 0
    assert target.read_text() == md


def test_bad_study_and_missing_dir(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(TOML.replace('law = "logistic"', 'law = "t"\ndf = 0'))
    assert cli.main(["run", str(spec), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "errors[0].df must be a positive" in capsys.readouterr().err
    assert cli.main(["summarize", str(tmp_path / "nowhere")]) == 2
    assert "meta.json" in capsys.readouterr().err


def test_scheduler_needs_dask(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(TOML)
    argv = ["run", str(spec), "--out", str(tmp_path / "o"), "--scheduler", "tcp://h:1"]
    assert cli.main([*argv, "--backend", "processes"]) == 2
    assert "--scheduler needs --backend dask" in capsys.readouterr().err


def test_parser_and_demo(monkeypatch):
    parser = cli.build_parser()
    args = parser.parse_args(
        [
            "run",
            "s.toml",
            "--out",
            "d",
            "--backend",
            "dask",
            "--scheduler",
            "tcp://h:8786",
            "--workers",
            "4",
            "--force",
        ]
    )
    assert (args.backend, args.scheduler, args.workers, args.force) == (
        "dask",
        "tcp://h:8786",
        4,
        True,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "s.toml"])  # --out is required
    import types

    called = []
    fake = types.SimpleNamespace(main=lambda argv=None: called.append(argv) or 0)
    monkeypatch.setattr(cli, "demo", fake)
    assert cli.main(["demo"]) == 0 and called == [[]]


def test_markdown_helper():
    df = pd.DataFrame({"a": ["x|y"], "b": [float("nan")], "c": [0.123456]})
    assert cli.to_markdown(df).splitlines() == [
        "| a | b | c |",
        "|---|---|---|",
        "| x\\|y |  | 0.1235 |",
    ]


def test_open_example_runs_and_the_summary_shows_its_notes(tmp_path, capsys):
    examples = Path(__file__).resolve().parents[1] / "examples"
    shutil.copy(examples / "design.csv", tmp_path / "design.csv")
    text = (examples / "plugins-demo.toml").read_text()
    text = text.replace("replications = 400", "replications = 20").replace(
        "seed_block = 100", "seed_block = 10"
    )
    text += '\n[[estimators]]\nname = "sklearn.linear_model:HuberRegressor"\n'
    text += 'max_iter = 2\nlabel = "short"\n'
    (tmp_path / "s.toml").write_text(text)
    out = tmp_path / "out"
    assert cli.main(["run", str(tmp_path / "s.toml"), "--out", str(out), "--quiet"]) == 0
    assert cli.main(["summarize", str(out), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| wages | gennorm(1.2) | 60 | sklearn-huber | x1 | 20 |" in md
    assert "Warnings raised by the fits" in md and "ConvergenceWarning: " in md
    assert "Targets without theory" in md and "| sklearn-huber | none |" in md
    assert cli.main(["summarize", str(out)]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"theory", "warnings", "first_warning"} <= set(table.columns)
    assert (table.loc[table.estimator == "short", "warnings"] >= 20).all()
