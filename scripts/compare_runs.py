"""Compare two reproductions (``tailreg reproduce --out A`` and ``--out B``) number by number.

``python scripts/compare_runs.py A B`` reads, for every study folder present in both, all raw
Parquet cells (whatever their file names) and every CSV table, sorts the rows by their text
columns, and reports each numeric column that is not bit-identical. Exit status 1 if any is.
Columns only in one run are listed too (a schema change shows up here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _raw(folder: Path) -> pd.DataFrame | None:
    files = sorted(folder.glob("raw/**/*.parquet"))
    if not files:
        return None
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) in ("string", "str")]
    for c in ("n", "replication", "rep", "eps", "z", "data_set"):
        if c in df.columns and c not in keys:
            keys.append(c)
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


def _compare(name: str, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    out = []
    only = sorted(set(a.columns) ^ set(b.columns))
    if only:
        out.append(f"{name}: columns only in one run: {only}")
    if len(a) != len(b):
        return [*out, f"{name}: {len(a)} rows -> {len(b)} rows"]
    a, b = _sorted(a), _sorted(b)
    for c in sorted(set(a.columns) & set(b.columns)):
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            if not np.array_equal(x, y, equal_nan=True):
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = np.nanmax(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))
                out.append(f"{name}.{c}: differs (max rel {rel:.3g})")
        elif not (x.astype(str) == y.astype(str)).all():
            out.append(f"{name}.{c}: differs")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    A, B = map(Path, argv)
    bad: list[str] = []
    for study in sorted(p.name for p in A.iterdir() if p.is_dir()):
        if not (B / study).is_dir():
            bad.append(f"{study}: missing in {B}")
            continue
        ra, rb = _raw(A / study), _raw(B / study)
        if ra is not None and rb is not None:
            bad += _compare(f"{study}/raw", ra, rb)
        for csv in sorted((A / study).glob("*.csv")):
            other = B / study / csv.name
            if other.is_file():
                bad += _compare(f"{study}/{csv.name}", pd.read_csv(csv), pd.read_csv(other))
            else:
                bad.append(f"{study}/{csv.name}: missing in {B}")
    for line in bad:
        print(line)
    print(f"{len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
