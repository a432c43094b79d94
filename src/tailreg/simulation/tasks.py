"""A generic resumable task runner, for Monte Carlo work that is not a linear-model study.

:func:`~tailreg.simulation.run_study` runs grids of (design, error law, n) cells of linear
models. Studies with another shape — contaminated samples, sensitivity curves, neural
networks, big-sample fits — describe their work as :class:`Task` objects instead and hand
them to :func:`run_tasks`, which gives them the engine's guarantees:

* **seeds from identity** — a task's random streams are
  ``SeedSequence(task.seed, spawn_key=(*words(task.key), replication))`` with ``words`` the
  eight 32-bit words of ``sha256(task.key)`` (:func:`tailreg.simulation.seeds.key_words`),
  never the run order, the backend or the worker count;
* **one file per task**, written atomically (:func:`tailreg.simulation.store.write_cell`)
  under a name that fingerprints the key, the seed and the payload, so a changed task never
  reuses a stale file;
* **resume** — a rerun skips the tasks whose file exists and passes its verification
  (:func:`tailreg.simulation.store.verify_cell`: checksum, readable Parquet); a file that
  fails is set aside with a warning naming it and its task recomputed (``force=True``
  recomputes every task);
* **backends** — ``serial``, ``processes`` or ``dask``
  (:func:`tailreg.simulation.backends.get_backend`), every task under one BLAS thread, so
  the numbers do not depend on the backend; the parent process alone writes the files;
* a progress bar (tqdm, on stderr).

Typical use::

    def simulate(task: Task) -> pd.DataFrame:
        rng = task.rng()                      # the task's replication-0 stream
        ...
        return frame

    tasks = [Task(f"eps={e}", {"eps": e}, seed=2026) for e in (0.0, 0.1)]
    run = run_tasks(simulate, tasks, "out/raw", backend="processes", workers=4)
    table = run.frame()                       # every task's rows, in task order
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController
from tqdm.auto import tqdm

from .backends import Backend, get_backend
from .seeds import key_words
from .store import StoreWarning, set_aside, verify_cell, write_cell

__all__ = ["Task", "TaskError", "TaskRun", "read_tasks", "run_tasks", "task_seed"]


class TaskError(RuntimeError):
    """A task function raised; the message names the task's key."""


def task_seed(seed: int, key: str, replication: int = 0) -> np.random.SeedSequence:
    """The ``SeedSequence`` of one replication of the task ``key`` of a study seeded ``seed``.

    ``SeedSequence(seed, spawn_key=(*key_words(key), replication))``: the stream depends on
    the identity of the task alone.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(*key_words(key), int(replication)))


def _slug(s: str, width: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", s).strip("_")[:width] or "task"


@dataclass(frozen=True)
class Task:
    """One unit of work: an identity key, the study's seed and a payload.

    Parameters
    ----------
    key : str
        The identity of the task's data: its random streams derive from it (and from
        ``seed``). Leave out of the key what must not change the data — e.g. the estimators,
        so that every estimator sees the same samples (common random numbers).
    payload : mapping
        Everything else the task function needs; JSON-serialisable (it is fingerprinted
        into the file name) and picklable (it travels to the workers).
    seed : int
        The study's root seed.
    """

    key: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    def seed_sequence(self, replication: int = 0) -> np.random.SeedSequence:
        """The stream of one replication (:func:`task_seed`)."""
        return task_seed(self.seed, self.key, replication)

    def rng(self, replication: int = 0) -> np.random.Generator:
        """A ``Generator`` on :meth:`seed_sequence`."""
        return np.random.default_rng(self.seed_sequence(replication))

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 of the key, the seed and the payload (canonical JSON)."""
        try:
            text = json.dumps(
                {"key": self.key, "seed": self.seed, "payload": self.payload}, sort_keys=True
            )
        except TypeError as exc:
            raise TypeError(
                f"task {self.key!r}: the payload must be JSON data (numbers, strings, lists, "
                f"dicts) so that it can be fingerprinted: {exc}"
            ) from exc
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def file_name(self) -> str:
        """``<slug of the key>__<fingerprint[:16]>.parquet``."""
        return f"{_slug(self.key)}__{self.fingerprint[:16]}.parquet"


@dataclass
class TaskRun:
    """What :func:`run_tasks` returns.

    Attributes
    ----------
    tasks : tuple of Task
    out : Path
        The folder of the task files.
    computed, skipped : int
        Tasks computed now, and tasks found finished.
    wall_time : float
        Seconds.
    """

    tasks: tuple[Task, ...]
    out: Path
    computed: int = 0
    skipped: int = 0
    wall_time: float = 0.0

    @property
    def files(self) -> dict[str, str]:
        """Task key -> file name (what ``meta.json`` records)."""
        return {t.key: t.file_name for t in self.tasks}

    def frame(self) -> pd.DataFrame:
        """Every task's rows, in task order (:func:`read_tasks`)."""
        return read_tasks(self.out, self.tasks)


@functools.cache
def _blas_controller() -> Any:
    # one ThreadpoolController per process: finding the BLAS libraries costs milliseconds
    return ThreadpoolController()


