"""Monte Carlo studies of regression estimators: specification, seeds, engine, store, metrics.

Typical use::

    from tailreg.simulation import Study, run_study
    run = run_study(Study.from_toml("study.toml"), out="results/t3", backend="processes")
    run.replications      # one row per (cell, replication, estimator, parameter)
    run.summary()         # bias, RMSE, coverage, ... each with its Monte Carlo SE

The command line does the same: ``tailreg run study.toml --out DIR`` and
``tailreg summarize DIR``.

Studies are open: ``[[estimators]] name = "package.module:Class"`` fits any
scikit-learn-style regressor (:mod:`~tailreg.simulation.plugins`), ``[[errors]] law =
"scipy.stats:NAME"`` any continuous scipy law (:mod:`~tailreg.simulation.error_laws`), and
``[design] x = { file = "design.csv", ... }`` the rows of a file
(:mod:`~tailreg.simulation.regressors`); the same as a dict::

    study = Study.from_dict(
        {
            "name": "open", "seed": 1, "replications": 500, "sample_sizes": [60, 240],
            "design": {"x": {"file": "design.csv", "columns": ["schooling", "experience"]},
                       "beta": [0.08, 0.02]},
            "errors": [{"law": "scipy.stats:gennorm", "beta": 1.2, "scale": "iqr"}],
            "estimators": [
                {"name": "ols"},
                {"name": "sklearn.linear_model:HuberRegressor", "alpha": 0.0},
            ],
        },
        base_dir="examples",  # where design.csv is
    )
    run_study(study).summary()  # with ``theory`` and ``warnings`` per estimator and cell

Modules, each importing only those above it: ``_checks``, ``seeds``, ``plugins``,
``regressors``, ``error_laws``, ``registry`` (estimator names and :class:`EstimatorSpec`),
``spec`` (pure data + validation), ``generate``, ``targets``, ``metrics``, ``engine``
(fitting one seed block), ``store``, ``backends``, ``runner`` (:func:`run_study`).
"""

from .generate import replay
from .metrics import summarize
from .registry import EstimatorSpec
from .runner import SimulationError, StudyRun, run_study
from .spec import Cell, Design, ErrorSpec, Study
from .store import read_results
from .tasks import Task, TaskRun, run_tasks

__all__ = [
    "Cell",
    "Design",
    "ErrorSpec",
    "EstimatorSpec",
    "SimulationError",
    "Study",
    "StudyRun",
    "Task",
    "TaskRun",
    "read_results",
    "replay",
    "run_study",
    "run_tasks",
    "summarize",
]
