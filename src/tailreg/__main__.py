"""``python -m tailreg``: the ``tailreg`` command line (:func:`tailreg.cli.main`).

``python -m`` puts the working directory first on ``sys.path``; the console script does
not. It is taken off again here, so that both commands import the same modules and never a
file of the working directory (a stray ``tailreg_experiments/`` or plug-in module there).
"""

from __future__ import annotations

import os
import sys


def _drop_working_directory() -> None:
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != cwd]


if __name__ == "__main__":
    _drop_working_directory()
    from tailreg.cli import main

    sys.exit(main())