def _run_one(payload: tuple[int, Callable[[Task], pd.DataFrame], Task]) -> tuple[int, Any]:
    """Task function of the backends (top level, picklable): one task under one BLAS thread.

    The payload starts with the index, not the function: dask before 2024.12 reads a tuple
    whose first item is callable as a task of its graph and would call it.
    """
    index, fn, task = payload
    try:
        with _blas_controller().limit(limits=1):
            frame = fn(task)
    except Exception as exc:
        raise TaskError(f"task {task.key!r} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(frame, pd.DataFrame):
        raise TaskError(
            f"task {task.key!r}: the task function returned {type(frame).__name__}, "
            "not a pandas DataFrame"
        )
    return index, frame


def _check_unique(tasks: Sequence[Task]) -> None:
    seen: dict[str, int] = {}
    for i, t in enumerate(tasks):
        if not isinstance(t, Task):
            raise TypeError(f"tasks[{i}] is a {type(t).__name__}, not a tailreg Task")
        if t.key in seen:
            raise ValueError(
                f"tasks {seen[t.key]} and {i} share the key {t.key!r}: they would draw the "
                "same random numbers and overwrite each other's file"
            )
        seen[t.key] = i


def run_tasks(
    fn: Callable[[Task], pd.DataFrame],
    tasks: Iterable[Task],
    out: str | Path,
    *,
    backend: str | Backend = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    desc: str | None = None,
) -> TaskRun:
    """Run ``fn`` on every unfinished task and store one Parquet file per task.

    Parameters
    ----------
    fn : callable
        ``fn(task) -> DataFrame``, a pure function of the task (draw random numbers only from
        ``task.rng(r)``/``task.seed_sequence(r)``). Top level in an importable module when
        the backend runs it in other processes.
    tasks : iterable of Task
        Keys must be unique.
    out : directory
        Where the task files go (created). Temporary files a killed run left behind are
        removed first.
    backend : {"serial", "processes", "dask"} or a Backend
    workers : int, optional
        Worker processes (default: the cores available).
    scheduler : str, optional
        Address of a running dask scheduler (``backend="dask"``).
    force : bool
        Recompute tasks whose file exists.
    progress : bool
        Show a progress bar on stderr.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TaskRun
        ``.frame()`` reads the rows of every task back in task order.

    Raises
    ------
    TaskError
        When a task function raises (the message names the task); the files of the tasks
        finished before stay valid, so a rerun resumes after the fix.
    """
    tasks = tuple(tasks)
    _check_unique(tasks)
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    _clean(outp)
    t0 = time.perf_counter()
    unchecked: list[Path] = []
    todo = [i for i, t in enumerate(tasks) if force or not _reusable(outp / t.file_name, unchecked)]
    if unchecked:
        warnings.warn(
            f"{len(unchecked)} task file(s) under {outp} have no checksum (written by an older "
            f"tailreg), e.g. {unchecked[0].name}: they read back in full, so they are reused; "
            "force=True rewrites them with checksums",
            StoreWarning,
            stacklevel=2,
        )
    run = TaskRun(tasks, outp, skipped=len(tasks) - len(todo))

    bar = tqdm(
        total=len(tasks),
        initial=run.skipped,
        unit="task",
        desc=desc or outp.name,
        disable=not progress,
        dynamic_ncols=True,
    )
    be = get_backend(backend, workers, scheduler)
    try:
        payloads = [(i, fn, tasks[i]) for i in todo]
        for index, frame in be.map_unordered(_run_one, payloads):
            write_cell(outp / tasks[index].file_name, frame)
            run.computed += 1
            bar.update(1)
    finally:
        bar.close()
    run.wall_time = time.perf_counter() - t0
    return run


def _reusable(path: Path, unchecked: list[Path]) -> bool:
    """A finished task file that passes :func:`~tailreg.simulation.store.verify_cell`.

    One that fails is moved aside (``<file>.corrupt``) with a warning naming it, and its task
    is recomputed; one without a checksum (older tailreg) is noted for a single warning.
    """
    if not path.is_file():
        return False
    verdict = verify_cell(path)
    if verdict.ok:
        if not verdict.checksummed:
            unchecked.append(path)
        return True
    aside = set_aside(path)
    warnings.warn(
        f"stored task file {path} failed verification ({verdict.reason}): moved to "
        f"{aside.name}; the task is recomputed",
        StoreWarning,
        stacklevel=3,
    )
    return False


def _clean(folder: Path) -> None:
    # the temporary files of write_cell; store.clean_partials looks in <out>/cells only
    for p in folder.glob(".*.tmp"):
        p.unlink(missing_ok=True)


def read_tasks(out: str | Path, tasks: Iterable[Task]) -> pd.DataFrame:
    """The rows of the tasks' files, concatenated in task order.

    Raises ``FileNotFoundError`` naming the first task that has no file yet.
    """
    outp = Path(out)
    frames = []
    for t in tasks:
        path = outp / t.file_name
        if not path.is_file():
            raise FileNotFoundError(f"task {t.key!r} has no results ({path}); run it first")
        frames.append(pd.read_parquet(path))
    if not frames:
        raise ValueError("no tasks given")
    return pd.concat(frames, ignore_index=True)
