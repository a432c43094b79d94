"""``tailreg reproduce``: run every study of the report and rebuild ``REPORT.md``.

The studies are importable modules, found by name — nothing is executed from the working
directory and nothing is put on ``sys.path`` (while a study is imported, every ``sys.path``
entry that is the working directory is taken off, so a stray ``tailreg_experiments/`` or
plug-in module there is never imported, whether tailreg was started as ``tailreg``,
``python -m tailreg`` or with ``PYTHONPATH=.``):

* the built-in studies are the modules ``tailreg_experiments.<name>`` installed with tailreg
  (the folder ``experiments/`` of a checkout), in the report order of
  ``tailreg_experiments.STUDIES``;
* further studies plug in through the entry-point group ``tailreg.studies``
  (``name = "package.module"`` in a distribution's ``[project.entry-points."tailreg.studies"]``);
  a plug-in whose name is a built-in one is ignored with a warning.

A study is a module (or object) with ``main(argv) -> int`` (writes its figures and tables
under ``--out``) and ``report_section(out, rel) -> str`` (its part of the report, the
numbers read from its own tables). Full runs write to ``results/`` under the working
directory — in a checkout, the committed reference output; ``--quick`` runs small
configurations into ``results-quick/`` (git-ignored) and refuses to write into
``results/``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = [
    "BUILTIN_PACKAGE",
    "ENTRY_POINT_GROUP",
    "add_arguments",
    "available_studies",
    "build_report",
    "load_study",
    "main",
    "run",
]

#: the package of the built-in studies
BUILTIN_PACKAGE = "tailreg_experiments"
#: entry-point group of plug-in studies
ENTRY_POINT_GROUP = "tailreg.studies"

_TITLE = "# Least squares under skewed and heavy-tailed errors — and what robust estimators buy"


@contextmanager
def _outside_working_directory() -> Iterator[None]:
    """Import with every ``sys.path`` entry that is the working directory taken off."""
    cwd = os.path.realpath(os.getcwd())
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if os.path.realpath(p or os.curdir) != cwd]
    try:
        yield
    finally:
        # keep what the import added (e.g. .pth processing), restore what was taken off
        sys.path[:] = saved + [p for p in sys.path if p not in saved]


def _import(name: str) -> ModuleType:
    with _outside_working_directory():
        module = importlib.import_module(name)
    origin = getattr(module, "__file__", None)
    if origin is not None:
        top = name.partition(".")[0]
        cwd = Path(os.getcwd()).resolve()
        shadow = (cwd / top, cwd / f"{top}.py")
        path = Path(origin).resolve()
        if any(path == s or s in path.parents for s in shadow):
            raise RuntimeError(
                f"{name} was imported from the working directory ({origin}); refusing to run "
                "it. Move that file away or run from another directory."
            )
    return module


def _builtin_package() -> ModuleType:
    try:
        return _import(BUILTIN_PACKAGE)
    except ImportError as exc:
        raise RuntimeError(
            f"the built-in studies ({BUILTIN_PACKAGE}) are not installed: reinstall tailreg "
            "(`pip install -e .` in a checkout, or `pip install tailreg`)"
        ) from exc


def builtin_studies() -> tuple[str, ...]:
    """The built-in studies, in report order."""
    return tuple(_builtin_package().STUDIES)


def __getattr__(name: str) -> Any:
    # ``reproduce.STUDIES`` (the built-in studies in report order) is read from the
    # installed package when asked for, so importing this module imports no study
    if name == "STUDIES":
        return builtin_studies()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _plugins() -> dict[str, metadata.EntryPoint]:
    builtin = set(builtin_studies())
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in builtin:
            warnings.warn(
                f"ignoring the plug-in study {ep.name!r} ({ep.value}): a built-in study has "
                "that name",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        found.setdefault(ep.name, ep)
    return found


def available_studies() -> tuple[str, ...]:
    """Every study ``tailreg reproduce`` can run: built-in ones first, then plug-ins."""
    return builtin_studies() + tuple(sorted(_plugins()))


def load_study(name: str) -> Any:
    """The study ``name``: ``tailreg_experiments.<name>``, else the plug-in of that name.

    Raises ``ValueError`` for an unknown name and ``TypeError`` when the object lacks
    ``main`` or ``report_section``.
    """
    if name in builtin_studies():
        study: Any = _import(f"{BUILTIN_PACKAGE}.{name}")
        origin = f"{BUILTIN_PACKAGE}.{name}"
    else:
        plugins = _plugins()
        if name not in plugins:
            raise ValueError(f"unknown study {name!r}; available: {', '.join(available_studies())}")
        origin = f"{plugins[name].value} (entry point {ENTRY_POINT_GROUP!r})"
        try:
            with _outside_working_directory():
                study = plugins[name].load()
        except Exception as exc:
            raise ValueError(f"study {name!r}: cannot load {origin}: {exc}") from exc
    missing = [a for a in ("main", "report_section") if not callable(getattr(study, a, None))]
    if missing:
        raise TypeError(f"study {name!r} ({origin}) has no {' and no '.join(missing)}")
    return study


def _report_text(part: str) -> str:
    return resources.files(BUILTIN_PACKAGE).joinpath("report", f"{part}.md").read_text()


def build_report(out: Path, studies: Sequence[str] | None = None, *, quick: bool) -> Path:
    """Assemble ``out/REPORT.md`` from the theory text and each study's section.

    ``studies`` (default: the built-in ones) are the sections in order; one without a
    ``meta.json`` under ``out`` is listed as not run. Plug-in studies that have run into
    ``out`` follow the built-in ones.
    """
    _builtin_package()
    builtin = builtin_studies()
    names = list(builtin if studies is None else studies)
    names += [p for p in sorted(_plugins()) if p not in names and (out / p / "meta.json").is_file()]
    parts = [_TITLE, ""]
    if quick:
        parts += [
            "> **Quick reproduction** (`tailreg reproduce --quick`): small Monte Carlo sizes, so "
            "the standard errors are wide. The reference results are in `results/REPORT.md`.",
            "",
        ]
    parts.append(_report_text("intro"))
    parts.append(_report_text("theory"))
    missing = []
    for number, name in enumerate(names, start=2):
        folder = out / name
        if not (folder / "meta.json").is_file():
            missing.append(name)
            continue
        section = load_study(name).report_section(folder, name)
        # number the study sections in report order
        parts.append(section.replace("## ", f"## {number}. ", 1))
    parts.append(_report_text("recommendations"))
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
    """The options of ``tailreg reproduce``."""
    ap.add_argument("--quick", action="store_true", help="small configurations (< 10 minutes)")
    ap.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these studies (built-in: consistency, normality, efficiency, skewness, "
        "inference, robustness, network; or an installed plug-in study)",
    )
    ap.add_argument("--backend", default="processes", choices=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=_positive_int, default=2, help="worker processes (>= 1)")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default ./results, or ./results-quick with --quick)",
    )
    ap.add_argument("--force", action="store_true", help="recompute finished cells")
    ap.add_argument("--report-only", action="store_true", help="only rebuild REPORT.md")


def _positive_int(text: str) -> int:
    from .cli import positive_int  # the CLI's type; imported late (cli imports this module)

    return positive_int(text)


def _check_out(out: Path) -> None:
    """A clear exit (no traceback) for an output folder that cannot be used."""
    if out.exists() and not out.is_dir():
        raise SystemExit(f"tailreg reproduce: --out {out} is a file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SystemExit(
            f"tailreg reproduce: cannot write to --out {out}: {exc.strerror or exc}"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run the studies of ``args`` (see :func:`add_arguments`) and rebuild the report."""
    out = args.out or Path("results-quick" if args.quick else "results")
    if args.quick and out.resolve() == Path("results").resolve():
        raise SystemExit("--quick never writes into results/ (the committed full run)")
    _check_out(out)
    studies = list(args.only or builtin_studies())
    known = available_studies()
    unknown = [s for s in studies if s not in known]
    if unknown:
        raise SystemExit(
            f"tailreg reproduce: unknown study {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(known)}"
        )
    if not args.report_only:
        for name in studies:
            study = load_study(name)
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
            study.main(argv)
            print(f"[tailreg reproduce] {name} done in {time.time() - t0:.0f} s", flush=True)
    report = build_report(out, quick=args.quick)
    print(f"[tailreg reproduce] wrote {report}")
    return 0
