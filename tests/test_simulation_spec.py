"""Study specification: TOML and dict construction, validation messages, stable keys."""

from __future__ import annotations

import copy

import pytest

from tailreg.simulation.spec import Design, ErrorSpec, Study

BASE = {
    "name": "tiny",
    "seed": 7,
    "replications": 20,
    "sample_sizes": [30, 60],
    "design": {"x": "normal", "beta": [1.0, -0.5], "intercept": 1.0},
    "errors": [{"law": "t", "df": 3, "center": "median", "scale": "iqr"}],
    "estimators": [{"name": "ols"}, {"name": "huber", "k": 1.345}],
}

TOML = """
name = "t3-demo"
seed = 20261128
replications = 2000
sample_sizes = [50, 200, 800]
[design]
x = "normal"
beta = [1.0, -0.5]
intercept = 1.0
fixed_x = false
[[errors]]
law = "t"
df = 3
center = "median"
scale = "iqr"
[[errors]]
law = "lognormal"
s = 1.0
center = "mean"
[[estimators]]
name = "ols"
[[estimators]]
name = "huber"
k = 1.345
[[estimators]]
name = "quantile"
tau = 0.5
"""


def with_(path, value):
    d = copy.deepcopy(BASE)
    target = d
    *head, last = path
    for k in head:
        target = target[k]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return d


def test_issue_example_parses(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(TOML)
    s = Study.from_toml(f)
    assert s.name == "t3-demo" and s.seed == 20261128 and s.replications == 2000
    assert s.sample_sizes == (50, 200, 800)
    assert s.designs == (Design("normal", (1.0, -0.5), 1.0, False),)
    assert [e.law for e in s.errors] == ["t", "lognormal"]
    assert s.errors[0] == ErrorSpec("t", (("df", 3),), "median", "iqr")
    assert [e.display for e in s.estimators] == ["ols", "huber", "quantile"]
    assert len(s.cells()) == 6
    assert s.seed_block == 100 and s.max_errors == 50


def test_shipped_example_parses():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "t3-demo.toml"
    s = Study.from_toml(path)
    assert s.name == "t3-demo" and len(s.cells()) == 6
    assert [e.display for e in s.estimators] == ["ols", "huber", "lad"]


def test_shipped_open_example_parses():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "plugins-demo.toml"
    s = Study.from_toml(path)
    assert s.designs[0].x.columns == ("schooling", "experience") and s.designs[0].fixed_x
    assert s.designs[0].x.rows == 300
    assert [e.law for e in s.errors] == ["scipy.stats:gennorm", "t"]
    assert s.estimators[2].plugin and s.estimators[2].display == "sklearn-huber"


def test_round_trip_and_keys():
    s = Study.from_dict(BASE)
    assert Study.from_dict(s.to_dict()) == s
    d = s.designs[0]
    assert d.key == "x=normal();beta=[1.0,-0.5];b0=1.0;redrawn"
    assert s.errors[0].key == "t(df=3)[center=median,scale=iqr]"
    cell = s.cells()[0]
    assert cell.key == f"{d.key}|{s.errors[0].key}|n=30"
    # labels change the displayed name, never the key the seeds come from
    lab = Study.from_dict(with_(["design", "label"], "base"))
    assert lab.designs[0].key == d.key and lab.designs[0].name == "base"


def test_designs_list_heteroscedastic_and_ar1():
    d = copy.deepcopy(BASE)
    del d["design"]
    d["designs"] = [
        {"x": "uniform", "x_params": {"low": 0.0, "high": 2.0}, "beta": [2.0], "label": "u"},
        {"x": "leverage", "x_params": {"share": 0.1}, "fixed_x": True, "label": "lev"},
    ]
    d["errors"] = [
        {"law": "normal", "heteroscedastic": {"scale_fn": "linear", "a": 1.0, "b": 0.5}},
        {"law": "laplace", "ar1": {"phi": 0.5}},
    ]
    s = Study.from_dict(d)
    assert [x.name for x in s.designs] == ["u", "lev"]
    assert s.designs[1].x_options == {"share": 0.1, "scale": 10.0}
    assert not s.errors[0].iid and s.errors[1].ar1 == 0.5
    assert "+het(scale_fn=linear,a=1.0,b=0.5)" in s.errors[0].key
    assert len(s.cells()) == 2 * 2 * 2


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (["errors", 0, "law"], "student", r"errors\[0\]\.law: unknown error law 'student'"),
        (["errors", 0, "df"], 0, r"errors\[0\]\.df must be a positive"),
        (["errors", 0, "df"], -2, r"errors\[0\]\.df"),
        (["errors", 0, "nu"], 3, r"errors\[0\]: unknown key\(s\) \['nu'\]"),
        (["errors", 0, "center"], "mode", r"errors\[0\]\.center"),
        (["estimators", 1, "name"], "lasso", r"estimators\[1\]\.name: unknown estimator 'lasso'"),
        (["estimators", 1, "k"], -1.0, r"estimators\[1\] \(huber\)"),
        (["estimators", 0, "kinds"], ["HC9"], r"estimators\[0\]\.kinds"),
        (["sample_sizes"], [], "sample_sizes must be a non-empty list"),
        (["sample_sizes"], [30, 1], r"sample_sizes\[1\]"),
        (["replications"], 0, "replications must be an integer"),
        (["seed"], -1, "seed must be a non-negative integer"),
        (["seed"], KeyError, "seed must be"),
        (["design", "x"], "cauchy", r"design\.x: unknown regressor law"),
        (["design", "beta"], [], r"design\.beta"),
        (["design", "fixed_x"], "yes", r"design\.fixed_x"),
        (["design", "x_params"], {"s": 1.0}, r"design\.x_params: unknown key"),
        (["errors"], [], "errors must be a non-empty list"),
        (["estimators"], [{"name": "ols"}, {"name": "ols"}], r"duplicate entries \['ols'\]"),
        (["replicates"], 3, r"study: unknown key\(s\) \['replicates'\]"),
        (["errors", 0, "ar1"], {"phi": 1.0}, r"errors\[0\]\.ar1\.phi must lie in"),
    ],
)
def test_bad_spec_names_the_key(path, value, match):
    with pytest.raises(ValueError, match=match):
        Study.from_dict(with_(path, value))


