"""One cluster and one pipeline home for the whole `cluster` suite: its cases build on each other
(test_flink_census first, then test_multiworker_trainer on the run it pushed)."""
import os

import pytest

from pipelines.cluster import flink


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    """Paths of the suite: pipeline home, push destination, cluster folder (TFXP_CLUSTER_HOME of
    the tfxp subprocesses). The cluster is stopped at the end."""
    root = tmp_path_factory.mktemp("cluster")
    previous = os.environ.get("TFXP_CLUSTER_HOME")
    os.environ["TFXP_CLUSTER_HOME"] = str(root / "cluster")
    yield {"home": root / "home", "destination": root / "models" / "census",
           "cluster": root / "cluster", "root": root}
    flink.down(root / "cluster")
    if previous is None:
        del os.environ["TFXP_CLUSTER_HOME"]
    else:
        os.environ["TFXP_CLUSTER_HOME"] = previous
