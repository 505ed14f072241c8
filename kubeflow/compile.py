"""Compiles each model's pipeline into a Kubeflow Pipelines v2 spec (YAML) with TFX's
KubeflowV2DagRunner, from the same `create_pipeline` the local runners use.

Every task runs in one image (kubeflow/Containerfile) that has this project installed at
IMAGE_PROJECT_DIR: user code is referenced by importable function paths, the curated schemas
are read from that directory, and ML Metadata is the cluster's (no connection config here).
"""
import dataclasses
import pathlib
import re
import time
from typing import Any, Dict, List, Optional, Sequence

import yaml

from data import settings
from models import registry
from models.spec import ModelSpec

IMAGE_PROJECT_DIR = "/opt/tfxp"
# Plug-in model packages (`tfxp model new`, TFXP_MODELS_PATH) sit in this folder of
# IMAGE_PROJECT_DIR in the image, which is the image's TFXP_MODELS_PATH and on its PYTHONPATH.
IMAGE_MODELS_DIR = "user_models"
DATA_ROOT_PARAMETER = "data_root"
DEFAULT_DATA_ROOT = "{root}/data/{model}"
# Every task runs the project's entrypoint, which hands TFX's an ExecutorInput it can read from
# either backend (kubeflow/entrypoint.py).
TFX_ENTRYPOINT_MODULE = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
ENTRYPOINT_MODULE = "kubeflow.entrypoint"
OSS_REJECTED_EXECUTOR_KINDS = ("resolver", "customJob")
_KFP_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")


def kfp_pipeline_name(model: str) -> str:
    """KFP names must match [a-z0-9][a-z0-9-]{0,127}; model names use underscores (fashion_cnn)."""
    name = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-")
    if not _KFP_NAME.fullmatch(name):
        raise ValueError(f"model {model!r} gives no valid KFP pipeline name (got {name!r}; "
                         "KFP needs [a-z0-9][a-z0-9-]{0,127})")
    return name


def spec_path(model: str, sample: bool = False, out_dir: pathlib.Path = settings.KUBEFLOW_SPECS_DIR) -> pathlib.Path:
    """`<out_dir>/<model>.yaml`, or `<model>-sample.yaml` for the sample's steps and thresholds."""
    return pathlib.Path(out_dir) / (f"{model}-sample.yaml" if sample else f"{model}.yaml")


@dataclasses.dataclass(frozen=True)
class ClusterPaths:
    """Where one model's pipeline reads and writes on the cluster."""

    pipeline_root: str
    data_root: str
    schema_path: Optional[str]
    serving_model_dir: str


def _schema_in_image(spec: ModelSpec) -> pathlib.PurePosixPath:
    """The schema's path relative to IMAGE_PROJECT_DIR: a project file where it is, a plug-in
    package's file under IMAGE_MODELS_DIR (where the image keeps plug-in packages)."""
    schema = pathlib.Path(spec.schema_path).resolve()
    try:
        return pathlib.PurePosixPath(schema.relative_to(settings.PROJECT_ROOT).as_posix())
    except ValueError:
        pass
    source = registry.sources().get(spec.name)
    if source is not None and source.folder is not None:
        try:
            return pathlib.PurePosixPath(IMAGE_MODELS_DIR,
                                         schema.relative_to(source.folder).as_posix())
        except ValueError:
            pass
    raise ValueError(f"{spec.name}: schema {spec.schema_path} is neither in the project nor in "
                     "the model's plug-in package, so it is not in the image; keep curated "
                     "schemas under data/schemas/ or inside the package")


def cluster_paths(spec: ModelSpec, root: str, data_root: Optional[str] = None,
                  image_project_dir: str = IMAGE_PROJECT_DIR) -> ClusterPaths:
    """Artifacts under ROOT/pipelines/<pipeline>, data from ROOT/data/<model> (a run parameter,
    so a run can read another folder), pushes to ROOT/serving/<model>, schema from the image."""
    if not root or not root.strip("/"):
        raise ValueError("--pipeline-root must name a bucket or shared folder, e.g. gs://bucket/tfxp")
    root = root.rstrip("/")
    schema = None
    if spec.schema_path:
        relative = _schema_in_image(spec)
        schema = f"{image_project_dir.rstrip('/')}/{relative.as_posix()}"
    return ClusterPaths(
        pipeline_root=f"{root}/pipelines/{kfp_pipeline_name(spec.name)}",
        data_root=(data_root or DEFAULT_DATA_ROOT).format(root=root, model=spec.name),
        schema_path=schema,
        serving_model_dir=f"{root}/serving/{spec.name}",
    )


