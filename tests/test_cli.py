"""The command line as a user meets it: --version, ``python -m tailreg``, clear errors.

Bad ``--workers``, ``--out`` and ``--scheduler`` values, and studies beyond the size caps,
are one-line errors with a non-zero exit status, never a traceback (issue 12 item 5).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from tailreg import cli
from tailreg.simulation import Study, run_study
from tailreg.simulation.backends import DaskBackend, get_backend
from tailreg.simulation.runner import MAX_BLOCK_VALUES, MAX_DRAWS, check_size

TOML = """
name = "clierr"
seed = 3
replications = 20
sample_sizes = [20]
seed_block = 10
[design]
beta = [1.0]
[[errors]]
law = "logistic"
[[estimators]]
name = "ols"
kinds = ["classical"]
"""


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(TOML)
    return path


def _python(*args: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tailreg {metadata.version('tailreg')}"


def test_python_m_tailreg_is_the_command(tmp_path, spec):
    out = _python("-m", "tailreg", "--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"tailreg {metadata.version('tailreg')}"
    help_m = _python("-m", "tailreg", "--help", cwd=tmp_path).stdout
    assert help_m.replace("__main__.py", "tailreg") == cli.build_parser().format_help()
    run = _python("-m", "tailreg", "run", str(spec), "--out", str(tmp_path / "o"), "--quiet")
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "o" / "cells").glob("*.parquet"))) == 1


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_bad_workers_is_an_argument_error(spec, tmp_path, capsys, workers):
    for backend in ("serial", "processes", "dask"):
        with pytest.raises(SystemExit) as exc:
            cli.main(
                [
                    "run",
                    str(spec),
                    "--out",
                    str(tmp_path),
                    "--backend",
                    backend,
                    "--workers",
                    workers,
                ]
            )
        assert exc.value.code == 2
        assert "--workers: must be an integer >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
@pytest.mark.parametrize("workers", [0, -3, 1.5, True])
def test_bad_workers_in_python_for_every_backend(backend, workers):
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        get_backend(backend, workers)
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run_study(_study(), backend=backend, workers=workers, progress=False)


def _study() -> Study:
    import tomllib

    return Study.from_dict(tomllib.loads(TOML))


def test_reproduce_bad_workers(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", "--workers", "0", "--report-only"])
    assert exc.value.code == 2 and "must be an integer >= 1" in capsys.readouterr().err


def test_out_is_a_file(spec, tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert cli.main(["run", str(spec), "--out", str(f), "--quiet"]) == 1
    assert "afile is a file, not a directory" in capsys.readouterr().err
    assert cli.main(["run", str(spec), "--out", str(f / "below"), "--quiet"]) == 1
    assert "cannot write to the output directory" in capsys.readouterr().err
    assert f.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_is_not_writable(spec, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert cli.main(["run", str(spec), "--out", str(ro / "x"), "--quiet"]) == 1
        assert "cannot write to the output directory" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_out_unwritable_proc(spec, capsys):
    # a directory nobody can write into, root included
    assert cli.main(["run", str(spec), "--out", "/proc/tailreg-out", "--quiet"]) == 1
    assert "cannot write to the output directory /proc/tailreg-out" in capsys.readouterr().err


def test_reproduce_out_is_a_file(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(SystemExit, match="is a file, not a directory"):
        cli.main(["reproduce", "--report-only", "--out", str(f)])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_fails_fast_with_a_clear_message(spec, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    code = cli.main(
        ["run", str(spec), "--out", str(tmp_path / "o"), "--scheduler", address, "--quiet"]
    )
    elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot reach the dask scheduler at '{address}'" in err and "Traceback" not in err
    assert elapsed < 15  # connect timeout 5 s, plus dask's import and the study


def test_unreachable_scheduler_in_python(tmp_path):
    be = DaskBackend(scheduler=f"tcp://127.0.0.1:{_closed_port()}", connect_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach the dask scheduler"):
        run_study(_study(), out=tmp_path, backend=be, progress=False)
    assert time.monotonic() - t0 < 10


def test_size_caps(spec, tmp_path, capsys):
    huge = _study().replace(replications=10**9)
    with pytest.raises(ValueError, match=r"error draws .* beyond the cap of 1e\+09.*allow_huge"):
        check_size(huge)
    check_size(huge, allow_huge=True)
    wide = _study().replace(seed_block=10**6, replications=10**6, sample_sizes=(200,))
    draws, block = 10**6 * 200, 10**6 * 200 * 3
    assert draws <= MAX_DRAWS
    assert block > MAX_BLOCK_VALUES
    with pytest.raises(ValueError, match=r"one seed block of cell .* lower seed_block"):
        check_size(wide)
    text = TOML.replace("replications = 20", "replications = 100000000")
    path = tmp_path / "huge.toml"
    path.write_text(text)
    t0 = time.monotonic()
    assert cli.main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "--allow-huge" in capsys.readouterr().err
    assert time.monotonic() - t0 < 5
    assert not (tmp_path / "o").exists()  # refused before anything was written
