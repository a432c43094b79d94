"""The package's import arrows point down: solvers import neither estimators nor inference,
inference does not import estimators, and no module hides an import inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tailreg

ROOT = Path(tailreg.__file__).parent
LAYERED = [
    "_linalg.py",
    "_typing.py",
    "_validation.py",
    "scale.py",
    "solvers",
    "estimators",
    "inference",
]


def _modules(*names: str) -> list[Path]:
    out: list[Path] = []
    for name in names:
        path = ROOT / name
        out.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    return out


def _imports(path: Path) -> list[tuple[str, ast.AST]]:
    """(absolute module name, node) of every import in the file."""
    package = ".".join(("tailreg", *path.relative_to(ROOT).with_suffix("").parts[:-1]))
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((name, node))
    return out


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("solvers", ("tailreg.estimators", "tailreg.inference")),
        ("inference", ("tailreg.estimators",)),
        ("_linalg.py", ("tailreg.estimators", "tailreg.inference", "tailreg.solvers")),
        ("scale.py", ("tailreg.estimators", "tailreg.inference", "tailreg.solvers")),
    ],
)
def test_imports_point_down(layer, forbidden):
    for path in _modules(layer):
        for name, _ in _imports(path):
            assert not name.startswith(forbidden), f"{path.name} imports {name}"


def test_no_function_local_imports():
    for path in _modules(*LAYERED):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    assert not isinstance(node, ast.Import | ast.ImportFrom), (
                        f"{path.name}:{node.lineno} imports inside {fn.name}()"
                    )
