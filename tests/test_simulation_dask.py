"""The dask backend: a LocalCluster it starts, and a running scheduler it connects to."""

from __future__ import annotations

import pandas as pd
from dask import distributed

from tailreg.simulation import run_study


def test_dask_local_cluster_gives_the_serial_table(backend_study, backend_reference):
    got = run_study(backend_study, backend="dask", workers=2, block_size=10, progress=False)
    pd.testing.assert_frame_equal(got.replications, backend_reference, check_exact=True)


def test_dask_connects_to_a_running_scheduler(backend_study, backend_reference):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run = run_study(
            backend_study, backend="dask", scheduler=cluster.scheduler_address, progress=False
        )
        pd.testing.assert_frame_equal(run.replications, backend_reference, check_exact=True)
        # the engine closed only its own client: the cluster is still up
        assert cluster.scheduler_address.startswith("tcp://")
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
