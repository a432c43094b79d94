"""``tailreg reproduce``: run every study in ``experiments/`` and rebuild ``REPORT.md``.

Each study is a script ``experiments/<name>.py`` with ``main(argv)`` (writes its figures and
tables under ``<out>/<name>/``) and ``report_section(out, rel)`` (its part of the report, the
numbers read from its own tables). Full runs write to ``results/`` — the committed reference
output; ``--quick`` runs small configurations into ``results-quick/`` (git-ignored) and refuses
to write into ``results/``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["STUDIES", "build_report", "find_experiments", "main"]

#: studies in report order
STUDIES: tuple[str, ...] = (
    "consistency",
    "normality",
    "efficiency",
    "skewness",
    "inference",
    "robustness",
    "network",
)

_TITLE = "# Least squares under skewed and heavy-tailed errors — and what robust estimators buy"


def find_experiments(explicit: Path | None = None) -> Path:
    """The ``experiments/`` folder: given, under the working directory, or beside the package."""
    candidates = [explicit] if explicit else []
    candidates += [Path.cwd() / "experiments", Path(__file__).resolve().parents[2] / "experiments"]
    for c in candidates:
        if c is not None and (c / "_common.py").is_file():
            return c
    raise FileNotFoundError(
        "cannot find the experiments/ folder (run from a tailreg checkout or pass --experiments)"
    )


def load_study(experiments: Path, name: str) -> ModuleType:
    """Import ``experiments/<name>.py`` as a module."""
    path = experiments / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no study script {path}")
    if str(experiments) not in sys.path:
        sys.path.insert(0, str(experiments))
    spec = importlib.util.spec_from_file_location(f"tailreg_study_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_report(out: Path, experiments: Path, studies: Sequence[str], *, quick: bool) -> Path:
    """Assemble ``out/REPORT.md`` from the theory text and each study's section."""
    parts = [_TITLE, ""]
    if quick:
        parts += [
            "> **Quick reproduction** (`tailreg reproduce --quick`): small Monte Carlo sizes, so "
            "the standard errors are wide. The reference results are in `results/REPORT.md`.",
            "",
        ]
    parts.append((experiments / "report" / "intro.md").read_text())
    parts.append((experiments / "report" / "theory.md").read_text())
    missing = []
    for number, name in enumerate(studies, start=2):
        folder = out / name
        if not (folder / "meta.json").is_file():
            missing.append(name)
            continue
        section = load_study(experiments, name).report_section(folder, name)
        # number the study sections in report order
        parts.append(section.replace("## ", f"## {number}. ", 1))
    parts.append((experiments / "report" / "recommendations.md").read_text())
    if missing:
        parts.append(f"\n*Not run in this reproduction: {', '.join(missing)}.*\n")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "REPORT.md"
    path.write_text("\n".join(parts))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see ``tailreg reproduce --help``)."""
    ap = argparse.ArgumentParser(prog="tailreg reproduce", description=__doc__.splitlines()[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--quick", action="store_true", help="small configurations (< 10 minutes)")
    ap.add_argument(
        "--only",
        nargs="+",
        choices=STUDIES,
        metavar="NAME",
        help=f"run only these studies ({', '.join(STUDIES)})",
    )
    ap.add_argument("--backend", default="processes", choices=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default results/, or results-quick/ with --quick)",
    )
    ap.add_argument("--experiments", type=Path, default=None, help="the experiments/ folder")
    ap.add_argument("--force", action="store_true", help="recompute finished cells")
    ap.add_argument("--report-only", action="store_true", help="only rebuild REPORT.md")


def run(args: argparse.Namespace) -> int:
    experiments = find_experiments(args.experiments)
    root = experiments.parent
    out = args.out or root / ("results-quick" if args.quick else "results")
    if args.quick and out.resolve() == (root / "results").resolve():
        raise SystemExit("--quick never writes into results/ (the committed full run)")
    studies = list(args.only or STUDIES)
    if not args.report_only:
        for name in studies:
            t0 = time.time()
            print(f"[tailreg reproduce] {name} ...", flush=True)
            argv = [
                "--out",
                str(out / name),
                "--backend",
                args.backend,
                "--workers",
                str(args.workers),
            ]
            argv += ["--quick"] if args.quick else []
            argv += ["--force"] if args.force else []
            load_study(experiments, name).main(argv)
            print(f"[tailreg reproduce] {name} done in {time.time() - t0:.0f} s", flush=True)
    report = build_report(out, experiments, STUDIES, quick=args.quick)
    print(f"[tailreg reproduce] wrote {report}")
    return 0
