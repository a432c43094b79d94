"""Design files: a CSV's rows as a fixed design or resampled with replacement."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tailreg.simulation import Study, replay, run_study, summarize
from tailreg.simulation.generate import draw_block
from tailreg.simulation.targets import cell_targets


def _write(path, rows=120, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "x1": rng.gamma(2.0, size=rows),
            "x2": rng.standard_normal(rows) + 0.5,
            "label": ["a"] * rows,
        }
    )
    frame.to_csv(path, index=False)
    return frame


def _toml(folder, sampling="fixed", sizes=(40, 100), reps=400, extra=""):
    text = f"""
name = "file-design"
seed = 17
replications = {reps}
sample_sizes = {list(sizes)}
[design]
x = {{ file = "data/design.csv", columns = ["x1", "x2"], sampling = "{sampling}" }}
beta = [1.0, -2.0]
intercept = 0.5
{extra}
[[errors]]
law = "normal"
scale = "sd"
[[estimators]]
name = "ols"
kinds = ["classical"]
"""
    (folder / "study.toml").write_text(text)
    return folder / "study.toml"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "design.csv")
    return tmp_path


def test_fixed_design_ols_variance_is_sigma2_xtx_inverse(folder):
    study = Study.from_toml(_toml(folder))
    data = pd.read_csv(folder / "data" / "design.csv")[["x1", "x2"]].to_numpy()
    table = run_study(study, progress=False).replications
    summ = summarize(table, bootstrap=0).set_index(["n", "parameter"])
    for n in (40, 100):
        X = np.column_stack([np.ones(n), data[:n]])  # the file's first n rows
        var = np.diag(np.linalg.inv(X.T @ X))  # sigma^2 = 1: errors scaled to sd 1
        # the theory column is exactly n * sigma^2 (X'X)^-1 of those rows
        np.testing.assert_allclose(
            [summ.loc[(n, p), "avar"] for p in ("const", "x1", "x2")], n * var, rtol=1e-10
        )
        for j, p in enumerate(("const", "x1", "x2")):
            r = summ.loc[(n, p)]
            assert abs(r["sd"] ** 2 / var[j] - 1) < 4 * np.sqrt(2 / (400 - 1)), (n, p)
            assert abs(r["nvar_ratio"] - 1) < 4 * r["nvar_ratio_mcse"]
    # every replication of a cell sees the same rows
    block = draw_block(study, study.cells()[0], 0)
    np.testing.assert_array_equal(block.X, data[:40])


def test_resampled_rows_come_from_the_file_with_their_own_stream(folder):
    study = Study.from_toml(_toml(folder, "resample", sizes=(150,), reps=300))
    data = pd.read_csv(folder / "data" / "design.csv")[["x1", "x2"]].to_numpy()
    block = draw_block(study, study.cells()[0], 0)
    assert block.X.shape == (100, 150, 2)
    rows = {tuple(r) for r in data}
    assert all(tuple(r) in rows for r in block.X.reshape(-1, 2))
    assert not np.array_equal(block.X[0], block.X[1])
    X, y = replay(study, block.seed_keys[3])
    np.testing.assert_array_equal(X, block.X[3])
    np.testing.assert_array_equal(y, block.Y[3])
    table = run_study(study, progress=False).replications
    summ = summarize(table, bootstrap=0).set_index("parameter")
    # the theory uses the moments of all rows (the law the rows are drawn from)
    mu = data.mean(axis=0)
    M = np.block([[np.ones((1, 1)), mu[None]], [mu[:, None], data.T @ data / len(data)]])
    np.testing.assert_allclose(summ["avar"], np.diag(np.linalg.inv(M)), rtol=1e-10)
    assert (abs(summ["nvar_ratio"] - 1) < 4 * summ["nvar_ratio_mcse"]).all()


def test_identity_is_the_content_not_the_path(folder, tmp_path_factory):
    a = Study.from_toml(_toml(folder))
    other = tmp_path_factory.mktemp("moved")
    shutil.copytree(folder / "data", other / "data")
    b = Study.from_toml(_toml(other))
    assert a.designs[0].key == b.designs[0].key and a.cells()[0].key == b.cells()[0].key
    assert a.designs[0].x.path != b.designs[0].x.path
    _write(other / "data" / "design.csv", seed=1)
    c = Study.from_toml(_toml(other))
    assert c.designs[0].key != a.designs[0].key
    assert a.designs[0].x.sha256 in a.designs[0].key
    # the spec written to meta.json points at the file and checks its content
    assert Study.from_dict(a.to_dict()) == a
    spec = a.to_dict()
    spec["designs"][0]["x"]["file"] = c.designs[0].x.path  # same name, other content
    with pytest.raises(ValueError, match=r"has changed since the study was written"):
        Study.from_dict(spec)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sizes": (40, 121)}, r"design: n=121 exceeds the 120 rows of the design file"),
        ({"extra": "fixed_x = true"}, r"design: a design file takes sampling"),
    ],
)
def test_bad_design_files_name_the_key(folder, change, match):
    with pytest.raises(ValueError, match=match):
        Study.from_toml(_toml(folder, **change))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        ({"file": "nowhere.csv"}, r"design\.x\.file: cannot read"),
        ({"file": "data/design.csv", "columns": ["x9"]}, r"design\.x\.columns: \['x9'\] not in"),
        ({"file": "data/design.csv", "columns": ["x1", "label"]}, r"\['label'\] are not numeric"),
        ({"file": "data/design.csv", "sampling": "bootstrap"}, r"design\.x\.sampling must be"),
        ({"file": "data/design.csv", "columns": ["x1"]}, r"design\.beta has 2 slope\(s\)"),
        ({"file": "data/design.csv", "rows": 3}, r"design\.x: unknown key\(s\) \['rows'\]"),
    ],
)
def test_bad_design_tables(folder, x, match):
    d = {
        "name": "f",
        "seed": 1,
        "replications": 10,
        "sample_sizes": [20],
        "design": {"x": x, "beta": [1.0, 2.0]},
        "errors": [{"law": "normal"}],
        "estimators": [{"name": "ols"}],
    }
    with pytest.raises(ValueError, match=match):
        Study.from_dict(d, base_dir=folder)


def test_heteroscedastic_targets_use_the_file_columns_sign(folder):
    d = {
        "name": "f",
        "seed": 1,
        "replications": 10,
        "sample_sizes": [50],
        "design": {"x": {"file": "data/design.csv", "columns": ["x1", "x2"]}, "beta": [1.0, 2.0]},
        "errors": [
            {
                "law": "lognormal",
                "s": 0.5,
                "center": "mean",
                "heteroscedastic": {"a": 1.0, "b": 0.5, "column": 0},
            }
        ],
        "estimators": [{"name": "lad"}],
    }
    s = Study.from_dict(d, base_dir=folder)
    t = cell_targets(s.cells()[0], s.estimators[0], ("const", "x1", "x2"), 3)
    med = 1.0 - np.exp(0.125)
    # x1 (gamma) is non-negative: the median line is b0 + a*m + (beta_1 + b*m) x1
    np.testing.assert_allclose(t["pseudo_true"], [1.0 + med, 1.0 + 0.5 * med, 2.0], rtol=1e-9)
    d["errors"][0]["heteroscedastic"]["column"] = 1  # x2 has both signs: no closed form
    s = Study.from_dict(d, base_dir=folder)
    t = cell_targets(s.cells()[0], s.estimators[0], ("const", "x1", "x2"), 3)
    assert np.isnan(t["pseudo_true"][1:]).all()
