"""The committed R references load, and their data CSVs hold R's doubles exactly enough.

Least squares on the CSV data must reproduce R's lm coefficients to 1e-10; a CSV written with
too few digits would move the coefficients by far more than that on these designs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _reference import REFERENCE_DIR, load_data, load_reference

DATA_SETS = ["hetero", "ar1", "freq", "quantile", "quantile_nid"]


def _design(df: pd.DataFrame, columns: list[str], levels: list[str] | None = None) -> np.ndarray:
    """Intercept, numeric columns, then treatment dummies of factor ``f`` (R's default coding)."""
    parts = [np.ones(len(df)), *(df[c].to_numpy(float) for c in columns)]
    if levels is not None:
        parts += [(df["f"] == lev).to_numpy(float) for lev in levels[1:]]
    return np.column_stack(parts)


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    sw = np.ones(len(y)) if w is None else np.sqrt(w)
    return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


@pytest.mark.parametrize("name", ["modelling", "quantile"])
def test_reference_json_loads_with_versions(name):
    ref = load_reference(name)
    assert ref["versions"]["R"].startswith("R version")
    assert ref["versions"]["packages"]
    for entry in ref["data"].values():
        assert (REFERENCE_DIR / entry["file"]).is_file()
        name = entry["file"].removeprefix("data/").removesuffix(".csv")
        assert len(load_data(name)) == entry["n"]


@pytest.mark.parametrize("name", DATA_SETS)
def test_reference_csv_loads(name):
    df = load_data(name)
    assert 30 <= len(df) <= 300
    assert not df.isna().any().any()


def test_hetero_lm_coefficients_match_least_squares():
    ref = load_reference("modelling")
    df = load_data("hetero")
    levels = ref["data"]["hetero"]["factor_levels"]
    X = _design(df, ["x1", "x2", "x3"], levels)
    y = df["y"].to_numpy(float)
    names = ref["coef_names"]["hetero"]
    for key, w in [("weighted", df["w"].to_numpy(float)), ("unweighted", None)]:
        r_coef = np.array([ref["lm"][key]["coef"][n] for n in names])
        np.testing.assert_allclose(_wls(X, y, w), r_coef, rtol=0, atol=1e-10)


def test_ar1_and_freq_lm_coefficients_match_least_squares():
    ref = load_reference("modelling")
    ar1 = load_data("ar1")
    coef = _wls(_design(ar1, ["x1", "x2"]), ar1["y"].to_numpy(float))
    r_coef = np.array([ref["newey_west"]["lm"]["coef"][n] for n in ref["coef_names"]["ar1"]])
    np.testing.assert_allclose(coef, r_coef, rtol=0, atol=1e-10)

    freq = load_data("freq")
    X = _design(freq, ["x1", "x2"])
    y = freq["y"].to_numpy(float)
    w = freq["w"].to_numpy()
    names = ref["coef_names"]["freq"]
    fw = ref["frequency_weights"]["lm"]
    np.testing.assert_allclose(
        _wls(X, y, w.astype(float)), [fw["weighted"]["coef"][n] for n in names], rtol=0, atol=1e-10
    )
    # The expanded data set is the weighted one with row i repeated w[i] times.
    assert int(w.sum()) == ref["data"]["freq"]["n_expanded"]
    Xe, ye = np.repeat(X, w, axis=0), np.repeat(y, w)
    np.testing.assert_allclose(
        _wls(Xe, ye), [fw["expanded"]["coef"][n] for n in names], rtol=0, atol=1e-10
    )


def test_reference_matrices_have_coefficient_shape():
    ref = load_reference("modelling")
    k = len(ref["coef_names"]["hetero"])
    for key in ("weighted", "unweighted"):
        block = ref["lm"][key]
        for V in [block["vcov"], *block["vcovHC"].values(), *block["vcovCL"].values()]:
            V = np.asarray(V)
            assert V.shape == (k, k)
            np.testing.assert_allclose(V, V.T, rtol=1e-12, atol=0)