@pytest.mark.parametrize(("beta", "n"), [([1.0], 2), ([1.0, 2.0], 3), ([1.0, 2.0, 3.0], 4)])
def test_n_at_most_p_plus_one_is_rejected_at_parse_time(beta, n):
    d = {**with_(["design", "beta"], beta), "sample_sizes": [50, n]}
    with pytest.raises(ValueError, match=rf"n = {n} is too small .*p \+ 1 = {len(beta) + 1}"):
        Study.from_dict(d)
    d["sample_sizes"] = [n + 1]  # one residual degree of freedom is enough
    assert Study.from_dict(d).sample_sizes == (n + 1,)


def test_law_level_errors_are_reported_with_the_key():
    d = with_(["errors", 0], {"law": "cauchy", "center": "mean"})
    with pytest.raises(ValueError, match=r"errors\[0\] \(cauchy\(\)"):
        Study.from_dict(d)


def test_labels_tell_configurations_apart():
    d = with_(
        ["estimators"],
        [{"name": "huber", "k": 1.0, "label": "h1"}, {"name": "huber", "k": 2.0, "label": "h2"}],
    )
    s = Study.from_dict(d)
    assert [e.display for e in s.estimators] == ["h1", "h2"]
    assert dict(s.estimators[1].params) == {"k": 2.0}


def test_fingerprint_tracks_content():
    s = Study.from_dict(BASE)
    c = s.cells()[0]
    assert s.fingerprint(c) == Study.from_dict(BASE).fingerprint(c)
    # the replication count is not in it: a rerun with more replications reuses the blocks
    assert s.replace(replications=21).fingerprint(c) == s.fingerprint(c)
    assert s.replace(seed=8).fingerprint(c) != s.fingerprint(c)
    assert s.replace(seed_block=10).fingerprint(c) != s.fingerprint(c)
