"""The store: atomic per-cell files, resume after SIGKILL, --force, failed fits, meta.json."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tailreg.simulation import SimulationError, Study, read_results, run_study
from tailreg.simulation.store import CELLS, cell_path, clean_partials, write_cell

KILL_TOML = """
name = "kill"
seed = 99
replications = 300
sample_sizes = [100, 150, 200, 250, 300, 350, 400, 450, 500, 550]
seed_block = 100
[design]
x = "normal"
beta = [1.0, -0.5, 0.25]
[[errors]]
law = "t"
df = 3
[[estimators]]
name = "ols"
kinds = ["classical", "HC0", "HC3"]
"""


def _digest(p: Path) -> tuple[str, int]:
    return hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns


def test_kill_and_resume(tmp_path):
    spec = tmp_path / "kill.toml"
    spec.write_text(KILL_TOML)
    study = Study.from_toml(spec)
    out = tmp_path / "run"
    cells_dir = out / CELLS
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tailreg.cli import main; sys.exit(main())",
            "run",
            str(spec),
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    finished: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        finished = sorted(cells_dir.glob("*.parquet")) if cells_dir.is_dir() else []
        if len(finished) >= 2:
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted(cells_dir.glob("*.parquet"))
    n_total = len(study.cells())
    assert 2 <= len(finished) < n_total
    # every file with a final name is complete (atomic rename); partial writes are .tmp only
    for p in finished:
        assert len(pd.read_parquet(p)) == 300 * 4
    # every finished file has its checksum; anything else is a temporary file
    for p in finished:
        assert (cells_dir / (p.name + ".sha256")).is_file()
    assert all(
        p.name.startswith(".") and p.name.endswith(".tmp")
        for p in cells_dir.iterdir()
        if p.suffix not in (".parquet", ".sha256")
    )
    before = {p.name: _digest(p) for p in finished}

    resumed = run_study(study, out=out, progress=False)
    assert resumed.cells_skipped == len(finished)
    assert resumed.cells_run == n_total - len(finished)
    for p in finished:
        assert _digest(p) == before[p.name], f"{p.name} was touched by the resumed run"
    assert not list(cells_dir.glob(".*.tmp"))

    clean = run_study(study, out=tmp_path / "clean", progress=False)
    pd.testing.assert_frame_equal(read_results(out), clean.replications, check_exact=True)


STUDY = {
    "name": "store",
    "seed": 5,
    "replications": 12,
    "sample_sizes": [15, 25],
    "seed_block": 6,
    "design": {"x": "normal", "beta": [0.5]},
    "errors": [{"law": "laplace"}],
    "estimators": [{"name": "ols", "kinds": ["classical"]}],
}


def test_rerun_skips_and_force_recomputes(tmp_path):
    s = Study.from_dict(STUDY)
    first = run_study(s, out=tmp_path, progress=False)
    assert (first.cells_run, first.cells_skipped) == (2, 0)
    files = sorted((tmp_path / CELLS).glob("*.parquet"))
    assert [p.name for p in files] == sorted(cell_path(tmp_path, s, c).name for c in s.cells())
    stamp = {p: _digest(p) for p in files}
    again = run_study(s, out=tmp_path, progress=False)
    assert (again.cells_run, again.cells_skipped) == (0, 2)
    assert {p: _digest(p) for p in files} == stamp
    time.sleep(0.01)
    forced = run_study(s, out=tmp_path, force=True, progress=False)
    assert forced.cells_run == 2
    for p in files:
        _sha, mtime = _digest(p)
        assert mtime != stamp[p][1]
    pd.testing.assert_frame_equal(forced.replications, first.replications, check_exact=True)


def test_added_cell_leaves_existing_files_valid(tmp_path):
    s = Study.from_dict(STUDY)
    run_study(s, out=tmp_path, progress=False)
    bigger = Study.from_dict({**STUDY, "sample_sizes": [15, 25, 35]})
    r = run_study(bigger, out=tmp_path, progress=False)
    assert (r.cells_run, r.cells_skipped) == (1, 2)
    table = r.replications
    old = read_results(tmp_path, s)
    pd.testing.assert_frame_equal(table[table.n < 35].reset_index(drop=True), old, check_exact=True)


def test_meta_json(tmp_path):
    s = Study.from_dict(STUDY)
    run_study(s, out=tmp_path, progress=False)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["seed"] == 5 and meta["name"] == "store"
    assert Study.from_dict(meta["spec"]) == s
    assert meta["backend"] == "serial" and meta["finished"] is not None
    assert {"numpy", "scipy", "pandas", "tailreg", "python"} <= set(meta["versions"])
    assert len(meta["cells"]) == 2 and meta["wall_time"] >= 0
    assert list(meta["cells"]) == [cell_path(tmp_path, s, c).name for c in s.cells()]
    assert set(meta["cells"].values()) == {"computed"}
    assert meta["date"] and "git_sha" in meta and "git_dirty" in meta
    assert meta["theory_failures"] == [] and meta["no_theory"] == []
    again = run_study(s, out=tmp_path, progress=False)
    assert again.cells_skipped == 2
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert set(meta["cells"].values()) == {"reused"}


def test_atomic_write_leaves_no_temporary(tmp_path):
    target = tmp_path / CELLS / "a.parquet"
    write_cell(target, pd.DataFrame({"a": [1.0, 2.0]}))
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.parquet", "a.parquet.sha256"]
    (target.parent / ".b.parquet.123.tmp").write_bytes(b"partial")
    assert [p.name for p in clean_partials(tmp_path)] == [".b.parquet.123.tmp"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.parquet", "a.parquet.sha256"]


def test_failed_fits_are_rows_and_the_cap_stops_with_a_seed_key():
    # the plug-in raises when y[0] > 100; with an intercept of 1000 every fit fails (its probe
    # fit at parse time, on data of its own, passes)
    d = {
        **STUDY,
        "sample_sizes": [8],
        "design": {"x": "normal", "beta": [1.0, 2.0], "intercept": 1000.0},
        "estimators": [{"name": "sim_plugins:MedianInterceptOLS", "fail_above": 100.0}],
    }
    with pytest.raises(
        SimulationError,
        match=r"exceed max_errors=0.*seed key '5:[0-9a-f]{16}:0:0'"
        r".*RuntimeError: y\[0\] = .*replay",
    ):
        run_study(Study.from_dict({**d, "max_errors": 0}), progress=False)
    table = run_study(Study.from_dict({**d, "max_errors": 100}), progress=False).replications
    assert len(table) == 12 * 3
    assert table["estimate"].isna().all() and not table["converged"].any()
    assert table["error"].str.startswith("RuntimeError: y[0] = ").all()
    assert list(table["parameter"][:3]) == ["const", "x1", "x2"]
    assert np.isfinite(table["true_value"]).all()
