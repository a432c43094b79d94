"""Optional dependencies: imported where a feature needs them, with the extra to install.

The core install (``pip install tailreg``) gives the estimators, inference, error laws,
theory, the engine with its serial and process backends and the CLI. Four features need
more, each an extra of ``pyproject.toml``:

==============  ======================  ===============================================
extra           packages                features
==============  ======================  ===============================================
``formula``     formulaic               :func:`tailreg.fit_formula`, ``design_for``
``plot``        matplotlib              figures (studies, ``QuantileProcess.plot``)
``diagnose``    statsmodels, matplotlib :func:`tailreg.diagnose`, ``tailreg demo``
``dask``        dask.distributed        ``backend="dask"``
==============  ======================  ===============================================

``pip install "tailreg[all]"`` installs every extra (the report's studies need them all).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "require"]

#: the extra that provides each optional top-level package
EXTRAS = {
    "formulaic": "formula",
    "matplotlib": "plot",
    "statsmodels": "diagnose",
    "dask": "dask",
    "distributed": "dask",
}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise an ``ImportError`` naming the extra.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"matplotlib.figure"``.
    feature : str
        What needs it, for the message (e.g. ``"QuantileProcess.plot"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # the package that is missing: ``module`` itself, or one that ``module`` imports
        top = (exc.name or module).split(".")[0]
        extra = EXTRAS.get(top)
        if extra is None:
            raise
        raise ImportError(
            f"{feature} needs {top}, which is not installed: "
            f'pip install "tailreg[{extra}]" (or "tailreg[all]")'
        ) from exc
