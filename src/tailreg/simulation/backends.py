"""Execution backends behind one interface: ``serial``, ``processes`` and ``dask``.

A backend maps a top-level, picklable task function over task payloads and yields the
results as they complete (order does not matter: the engine files each result under its
cell). Every task runs with BLAS held to one thread (threadpoolctl, in the task function of
the engine), so parallel workers do not oversubscribe the cores and every backend performs
the same floating-point operations — the results are bit-identical.

``dask`` either connects to a running scheduler (``scheduler="tcp://host:8786"``) or starts a
``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)``; dask is imported
only when this backend is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

__all__ = ["BACKENDS", "Backend", "DaskBackend", "ProcessBackend", "SerialBackend", "get_backend"]


class Backend:
    """Interface: ``map_unordered(fn, payloads)`` yields ``fn(payload)`` results."""

    name = "backend"

    def map_unordered(self, fn: Callable[[Any], Any], payloads: Iterable[Any]) -> Iterator[Any]:
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


class ProcessBackend(Backend):
    """Local worker processes (``concurrent.futures.ProcessPoolExecutor``).

    At most ``2 * workers`` tasks are in flight, so results stream back while the rest wait
    in this process (bounded memory, and cells finish in grid order).
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or _default_workers()

    def describe(self):
        return {"backend": self.name, "workers": self.workers}

    def map_unordered(self, fn, payloads):
        it = iter(payloads)
        with ProcessPoolExecutor(max_workers=self.workers) as ex:
            pending = set()
            try:
                for p in it:
                    pending.add(ex.submit(fn, p))
                    if len(pending) >= 2 * self.workers:
                        break
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        nxt = next(it, None)
                        if nxt is not None:
                            pending.add(ex.submit(fn, nxt))
                        yield f.result()
            finally:
                for f in pending:
                    f.cancel()


class DaskBackend(Backend):
    """``dask.distributed``: an existing scheduler, or a local cluster of worker processes.

    Parameters
    ----------
    workers : int, optional
        Workers of the ``LocalCluster`` started when no scheduler is given.
    scheduler : str, optional
        Address of a running scheduler (``"tcp://10.0.0.1:8786"``); the workers need tailreg
        installed. Results come back to this process, which alone writes the store, so
        workers need no shared file system.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers = workers or _default_workers()
        self.scheduler = scheduler

    def describe(self):
        d: dict[str, Any] = {"backend": self.name, "scheduler": self.scheduler}
        if self.scheduler is None:
            d["workers"] = self.workers
        return d

    def map_unordered(self, fn, payloads):
        from dask.distributed import Client, LocalCluster, as_completed

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
            client = Client(self.scheduler)
        futures = []
        try:
            futures = client.map(fn, list(payloads), pure=False)
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
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
    """A backend by name (``"serial"``, ``"processes"``, ``"dask"``) or the object itself."""
    if isinstance(name, Backend):
        return name
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {list(BACKENDS)}")
    return BACKENDS[name](workers, scheduler)
