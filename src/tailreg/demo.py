"""``tailreg demo``: every estimator on the stackloss and engel data, one comparison table.

Both data sets ship with statsmodels. Each cell of the table reads ``coef (std err)`` with
the estimator's default covariance kind, named in the header.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._optional import require
from .estimators import LAD, MM, OLS, BaseRegressor, Bisquare, GaussianMLE, Huber, StudentTMLE

__all__ = ["DEMO_ESTIMATORS", "comparison_table", "main"]

#: (column label, estimator class, keyword arguments)
DEMO_ESTIMATORS: tuple[tuple[str, type[BaseRegressor], dict[str, Any]], ...] = (
    ("OLS", OLS, {}),
    ("GaussianMLE", GaussianMLE, {}),
    ("Huber", Huber, {}),
    ("LAD", LAD, {}),
    ("Bisquare", Bisquare, {}),
    ("MM", MM, {"random_state": 0}),
    ("StudentT-MLE", StudentTMLE, {}),
)


def _datasets() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    datasets = require("statsmodels.datasets", "tailreg demo")
    sl = datasets.stackloss.load_pandas().data.astype(float)
    en = datasets.engel.load_pandas().data.astype(float)
    return {
        "stackloss": (sl[["AIRFLOW", "WATERTEMP", "ACIDCONC"]], sl["STACKLOSS"]),
        "engel": (en[["income"]], en["foodexp"]),
    }


def _estimators() -> list[tuple[str, BaseRegressor]]:
    return [(label, cls(**kwargs)) for label, cls, kwargs in DEMO_ESTIMATORS]


def comparison_table(digits: int = 4) -> pd.DataFrame:
    """Fit every estimator on both data sets.

    Returns
    -------
    DataFrame
        Index (data, parameter); one column per estimator holding ``"coef (se)"``; the
        column label names the covariance kind of the standard errors.
    """
    columns: dict[str, pd.Series] = {}
    order: dict[tuple[str, str], None] = {}  # rows in first-seen order: const, slopes, nuisance
    for label, est in _estimators():
        cells = {}
        kind = est.default_cov_kind
        for data_name, (X, y) in _datasets().items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = est.fit(X, y).result_
            se = res.bse()
            for name, value in res.params.items():
                cells[(data_name, name)] = f"{value:.{digits}g} ({se[name]:.{digits}g})"
                order.setdefault((data_name, name))
        columns[f"{label} [{kind}]"] = pd.Series(cells)
    data_rank = {name: i for i, name in enumerate(_datasets())}
    rows = sorted(order, key=lambda key: data_rank[key[0]])  # stable: keeps parameter order
    table = pd.DataFrame(columns).reindex(pd.MultiIndex.from_tuples(rows))
    table.index.names = ["data", "parameter"]
    return table.fillna("")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison table."""
    table = comparison_table()
    with pd.option_context("display.width", 250, "display.max_columns", None):
        print("tailreg demo: coef (std err) of every estimator, default covariance kind in [ ]")
        print(table.to_string())
    return 0
