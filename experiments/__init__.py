"""The studies behind tailreg's report, installed as the package ``tailreg_experiments``.

Each study is one module ``tailreg_experiments.<name>`` (the file ``experiments/<name>.py``
of a checkout) with its configuration beside it (``<name>.toml``, package data) and two
entry points:

* ``main(argv) -> int`` — run the study (``--out``, ``--config``, ``--quick``, ``--backend``,
  ``--workers``, ``--force``, ``--no-progress``), writing its tables, figures and
  ``meta.json`` under ``--out``; every random draw goes through the package's engines,
  :func:`tailreg.simulation.run_study` or :func:`tailreg.simulation.tasks.run_tasks`;
* ``report_section(out, rel) -> str`` — its section of ``REPORT.md``, every number read
  from the tables in ``out``.

``tailreg reproduce`` imports them by name, in the order of :data:`STUDIES`; the report's
fixed text is in ``report/*.md`` (package data). Run one study alone with
``python -m tailreg_experiments.<name> --out DIR``.
"""

#: the studies, in report order
STUDIES: tuple[str, ...] = (
    "consistency",
    "normality",
    "efficiency",
    "skewness",
    "inference",
    "robustness",
    "network",
    "real_data",
)

__all__ = ["STUDIES"]
