"""The local cluster engines `--runner` and `tfxp cluster --engine` name: each module has
up/down/status/load/require_healthy/beam_args and a Cluster with describe()."""
from types import ModuleType

from pipelines.cluster import flink, spark

ENGINES = {"flink": flink, "spark": spark}
DEFAULT_ENGINE = "flink"


def engine(name: str) -> ModuleType:
    """The engine module called `name`; a ValueError naming the known ones otherwise."""
    if name not in ENGINES:
        raise ValueError(f"unknown cluster engine {name!r}: use one of {', '.join(ENGINES)}")
    return ENGINES[name]


def cluster_beam_args(name: str, beam_args) -> tuple:
    """The running cluster of engine `name` (a ClusterError before any component starts when it
    is not usable): the Beam options that send the run there, then `beam_args`, and how the
    run's summary names the cluster."""
    module = engine(name)
    cluster = module.require_healthy()
    return module.beam_args(cluster) + list(beam_args), cluster.describe()
