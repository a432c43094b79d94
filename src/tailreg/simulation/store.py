"""The result store: one Parquet file per cell, written atomically, plus ``meta.json``.

Layout of an output directory::

    DIR/meta.json                     study, seed, versions, git SHA, wall time
    DIR/cells/<design>__<law>__n<n>__<fingerprint>.parquet

A cell file is written to a temporary name in the same directory and moved into place with
``os.replace`` (atomic on POSIX), so a file with the final name is always complete: a run
killed mid-write leaves at most a ``.*.tmp`` file, which the next run deletes. The
fingerprint hashes everything that determines the cell's rows (cell key, labels, seed,
replications, seed block, estimators), so a changed study never reuses a stale file, while
adding cells leaves the existing files valid. Re-running skips cells whose file exists.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from .spec import Cell, Study

__all__ = [
    "cell_path",
    "clean_partials",
    "read_meta",
    "read_results",
    "write_cell",
    "write_meta",
]

CELLS = "cells"
META = "meta.json"


def _slug(s: str, width: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", s).strip("_")[:width] or "x"


def cell_path(out: str | Path, study: Study, cell: Cell) -> Path:
    """The file that holds (or will hold) a cell's rows."""
    name = (
        f"{_slug(cell.design.name)}__{_slug(cell.errors.name)}__n{cell.n}__"
        f"{study.fingerprint(cell)[:16]}.parquet"
    )
    return Path(out) / CELLS / name


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_cell(path: Path, frame: pd.DataFrame) -> None:
    """Write a cell's rows atomically: temporary file in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def clean_partials(out: str | Path) -> list[Path]:
    """Delete temporary files a killed run left behind; return them."""
    d = Path(out) / CELLS
    if not d.is_dir():
        return []
    left = sorted(d.glob(".*.tmp"))
    for p in left:
        p.unlink(missing_ok=True)
    return left


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _git_sha() -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    import numpy
    import pyarrow
    import scipy

    from tailreg import __version__

    return {
        "tailreg": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
    }


def write_meta(out: str | Path, study: Study, **info: Any) -> dict[str, Any]:
    """Write ``meta.json`` (atomically): the study, versions, git SHA and ``info``."""
    out = Path(out)
    meta = {
        "name": study.name,
        "seed": study.seed,
        "study": study.to_dict(),
        "cells": [
            {
                "design": c.design.name,
                "law": c.errors.name,
                "n": c.n,
                "file": cell_path(out, study, c).name,
            }
            for c in study.cells()
        ],
        "versions": _versions(),
        "git_sha": _git_sha(),
        **info,
    }
    _atomic_text(out / META, json.dumps(meta, indent=2, default=str))
    return meta


def read_meta(out: str | Path) -> dict[str, Any]:
    """Read ``meta.json`` of an output directory."""
    path = Path(out) / META
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {out} the --out directory of a study run?")
    return json.loads(path.read_text())


def read_results(
    out: str | Path, study: Study | None = None, *, missing: str = "raise"
) -> pd.DataFrame:
    """Concatenate the cell files of a study (in grid order).

    Parameters
    ----------
    out : output directory
    study : the study (default: the one recorded in ``meta.json``)
    missing : {"raise", "skip"}
        What to do when a cell has no file yet.
    """
    if study is None:
        study = Study.from_dict(read_meta(out)["study"])
    frames = []
    for cell in study.cells():
        path = cell_path(out, study, cell)
        if path.is_file():
            frames.append(pd.read_parquet(path))
        elif missing == "raise":
            raise FileNotFoundError(
                f"cell {cell.key} has no results ({path.name}); run the study first"
            )
    if not frames:
        raise FileNotFoundError(f"no finished cells under {out}")
    return pd.concat(frames, ignore_index=True)


from collections.abc import Mapping  # noqa: E402  (appended block: see write_run_meta)


def write_run_meta(
    out: str | Path,
    *,
    name: str,
    seed: int | None,
    spec: Mapping[str, Any],
    cells: Mapping[str, str] | None = None,
    **info: Any,
) -> dict[str, Any]:
    """Write ``meta.json`` of a run that is not one :class:`Study` (atomically).

    ``spec`` is the configuration as given (e.g. a study's TOML after its ``--quick``
    overrides), ``cells`` maps task keys to their files; versions and the git SHA are added.
    """
    out = Path(out)
    meta = {
        "name": name,
        "seed": seed,
        "spec": dict(spec),
        "cells": dict(cells) if cells is not None else None,
        "versions": _versions(),
        "git_sha": _git_sha(),
        **info,
    }
    _atomic_text(out / META, json.dumps(meta, indent=2, default=str) + "\n")
    return meta
