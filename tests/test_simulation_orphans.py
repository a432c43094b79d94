"""Stopping a ``--backend processes`` run leaves no workers behind (issue 12 item 6).

A real run starts in a subprocess; once its workers compute, the parent is killed with
SIGKILL (workers notice their parent is gone and exit), SIGTERM or SIGINT (the parent stops
its workers at once, keeps the finished cells and exits 143 / 130). The children are found
with psutil (a dependency of dask.distributed) before the kill and must all be gone within
a few seconds after it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tailreg.simulation import Study, read_results, run_study
from tailreg.simulation.store import CELLS, cell_path, verify_cell

LONG_TOML = """
name = "orphans"
seed = 4
replications = 400
sample_sizes = [60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170]
seed_block = 50
[design]
x = "normal"
beta = [1.0, -0.5]
[[errors]]
law = "t"
df = 3
[[estimators]]
name = "ols"
kinds = ["classical"]
[[estimators]]
name = "mm"
"""


def _start(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    spec = tmp_path / "long.toml"
    spec.write_text(LONG_TOML)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tailreg",
            "run",
            str(spec),
            "--out",
            str(out),
            "--backend",
            "processes",
            "--workers",
            "2",
            "--block-size",
            "50",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    return proc, spec, out


def _workers_when_busy(proc: subprocess.Popen, out: Path, cells: int) -> list[psutil.Process]:
    """Wait until both workers run and ``cells`` cells are finished; return the children."""
    deadline = time.monotonic() + 120
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended early: {proc.stderr.read()}"
        kids = parent.children(recursive=True)
        done = len(list((out / CELLS).glob("*.parquet"))) if (out / CELLS).is_dir() else 0
        if len(kids) >= 2 and done >= cells:
            return kids
        time.sleep(0.02)
    raise AssertionError("the workers did not start")


def _gone_within(procs: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    _gone, alive = psutil.wait_procs(procs, timeout=seconds)
    for p in alive:  # do not leave them to the next test
        p.kill()
    return alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_parent_leaves_no_workers(tmp_path, sig):
    proc, _spec, out = _start(tmp_path)
    kids = _workers_when_busy(proc, out, cells=0)
    proc.send_signal(sig)
    code = proc.wait(timeout=30)
    assert _gone_within(kids, 5.0) == [], "worker processes outlived their parent"
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 143)
    for path in (out / CELLS).glob("*.parquet"):  # what was finished is intact
        assert verify_cell(path, replications=400).ok


def test_sigint_stops_cleanly_and_the_rerun_resumes(tmp_path):
    proc, spec, out = _start(tmp_path)
    kids = _workers_when_busy(proc, out, cells=1)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=30)
    err = proc.stderr.read()
    assert _gone_within(kids, 5.0) == []
    assert code == 130, err
    assert "stopped by interrupt; finished cells are kept" in err and "Traceback" not in err
    study = Study.from_toml(spec)
    finished = sorted((out / CELLS).glob("*.parquet"))
    assert 1 <= len(finished) < len(study.cells())
    for path in finished:
        assert verify_cell(path, replications=400, estimators=["ols", "mm"]).ok
    done = [c.n for c in study.cells() if cell_path(out, study, c).is_file()]
    assert len(done) == len(finished)
    small = study.replace(sample_sizes=tuple(done))
    resumed = run_study(small, out=out, progress=False)
    assert (resumed.cells_skipped, resumed.cells_run) == (len(done), 0)
    fresh = run_study(small, progress=False).replications
    pd.testing.assert_frame_equal(read_results(out, small), fresh, check_exact=True)
