"""The studies are an installed package found by name: packaging, discovery and hygiene."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import tailreg_experiments

from tailreg import reproduce

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_is_listed_for_the_wheel():
    """setuptools gets an explicit package list (it must rename experiments/): none missing."""
    cfg = _pyproject()["tool"]["setuptools"]
    listed = set(cfg["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT / "src").parts)
        for p in (ROOT / "src").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert cfg["package-dir"]["tailreg_experiments"] == "experiments"
    assert not list(EXPERIMENTS.glob("*/__init__.py")), "subpackages need listing too"
    data = cfg["package-data"]["tailreg_experiments"]
    assert "*.toml" in data and "report/*.md" in data


def test_the_installed_package_is_this_checkout():
    assert Path(tailreg_experiments.__file__).resolve().parent == EXPERIMENTS


def test_builtin_studies_are_found_by_name():
    names = reproduce.available_studies()[: len(tailreg_experiments.STUDIES)]
    assert names == tailreg_experiments.STUDIES == reproduce.STUDIES
    assert {p.stem for p in EXPERIMENTS.glob("*.toml")} == set(names)
    for name in names:
        mod = reproduce.load_study(name)
        assert mod.__name__ == f"tailreg_experiments.{name}"
        assert callable(mod.main) and callable(mod.report_section)
    with pytest.raises(ValueError, match="unknown study 'nope'; available: consistency"):
        reproduce.load_study("nope")


def test_plugin_studies_come_from_the_entry_point_group(tmp_path, monkeypatch):
    (tmp_path / "toy_study_plugin.py").write_text(
        "def main(argv):\n"
        "    import pathlib, sys\n"
        "    out = pathlib.Path(argv[argv.index('--out') + 1])\n"
        "    out.mkdir(parents=True, exist_ok=True)\n"
        "    (out / 'meta.json').write_text('{}')\n"
        "    return 0\n"
        "def report_section(out, rel):\n"
        "    return f'## Toy study\\n\\nran into {rel}\\n'\n"
    )
    (tmp_path / "broken_study_plugin.py").write_text("main = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        metadata.EntryPoint("toy", "toy_study_plugin", reproduce.ENTRY_POINT_GROUP),
        metadata.EntryPoint("broken", "broken_study_plugin", reproduce.ENTRY_POINT_GROUP),
        metadata.EntryPoint("robustness", "toy_study_plugin", reproduce.ENTRY_POINT_GROUP),
    ]
    real = metadata.entry_points

    def fake(**kw):
        return eps if kw.get("group") == reproduce.ENTRY_POINT_GROUP else real(**kw)

    monkeypatch.setattr(reproduce.metadata, "entry_points", fake)
    with pytest.warns(RuntimeWarning, match="ignoring the plug-in study 'robustness'"):
        assert reproduce.available_studies()[-2:] == ("broken", "toy")
    with (
        pytest.warns(RuntimeWarning),
        pytest.raises(TypeError, match=r"'broken' .* has no main and no report_section"),
    ):
        reproduce.load_study("broken")
    out = tmp_path / "out"
    with pytest.warns(RuntimeWarning):
        assert reproduce.main(["--only", "toy", "--out", str(out), "--backend", "serial"]) == 0
    text = (out / "REPORT.md").read_text()
    # the plug-in's section follows the (here not run) built-in ones, numbered after them
    assert f"## {len(reproduce.STUDIES) + 2}. Toy study\n\nran into toy" in text
    assert "*Not run in this reproduction: consistency, normality" in text


def test_unknown_study_on_the_command_line_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="unknown study 'nope'"):
        reproduce.main(["--only", "nope", "--out", str(tmp_path)])


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out.append((node.module or "", [a.name for a in node.names], node.level))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], 0) for a in node.names]
    return out


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.py")), ids=lambda p: p.name)
def test_studies_are_thin_and_clean(path):
    """No sys.path edits or exec, no imports between studies, no private tailreg names."""
    src = path.read_text()
    assert "sys.path" not in src and "exec(" not in src and "spec_from_file_location" not in src
    studies = set(tailreg_experiments.STUDIES)
    for module, names, level in _imports(path):
        if level:  # inside the package: only the shared module
            assert module in ("common", ""), f"{path.name} imports .{module}"
            assert not set(names) & studies
        else:
            assert module.split(".")[0] not in studies, f"{path.name} imports {module}"
            if module.startswith("tailreg"):
                parts = module.split(".")[1:] + names
                assert not any(p.startswith("_") for p in parts), f"{module}: {names}"


def test_studies_run_from_any_directory(tmp_path, monkeypatch):
    """Nothing is read from the working directory: the shipped TOMLs and report text."""
    monkeypatch.chdir(tmp_path)
    assert "tailreg_experiments.robustness" in sys.modules or reproduce.load_study("robustness")
    from tailreg_experiments.common import config_file

    assert config_file("robustness").read_text().startswith("# Study `robustness`")
    path = reproduce.build_report(tmp_path / "r", quick=True)
    text = path.read_text()
    assert (
        text.startswith("# Least squares under skewed") and "Not run in this reproduction" in text
    )
