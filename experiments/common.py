"""What the studies share: their command line, configuration files, tables, meta.json, the
two-part engine run of the grid studies and the house colours.

Nothing here computes an estimate, a target or a metric: the studies take those from
:mod:`tailreg.simulation` (engine, tasks, metrics) and :mod:`tailreg.theory`.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pandas as pd

from tailreg import plotting
from tailreg.simulation import Study, run_study
from tailreg.simulation.generate import make_error_law
from tailreg.simulation.store import write_run_meta

__all__ = [
    "COLORS",
    "NAMES",
    "PARAMS",
    "config_file",
    "est_order",
    "law_objects",
    "load_config",
    "read_toml",
    "run_parts",
    "split_studies",
    "study_arguments",
    "write_study_meta",
    "write_table",
]

#: display names and colours of the estimators, shared by the figures
NAMES = {
    "ols": "OLS",
    "huber": "Huber",
    "lad": "LAD",
    "bisquare": "bisquare",
    "mm": "MM",
    "student_t": "t-MLE",
}
COLORS = {
    "ols": "#1f77b4",
    "huber": "#ff7f0e",
    "lad": "#2ca02c",
    "bisquare": "#d62728",
    "mm": "#9467bd",
    "student_t": "#8c564b",
}
PARAMS = {"const": "intercept", "x1": "slope"}


# --------------------------------------------------------------------------------------
# files of the package
# --------------------------------------------------------------------------------------
def config_file(name: str) -> Traversable:
    """The study file ``<name>.toml`` shipped with the package."""
    return resources.files(__package__).joinpath(f"{name}.toml")


# --------------------------------------------------------------------------------------
# command line, tables, meta.json
# --------------------------------------------------------------------------------------
def study_arguments(doc: str, name: str) -> argparse.ArgumentParser:
    """The command line every study shares (``tailreg reproduce`` passes these)."""
    ap = argparse.ArgumentParser(
        prog=f"python -m {__package__}.{name}", description=doc.splitlines()[0]
    )
    ap.add_argument("--out", type=Path, default=Path("results") / name)
    ap.add_argument("--config", type=Path, default=config_file(name), help="the study's TOML file")
    ap.add_argument("--quick", action="store_true", help="small configuration (minutes)")
    ap.add_argument("--backend", default="processes", choices=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--force", action="store_true", help="recompute finished cells")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap


def read_toml(path: Path | Traversable) -> dict[str, Any]:
    """A study file as a dict."""
    return tomllib.loads(path.read_text())


def write_table(df: pd.DataFrame, stem: Path) -> None:
    """``stem.csv`` and ``stem.md``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(stem.with_suffix(".csv"), index=False, float_format="%.6g")
    stem.with_suffix(".md").write_text(plotting.table_markdown(df))


def write_study_meta(
    out: Path,
    name: str,
    spec: Mapping[str, Any],
    t0: float,
    *,
    cells: Mapping[str, str] | None = None,
    computed: int | None = None,
    **info: Any,
) -> dict[str, Any]:
    """``meta.json`` of a study (:func:`tailreg.simulation.store.write_run_meta`).

    Records the wall time of this run and ``compute_wall_time_seconds``, the wall time of
    the run that computed the results: kept from the previous ``meta.json`` when this run
    computed nothing (``computed == 0``).
    """
    wall = round(time.time() - t0, 1)
    compute_wall = wall
    old = out / "meta.json"
    if computed == 0 and old.is_file():
        compute_wall = json.loads(old.read_text()).get("compute_wall_time_seconds", wall)
    extra = {} if computed is None else {"cells_computed": computed}
    return write_run_meta(
        out,
        name=name,
        seed=spec.get("seed"),
        spec=spec,
        cells=cells,
        wall_time_seconds=wall,
        compute_wall_time_seconds=compute_wall,
        **extra,
        **info,
    )


# --------------------------------------------------------------------------------------
# the grid studies (consistency, normality, efficiency): a main and a costly engine study
# --------------------------------------------------------------------------------------
def load_config(path: Path | Traversable, quick: bool) -> dict:
    """Read a study TOML; with ``quick`` apply its ``[quick]`` table.

    ``[quick]`` keys ``replications``, ``sample_sizes`` and ``costly_replications`` replace
    the engine keys; any other key ``k`` replaces ``cfg[table][k']`` for ``k = table_k'``
    (e.g. ``targets_n`` -> ``[targets].n``).
    """
    cfg = read_toml(path)
    if quick:
        for key, value in cfg.get("quick", {}).items():
            if key in ("replications", "sample_sizes"):
                cfg[key] = value
            elif key == "costly_replications":
                cfg["costly"]["replications"] = value
            else:
                table, _, sub = key.partition("_")
                cfg.setdefault(table, {})[sub] = value
    return cfg


_ENGINE_KEYS = (
    "name", "seed", "replications", "sample_sizes", "seed_block", "max_errors",
    "design", "designs", "errors", "estimators",
)  # fmt: skip


def split_studies(cfg: dict) -> dict[str, Study]:
    """The engine studies of a config: ``main`` and, if ``[costly]`` names estimators, ``costly``.

    Both share seed, seed block, designs and laws, so replication r of a cell holds the same
    data in both; ``costly`` runs only its first ``[costly].replications`` replications (and
    only the designs labelled in ``[costly].designs`` when given).
    """
    base = {k: copy.deepcopy(v) for k, v in cfg.items() if k in _ENGINE_KEYS}
    costly = cfg.get("costly", {})
    names = set(costly.get("estimators", []))
    ests = base.pop("estimators")
    main = [e for e in ests if e.get("label", e["name"]) not in names]
    rest = [e for e in ests if e.get("label", e["name"]) in names]
    studies = {"main": Study.from_dict({**base, "estimators": main})}
    if rest:
        reps = min(int(costly["replications"]), int(base["replications"]))
        part = {**base, "name": f"{base['name']}-costly", "replications": reps, "estimators": rest}
        if "designs" in costly:  # the costly estimators only on these design labels
            part["designs"] = [d for d in base["designs"] if d.get("label") in costly["designs"]]
        studies["costly"] = Study.from_dict(part)
    return studies


def run_parts(
    cfg: dict,
    out: Path,
    *,
    backend: str,
    workers: int,
    force: bool,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run every engine part into ``out/raw/<part>``; return the joined replications and walls."""
    frames, walls = [], {}
    for part, study in split_studies(cfg).items():
        t0 = time.time()
        run = run_study(
            study,
            out=out / "raw" / part,
            backend=backend,
            workers=workers,
            force=force,
            progress=sys.stderr.isatty() if progress is None else progress,
        )
        frames.append(run.replications)
        walls[part] = round(time.time() - t0, 1)
    return pd.concat(frames, ignore_index=True), walls


def law_objects(cfg: dict) -> dict[str, object]:
    """Law label -> ``tailreg.distributions`` law object of every error spec."""
    study = split_studies(cfg)["main"]
    return {e.name: make_error_law(e) for e in study.errors}


def est_order(names: Sequence[str]) -> list[str]:
    """Estimators in the house order."""
    known = [e for e in NAMES if e in set(names)]
    return known + sorted(set(names) - set(known))
