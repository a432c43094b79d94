"""Execution backends behind one interface: ``serial``, ``processes`` and ``dask``.

A backend maps a top-level, picklable task function over task payloads and yields the
results as they complete (order does not matter: the engine files each result under its
cell). Every task runs with BLAS held to one thread (threadpoolctl, in the task function of
the engine), so parallel workers do not oversubscribe the cores and every backend performs
the same floating-point operations — the results are bit-identical.

Payloads are pulled from their iterator only as workers free up (at most ``2 * workers``
in flight), so a run with millions of tasks starts at once and holds a bounded number of
payloads in memory.

``processes`` workers watch their parent: when the parent dies (SIGKILL, SIGTERM, a crash),
each worker exits within :data:`PARENT_POLL` seconds, so no orphan keeps computing. They
ignore SIGINT, which is the parent's to handle: Ctrl-C (or an exception in the parent)
terminates the workers at once instead of waiting for their tasks.

``dask`` either connects to a running scheduler (``scheduler="tcp://host:8786"``, or
``"tls://..."`` with a ``distributed.security.Security``) or starts a
``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)``; dask is imported
only when this backend is used. An unreachable scheduler is a ``ConnectionError`` after
``connect_timeout`` seconds (default 5).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from itertools import islice
from numbers import Integral
from typing import Any

from .._optional import require

__all__ = [
    "BACKENDS",
    "PARENT_POLL",
    "Backend",
    "DaskBackend",
    "ProcessBackend",
    "SerialBackend",
    "check_workers",
    "get_backend",
]

#: seconds between a worker's checks that its parent is alive
PARENT_POLL = 0.25


def check_workers(workers: Any) -> int | None:
    """``workers`` as an int >= 1, or None (the default); anything else is a ValueError."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    return int(workers)


class Backend:
    """Interface: ``map_unordered(fn, payloads)`` yields ``fn(payload)`` results."""

    name = "backend"

    def map_unordered(
        self, fn: Callable[[Any], Any], payloads: Iterable[Any]
    ) -> Generator[Any, None, None]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What ``meta.json`` records about the backend."""
        return {"backend": self.name}


class SerialBackend(Backend):
    """Run the tasks one after the other in this process."""

    name = "serial"

    def map_unordered(self, fn, payloads):
        for p in payloads:
            yield fn(p)


def _default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:  # re-parented: the parent is gone
            os._exit(1)
        time.sleep(PARENT_POLL)


def _worker_init(parent: int) -> None:
    """Initializer of every ``processes`` worker: leave SIGINT to the parent, watch it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _stop_workers(ex: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers now (a failed or interrupted run does not wait)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    ex.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(timeout=2.0)
        if proc.is_alive():
            proc.kill()


class ProcessBackend(Backend):
    """Local worker processes (``concurrent.futures.ProcessPoolExecutor``).

    At most ``2 * workers`` tasks are in flight, so results stream back while the rest wait
    in their iterator (bounded memory, and cells finish in grid order). Workers exit when
    the parent dies and are terminated when the run fails or is interrupted.
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = check_workers(workers) or _default_workers()

    def describe(self):
        return {"backend": self.name, "workers": self.workers}

    def map_unordered(self, fn, payloads):
        it = iter(payloads)
        ex = ProcessPoolExecutor(
            max_workers=self.workers, initializer=_worker_init, initargs=(os.getpid(),)
        )
        finished = False
        try:
            pending = {ex.submit(fn, p) for p in islice(it, 2 * self.workers)}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    pending.update(ex.submit(fn, p) for p in islice(it, 1))
                    yield f.result()
            finished = True
        finally:
            if finished:
                ex.shutdown(wait=True)
            else:
                _stop_workers(ex)


class DaskBackend(Backend):
    """``dask.distributed``: an existing scheduler, or a local cluster of worker processes.

    Parameters
    ----------
    workers : int, optional
        Workers of the ``LocalCluster`` started when no scheduler is given.
    scheduler : str, optional
        Address of a running scheduler (``"tcp://10.0.0.1:8786"``, ``"tls://..."``); the
        workers need tailreg installed. Results come back to this process, which alone
        writes the store, so workers need no shared file system.
    security : distributed.security.Security, optional
        TLS credentials for a ``tls://`` scheduler (default: dask's configuration).
    connect_timeout : float, default 5
        Seconds to reach the scheduler before a ``ConnectionError``.

    Notes
    -----
    A dask scheduler runs whatever its clients send: one reachable without TLS lets anyone
    who can connect run code on every worker. Use ``tls://`` with certificates (see the
    README) on any network you do not control.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        *,
        security: Any = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.workers = check_workers(workers) or _default_workers()
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise ValueError(
                f"scheduler must be an address like 'tcp://host:8786', got {scheduler!r}"
            )
        self.scheduler = scheduler
        self.security = security
        self.connect_timeout = float(connect_timeout)

    def describe(self):
        d: dict[str, Any] = {"backend": self.name, "scheduler": self.scheduler}
        if self.scheduler is None:
            d["workers"] = self.workers
        return d

    def _connect(self) -> Any:
        Client = require("dask.distributed", "the dask backend").Client

        kw: dict[str, Any] = {"timeout": self.connect_timeout}
        if self.security is not None:
            kw["security"] = self.security
        try:
            return Client(self.scheduler, **kw)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConnectionError(
                f"cannot reach the dask scheduler at {self.scheduler!r} within "
                f"{self.connect_timeout:g} s ({type(exc).__name__}: {exc}). Is `dask scheduler` "
                "running there and reachable from here, and is the address right "
                "(tcp://HOST:8786, or tls://HOST:8786 with TLS)?"
            ) from None

    def map_unordered(self, fn, payloads):
        dd = require("dask.distributed", "the dask backend")
        Client, LocalCluster, as_completed = dd.Client, dd.LocalCluster, dd.as_completed

        cluster = None
        if self.scheduler is None:
            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            client = self._connect()

        def in_flight() -> int:  # 2 tasks per worker thread the scheduler knows now
            workers = client.scheduler_info().get("workers", {})
            return max(2, 2 * sum(int(w.get("nthreads", 1)) for w in workers.values()))

        it = iter(payloads)
        futures = as_completed()
        submitted: list[Any] = []
        try:
            for p in islice(it, in_flight()):
                submitted.append(client.submit(fn, p, pure=False))
                futures.add(submitted[-1])
            for f in futures:
                submitted.remove(f)
                for p in islice(it, max(0, in_flight() - futures.count())):
                    submitted.append(client.submit(fn, p, pure=False))
                    futures.add(submitted[-1])
                yield f.result()
        finally:
            for f in submitted:
                f.cancel()
            client.close()
            if cluster is not None:
                cluster.close()


#: backend name -> constructor taking (workers, scheduler)
BACKENDS: dict[str, Callable[[int | None, str | None], Backend]] = {
    "serial": lambda workers, scheduler: SerialBackend(),
    "processes": lambda workers, scheduler: ProcessBackend(workers),
    "dask": DaskBackend,
}


def get_backend(
    name: str | Backend, workers: int | None = None, scheduler: str | None = None
) -> Backend:
    """A backend by name (``"serial"``, ``"processes"``, ``"dask"``) or the object itself.

    ``workers`` must be None or an integer >= 1 whatever the backend (``serial`` ignores
    it).
    """
    if isinstance(name, Backend):
        return name
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {list(BACKENDS)}")
    check_workers(workers)  # for every backend, serial included: 0 or -1 is an error
    return BACKENDS[name](workers, scheduler)
