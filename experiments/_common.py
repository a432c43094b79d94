"""Plumbing shared by the study scripts: seeds, resumable cells, tables and meta.json."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from tailreg import plotting
from tailreg.simulation.backends import get_backend
from tailreg.simulation.seeds import key_words
from tailreg.simulation.store import write_cell

PACKAGES = ("tailreg", "numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "matplotlib")


def cell_seed(root: int, key: str, replication: int) -> np.random.SeedSequence:
    """SeedSequence from the study seed and the cell's identity, never from run order."""
    return np.random.SeedSequence(root, spawn_key=(*key_words(key), replication))


def _run_one(args):
    fn, task, path = args
    with threadpool_limits(1):
        df = fn(task)
    write_cell(Path(path), df)
    return path


def map_tasks(
    fn: Callable[[dict], pd.DataFrame],
    tasks: list[dict],
    raw_dir: Path,
    *,
    backend: str = "processes",
    workers: int = 2,
    force: bool = False,
) -> int:
    """Run ``fn`` on every unfinished task, writing one Parquet file per task atomically.

    Uses the engine's backends and atomic store, so an interrupted study loses no finished
    cell and a rerun skips them. Returns the number of cells computed (not skipped).
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    todo = [
        (fn, t, str(raw_dir / t["file"]))
        for t in tasks
        if force or not (raw_dir / t["file"]).exists()
    ]
    for _ in get_backend(backend, workers).map_unordered(_run_one, todo):
        pass
    return len(todo)


def read_cells(raw_dir: Path, tasks: list[dict]) -> pd.DataFrame:
    """The tasks' Parquet files, in task order."""
    return pd.concat([pd.read_parquet(raw_dir / t["file"]) for t in tasks], ignore_index=True)


def write_table(df: pd.DataFrame, stem: Path) -> None:
    """``stem.csv`` and ``stem.md``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(stem.with_suffix(".csv"), index=False, float_format="%.6g")
    stem.with_suffix(".md").write_text(plotting.table_markdown(df))


def write_meta(out: Path, spec: dict, t0: float, **extra) -> None:
    """``meta.json``: seed, spec, versions, wall time (of the run that computed the cells)."""
    wall = round(time.time() - t0, 1)
    compute_wall = wall
    old = out / "meta.json"
    if extra.get("cells_computed") == 0 and old.is_file():
        # nothing was recomputed: keep the wall time of the run that computed the cells
        previous = json.loads(old.read_text())
        compute_wall = previous.get("compute_wall_time_seconds", compute_wall)
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    meta = {
        "seed": spec.get("seed"),
        "spec": spec,
        "versions": versions,
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "wall_time_seconds": wall,
        "compute_wall_time_seconds": compute_wall,
        **extra,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")


def study_arguments(doc: str, default_out: Path, config: Path) -> argparse.ArgumentParser:
    """The command line every study script shares (``tailreg reproduce`` passes these)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default_out)
    ap.add_argument("--config", type=Path, default=config, help="the study's TOML file")
    ap.add_argument("--quick", action="store_true", help="small configuration (minutes)")
    ap.add_argument("--backend", default="processes", choices=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--force", action="store_true", help="recompute finished cells")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap
