"""Load the R reference values and data sets kept under ``tests/reference/``.

The JSON files are written by the R scripts next to them (``Rscript tests/reference/<name>.R``)
with every double printed to 17 significant digits, so ``json`` returns exactly R's numbers.
The CSV files are the data those scripts generated, also at 17 significant digits.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def load_reference(name: str) -> dict[str, Any]:
    """Return the parsed ``tests/reference/<name>.json`` (e.g. ``"modelling"``, ``"quantile"``)."""
    path = REFERENCE_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no reference file {path}; run Rscript tests/reference/<script>.R")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def load_data(name: str) -> pd.DataFrame:
    """Return the data set ``tests/reference/data/<name>.csv`` with exact doubles.

    Every field is read as text and numeric columns are converted with Python's ``float``
    (correctly rounded), so each 17-digit decimal becomes exactly the double R wrote, whatever
    pandas' own float parser does. Columns of integer literals become int64, others stay text.
    """
    path = REFERENCE_DIR / "data" / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no reference data set {path}")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in df.columns:
        text = df[col]
        if text.str.fullmatch(r"-?\d+").all():
            df[col] = text.astype("int64")
            continue
        with contextlib.suppress(ValueError):  # a text column (the factor f) stays text
            df[col] = text.map(float).astype("float64")
    return df
