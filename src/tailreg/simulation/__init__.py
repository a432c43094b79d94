"""Monte Carlo studies of regression estimators: specification, seeds, engine, store, metrics.

Typical use::

    from tailreg.simulation import Study, run_study
    run = run_study(Study.from_toml("study.toml"), out="results/t3", backend="processes")
    run.replications      # one row per (cell, replication, estimator, parameter)
    run.summary()         # bias, RMSE, coverage, ... each with its Monte Carlo SE

The command line does the same: ``tailreg run study.toml --out DIR`` and
``tailreg summarize DIR``.
"""

from .engine import SimulationError, StudyRun, run_study
from .generate import replay
from .metrics import summarize
from .spec import Cell, Design, ErrorSpec, EstimatorSpec, Study
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
