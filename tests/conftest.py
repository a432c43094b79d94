"""Shared fixtures: the two reference data sets (both ship with statsmodels), the studies."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings
from statsmodels.datasets import engel, stackloss

# The suite is reproducible: hypothesis draws the same examples on every run ("repro", the
# default), so a green run stays green and a failure replays. HYPOTHESIS_PROFILE=explore
# draws new examples (and remembers failures in .hypothesis/) to hunt for new bugs.
settings.register_profile("repro", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))


@pytest.fixture(scope="session")
def stackloss_data() -> tuple[pd.DataFrame, pd.Series]:
    """Brownlee's stack loss: y = STACKLOSS on AIRFLOW, WATERTEMP, ACIDCONC (n = 21)."""
    df = stackloss.load_pandas().data
    return df[["AIRFLOW", "WATERTEMP", "ACIDCONC"]].astype(float), df["STACKLOSS"].astype(float)


@pytest.fixture(scope="session")
def engel_data() -> tuple[pd.DataFrame, pd.Series]:
    """Engel's food expenditure: y = foodexp on income (n = 235)."""
    df = engel.load_pandas().data
    return df[["income"]].astype(float), df["foodexp"].astype(float)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261128)


@pytest.fixture(scope="session")
def study_file():
    """The shipped study file of a built-in study: ``study_file(name)`` (package data)."""
    from tailreg_experiments.common import config_file

    return config_file


@pytest.fixture(scope="session")
def load_experiment():
    """Import a built-in study, ``tailreg_experiments.<name>``, by name (as reproduce does)."""
    from tailreg.reproduce import load_study

    return load_study


@pytest.fixture(scope="session")
def run_tiny_study(load_experiment, tmp_path_factory):
    """Run a study script end to end on a tiny TOML; returns (module, output folder)."""

    def run(name: str, toml: str):
        tmp = tmp_path_factory.mktemp(name)
        config = tmp / f"{name}.toml"
        config.write_text(toml)
        out = tmp / "out"
        mod = load_experiment(name)
        argv = ["--out", str(out), "--config", str(config), "--backend", "serial"]
        assert mod.main(argv) == 0
        return mod, out

    return run


@pytest.fixture(scope="session")
def backend_study():
    """The small study every execution backend must reproduce bit for bit."""
    from tailreg.simulation import Study

    return Study.from_dict(
        {
            "name": "backends",
            "seed": 2026,
            "replications": 40,
            "sample_sizes": [20, 40],
            "seed_block": 10,
            "design": {"x": "uniform", "beta": [1.0, -0.5]},
            "errors": [{"law": "normal"}, {"law": "t", "df": 3}],
            "estimators": [
                {"name": "ols", "kinds": ["classical", "HC3"]},
                {"name": "huber", "kinds": ["H1"]},
            ],
        }
    )


@pytest.fixture(scope="session")
def backend_reference(backend_study):
    """Its replication table from the serial backend."""
    from tailreg.simulation import run_study

    return run_study(backend_study, backend="serial", block_size=10, progress=False).replications
