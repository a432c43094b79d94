"""Every example in a public docstring runs and prints what it says (doctest)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tailreg

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tailreg.__path__, prefix="tailreg.")
    if not any(part.startswith("_") for part in m.name.split("."))
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        if any(t.examples for t in finder.find(module, name)):
            found.append(name)
    return found


WITH_EXAMPLES = _with_examples()


def test_examples_exist() -> None:
    # the user guide's promise that docstrings carry runnable examples
    assert len(WITH_EXAMPLES) >= 5


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
