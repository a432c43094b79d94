"""The Monte Carlo of diagnose at the user's design, and the diagnose CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tailreg
from tailreg import cli
from tailreg.diagnostics import fit_error_laws
from tailreg.diagnostics.simulate import fitted_law, heteroscedastic_fit


@pytest.mark.parametrize("draw", ["normal", "t", "laplace", "skew", "lognormal"])
def test_fitted_law_rebuilds_the_fit(draw):
    rng = np.random.default_rng(1)
    x = {
        "normal": rng.normal(size=300),
        "t": rng.standard_t(3, 300),
        "laplace": rng.laplace(size=300),
        "skew": rng.gamma(4, size=300),
        "lognormal": np.exp(0.6 * rng.normal(size=300)) - 1,
    }[draw]
    for fit in fit_error_laws(x).fits:
        law = fitted_law(fit.family, **fit.params)
        np.testing.assert_allclose(law.logpdf(x), fit.law.logpdf(x), rtol=1e-12, atol=1e-12)


def test_heteroscedastic_fit_finds_the_column():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=4000), rng.uniform(0, 3, 4000)])
    r = (0.5 + X[:, 1]) * rng.standard_normal(4000)
    h = heteroscedastic_fit(X, r)
    assert h["column"] == 1
    sigma = h["a"] + h["b"] * np.abs(X[:, 1])
    assert sigma.mean() == pytest.approx(1.0)
    assert h["b"] / h["a"] == pytest.approx(1 / 0.5, rel=0.15)  # sigma proportional to 0.5 + x


def _data(n=120, seed=4):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.uniform(0, 3, n)})
    df["y"] = 1 + 2 * df.x1 - df.x2 + rng.standard_t(4, n)
    return df


def _sim():
    # names other than the design file's x1, x2: the table maps them back
    df = _data().rename(columns={"x1": "u", "x2": "v"})
    return tailreg.diagnose("y ~ u + v", df, replications=40, n_boot=99, random_state=1)


@pytest.fixture(scope="module")
def sim():
    return _sim()


def test_simulation_table(sim):
    t = sim.simulation
    assert set(t["estimator"]) == set(sim.fits)
    assert set(t["term"]) == {"const", "u", "v"}
    assert (t["replications"] == 40).all()
    # the truth is the MM line; OLS slopes target it exactly, its intercept shifts by the
    # mean of the fitted law
    mm = sim.fits["MM"].params
    ols = t[t.estimator == "OLS"].set_index("term")
    assert ols.loc["u", "target"] == pytest.approx(mm["u"], rel=1e-12)
    shift = tailreg.OLS().target(sim.laws.best.law).location
    assert ols.loc["const", "target"] == pytest.approx(mm["const"] + shift, rel=1e-9)
    assert t["coverage"].dropna().between(0, 1).all()
    assert "Model-based" in sim.simulation_note


def test_simulation_reproducible(sim):
    pd.testing.assert_frame_equal(sim.simulation, _sim().simulation)


def test_cli_writes_what_the_api_writes(tmp_path):
    df = _data()
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["diagnose", str(csv), "--formula", "y ~ x1 + x2", "--out", str(out)]
    rc = cli.main([*args, "--replications", "20", "--seed", "3", "--quiet"])
    assert rc == 0
    d = tailreg.diagnose("y ~ x1 + x2", pd.read_csv(csv), replications=20, random_state=3)
    api = tmp_path / "api"
    d.to_markdown(api)
    assert (out / "diagnosis.md").read_text() == (api / "diagnosis.md").read_text()
    pd.testing.assert_frame_equal(pd.read_csv(out / "estimates.csv"), d.estimates())
    assert (out / "diagnosis.html").stat().st_size > 10_000


def test_cli_errors(tmp_path, capsys):
    assert cli.main(["diagnose", str(tmp_path / "none.csv"), "--formula", "y ~ x"]) == 2
    assert "cannot read" in capsys.readouterr().err
    csv = tmp_path / "d.csv"
    _data().to_csv(csv, index=False)
    assert cli.main(["diagnose", str(csv), "--formula", "y ~ x1 + zz", "--quiet"]) == 2
    assert "zz" in capsys.readouterr().err
    _data(n=10).to_csv(csv, index=False)
    assert cli.main(["diagnose", str(csv), "--formula", "y ~ x1", "--quiet"]) == 2
    assert "complete rows" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert cli.main(["diagnose", str(tmp_path / "bad.csv"), "--formula", "y ~ x"]) == 2