def build_pipeline(spec: ModelSpec, paths: ClusterPaths, beam_args: Sequence[str] = (),
                   infra_validation: bool = True, tune: bool = False,
                   enable_cache: bool = True, baseline: str = "stable", sample: bool = False,
                   hyperparameters: Optional[Dict[str, Any]] = None):
    """The TFX pipeline for the cluster: the local factory with cluster paths and the data root
    as a run-time parameter. `sample` takes the model's sample steps and thresholds (for a dry
    run on the committed sample); baseline="none" judges on value thresholds only."""
    from tfx import v1 as tfx

    from pipelines.arguments import model_arguments
    from pipelines.pipeline import create_pipeline

    data_root = tfx.dsl.experimental.RuntimeParameter(
        name=DATA_ROOT_PARAMETER, ptype=str, default=paths.data_root)
    return create_pipeline(
        pipeline_name=kfp_pipeline_name(spec.name),
        pipeline_root=paths.pipeline_root,
        data_root=data_root,
        schema_path=paths.schema_path,
        serving_model_dir=paths.serving_model_dir,
        splits=list(spec.splits),
        infra_validation=infra_validation,
        baseline=baseline,
        metadata_connection_config=None,
        beam_pipeline_args=list(beam_args),
        enable_cache=enable_cache,
        **model_arguments(spec, sample=sample, tune=tune, hyperparameters=hyperparameters),
    )


def pipeline_spec_dict(pipeline, image: str,
                       parameter_defaults: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The KFP PipelineSpec as a dict. TFX keeps run parameter values and the pipeline root in
    the Vertex job's runtime config, which a plain YAML spec drops; they go into the spec's root
    input definitions (as defaults) and defaultPipelineRoot so a KFP run needs no arguments."""
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

    config = kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
        default_image=image, use_pipeline_spec_2_1=True)
    job = kubeflow_v2_dag_runner.KubeflowV2DagRunner(config).run(
        pipeline, parameter_values=parameter_defaults, write_out=False)
    spec = job["pipelineSpec"]
    defaults = job.get("runtimeConfig", {}).get("parameterValues", {})
    parameters = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    for name, definition in parameters.items():
        if name in defaults:
            definition["defaultValue"] = defaults[name]
            definition["isOptional"] = True
    spec["defaultPipelineRoot"] = str(pipeline.pipeline_info.pipeline_root)
    for executor in spec["deploymentSpec"]["executors"].values():
        command = executor.get("container", {}).get("command", [])
        command[:] = [ENTRYPOINT_MODULE if part == TFX_ENTRYPOINT_MODULE else part
                      for part in command]
    return spec


def write_spec(spec: Dict[str, Any], path: pathlib.Path) -> None:
    """Writes the spec as KFP's compiler does (a header comment, then sorted YAML), so specs
    diff cleanly between compiles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# PIPELINE DEFINITION\n# Name: {spec['pipelineInfo']['name']}\n"
              f"# Compiled by `tfxp kubeflow compile` with TFX's KubeflowV2DagRunner "
              f"({spec.get('sdkVersion', '')}).\n")
    path.write_text(header + yaml.safe_dump(spec, sort_keys=True))


def oss_rejected_executors(spec: Dict[str, Any]) -> List[str]:
    """Executors of a kind the open-source KFP v2 compiler refuses (argocompiler: "resolver
    executors not implemented", customJob is Vertex-only). The project's specs hold none."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return sorted(label for label, executor in executors.items()
                  if set(executor) & set(OSS_REJECTED_EXECUTOR_KINDS))


@dataclasses.dataclass
class CompileResult:
    """What one compile wrote; `rejected_executors` lists executors open-source KFP v2 refuses."""

    model: str
    path: pathlib.Path
    tasks: int
    seconds: float
    rejected_executors: List[str]


def compile_model(model: str, image: str, pipeline_root: str,
                  out_dir: pathlib.Path = settings.KUBEFLOW_SPECS_DIR, beam_args: Sequence[str] = (),
                  data_root: Optional[str] = None, infra_validation: bool = True,
                  tune: bool = False, enable_cache: bool = True,
                  baseline: str = "stable", sample: bool = False,
                  hyperparameters: Optional[Dict[str, Any]] = None) -> CompileResult:
    """Compiles `model`'s pipeline (the one `tfxp run` builds) into a KFP v2 spec at
    `out_dir/<model>[-sample].yaml`, with cluster paths under `pipeline_root` and every task
    in `image`. ValueError for a missing image or an unusable pipeline root."""
    if not image:
        raise ValueError("--image is required: the component image built from kubeflow/Containerfile")
    started = time.monotonic()
    spec = registry.get(model)
    paths = cluster_paths(spec, pipeline_root, data_root)
    pipeline = build_pipeline(spec, paths, beam_args, infra_validation, tune, enable_cache,
                              baseline, sample, hyperparameters)
    pipeline_spec = pipeline_spec_dict(pipeline, image, {DATA_ROOT_PARAMETER: paths.data_root})
    path = spec_path(model, sample, out_dir)
    write_spec(pipeline_spec, path)
    return CompileResult(model, path, len(pipeline_spec["root"]["dag"]["tasks"]),
                         time.monotonic() - started, oss_rejected_executors(pipeline_spec))
