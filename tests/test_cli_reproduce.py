"""``tailreg reproduce`` never executes files from the working directory (issue 12 item 12).

A working directory holding a malicious ``tailreg_experiments/`` package, an
``experiments/`` folder and a plug-in-looking module is used with the console script, with
``python -m tailreg`` (which puts the working directory on ``sys.path``) and with
``PYTHONPATH=.``; none of those files may run (each would write a marker file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tailreg import reproduce

PAYLOAD = "from pathlib import Path\nPath({marker!r}).write_text('pwned')\n"


@pytest.fixture
def hostile_cwd(tmp_path) -> tuple[Path, Path]:
    cwd = tmp_path / "cwd"
    marker = tmp_path / "MARKER"
    code = PAYLOAD.format(marker=str(marker))
    for rel in (
        "tailreg_experiments/__init__.py",
        "tailreg_experiments/consistency.py",
        "experiments/__init__.py",
        "experiments/consistency.py",
        "consistency.py",
        "common.py",
    ):
        path = cwd / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code + "STUDIES = ('consistency',)\n")
    return cwd, marker


def _commands() -> list[list[str]]:
    script = shutil.which("tailreg", path=str(Path(sys.executable).parent))
    cmds = [[sys.executable, "-m", "tailreg"]]
    if script:
        cmds.append([script])
    return cmds


@pytest.mark.parametrize("pythonpath", [None, "."])
def test_reproduce_imports_nothing_from_the_working_directory(hostile_cwd, pythonpath):
    cwd, marker = hostile_cwd
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    for cmd in _commands():
        out = subprocess.run(
            [*cmd, "reproduce", "--report-only", "--out", str(cwd / "report")],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert not marker.exists(), f"{cmd} executed a file of the working directory"
        assert out.returncode == 0, out.stderr
        assert (cwd / "report" / "REPORT.md").is_file()


def test_load_study_comes_from_the_installed_package(hostile_cwd, monkeypatch):
    cwd, marker = hostile_cwd
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))
    for name in [m for m in list(sys.modules) if m.startswith("tailreg_experiments")]:
        monkeypatch.delitem(sys.modules, name)
    study = reproduce.load_study("consistency")
    assert not marker.exists()
    assert not Path(study.__file__).resolve().is_relative_to(cwd.resolve())
    assert str(cwd) in sys.path  # the caller's sys.path is left as it was
