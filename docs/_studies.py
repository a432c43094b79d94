"""Write one documentation page per built-in study, from the study's docstring and results.

Each page shows what the study does (its module docstring), every figure the committed run
left in ``results/<study>/`` and its small tables (CSV, at most ``MAX_ROWS`` rows; larger ones
are named with their path). The pages are regenerated at every build, so they never describe
a study that no longer exists.
"""

from __future__ import annotations

import importlib
import inspect
import shutil
from pathlib import Path

from tailreg.reproduce import BUILTIN_PACKAGE, builtin_studies

MAX_ROWS = 30


def _title(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def _page(name: str, results: Path, out: Path) -> str:
    module = importlib.import_module(f"{BUILTIN_PACKAGE}.{name}")
    doc = inspect.cleandoc(module.__doc__ or "")
    head, _, body = doc.partition("\n")
    lines = [f".. _study-{name}:", "", _title(f"Study ``{name}``", "="), head.strip(), ""]
    lines += [body.strip(), ""]
    folder = results / name
    figures = sorted(folder.glob("fig_*.png")) if folder.is_dir() else []
    tables = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not figures and not tables:
        lines += [
            "This study has no committed results yet (``tailreg reproduce`` writes them).",
            "",
        ]
        return "\n".join(lines)
    lines += [_title("Figures", "-")]
    img = out / "_img" / name
    img.mkdir(parents=True, exist_ok=True)
    for fig in figures:
        shutil.copy2(fig, img / fig.name)
        lines += [
            f".. figure:: _img/{name}/{fig.name}",
            "   :width: 90%",
            "",
            f"   ``{fig.name}``",
            "",
        ]
    lines += [_title("Tables", "-")]
    for table in tables:
        n_rows = sum(1 for _ in table.open()) - 1
        rel = f"results/{name}/{table.name}"
        if n_rows > MAX_ROWS:
            lines += [f"* ``{rel}``: {n_rows} rows (in the repository).", ""]
            continue
        shutil.copy2(table, img / table.name)
        lines += [
            f".. csv-table:: ``{rel}``",
            f"   :file: _img/{name}/{table.name}",
            "   :header-rows: 1",
            "",
        ]
    return "\n".join(lines)


def write_pages(out: Path, results: Path) -> None:
    """Write ``out/index.rst`` and ``out/<study>.rst`` for every built-in study."""
    out.mkdir(parents=True, exist_ok=True)
    names = builtin_studies()
    index = [
        _title("Studies", "="),
        "The Monte Carlo studies behind ``results/REPORT.md``, in report order. "
        "``tailreg reproduce`` reruns them all (``--quick`` for a fast check).",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    index += [f"   {name}" for name in names]
    (out / "index.rst").write_text("\n".join(index) + "\n")
    for name in names:
        (out / f"{name}.rst").write_text(_page(name, results, out))
