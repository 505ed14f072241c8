"""Uploads compiled specs to a Kubeflow Pipelines cluster and manages their recurring runs,
through the kfp 2.13 client (the KFP v2beta1 REST API).

A spec is uploaded as a version of the pipeline named in the spec, the version named by the
spec's content hash, so scheduling an unchanged spec again reuses its version instead of piling
up copies.
"""
import contextlib
import dataclasses
import datetime
import hashlib
import json
import pathlib
import urllib.error
import urllib.request
import warnings
from typing import Any, Dict, Iterator, List, Mapping, Optional

import yaml

from data import settings
from kubeflow.compile import kfp_pipeline_name
from pipelines import arguments

HEALTHZ_PATH = "/apis/v2beta1/healthz"
PROBE_TIMEOUT_SECONDS = 10


class KubeflowError(RuntimeError):
    """A one-line, user-facing failure of a Kubeflow command."""


class KfpUnreachable(KubeflowError):
    """Nothing answered at the KFP host."""


def _unreachable(host: str, reason: Any) -> KfpUnreachable:
    return KfpUnreachable(
        f"cannot reach the Kubeflow Pipelines API at {host} ({reason}); check --host (the "
        "ml-pipeline API or UI address, e.g. after `kubectl port-forward -n kubeflow "
        "svc/ml-pipeline-ui 8080:80` use http://localhost:8080) and that the cluster is up")


def probe(host: str, token: Optional[str] = None, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Fails fast and clearly when nothing answers at `host`. The kfp client would instead retry
    its health check five times, five seconds apart, and end in a stack trace."""
    if not host.startswith(("http://", "https://")):
        raise KubeflowError(f"--host {host!r} must start with http:// or https://")
    url = host.rstrip("/") + HEALTHZ_PATH
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.geturl() != url:
                raise KubeflowError(
                    f"{host} redirected the KFP health check to {response.geturl()} (a login "
                    "page?): pass a valid --token (multi-user KFP) and --namespace")
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            hint = "pass a valid --token (multi-user KFP) and --namespace"
        elif error.code == 404:
            hint = (f"no {HEALTHZ_PATH} there: it is not a KFP v2 API endpoint; check --host "
                    "(KFP 2.x serves /apis/v2beta1)")
        else:
            hint = "the KFP API server is not healthy; check its pods (kubectl get pods -n kubeflow)"
        raise KubeflowError(f"the Kubeflow Pipelines API at {host} answered {error.code} "
                            f"{error.reason}: {hint}") from None
    except (urllib.error.URLError, OSError) as error:
        raise _unreachable(host, getattr(error, "reason", error)) from None


@contextlib.contextmanager
def api_errors(host: str, action: str) -> Iterator[None]:
    """Turns the generated client's exceptions into one line naming the host and the action."""
    import kfp_server_api
    import urllib3

    try:
        yield
    except kfp_server_api.ApiException as error:
        body = (error.body or "").strip().replace("\n", " ")
        try:
            body = json.loads(body).get("message", body)
        except (ValueError, AttributeError):
            pass
        hint = ("; check --token and --namespace" if error.status in (401, 403) else "")
        raise KubeflowError(f"{action}: the KFP API at {host} answered {error.status} "
                            f"{error.reason}: {str(body)[:300]}{hint}") from None
    except urllib3.exceptions.HTTPError as error:
        raise _unreachable(host, error) from None


@dataclasses.dataclass
class Connection:
    """A kfp client and the options every call needs."""

    client: Any
    host: str
    namespace: Optional[str]

    def call(self, action: str, function, *args, **kwargs):
        """Calls `function`, turning API and connection errors into one KubeflowError line that
        names `action`."""
        with api_errors(self.host, action):
            return function(*args, **kwargs)


def connect(host: str, namespace: Optional[str] = None, token: Optional[str] = None) -> Connection:
    """A kfp.Client for `host`; `token` is a bearer token (existing_token) for multi-user KFP."""
    import kfp

    probe(host, token)
    options: Dict[str, Any] = {"host": host.rstrip("/"), "existing_token": token}
    if namespace:
        options["namespace"] = namespace
    with warnings.catch_warnings(), api_errors(host, "connecting"):
        warnings.simplefilter("ignore", FutureWarning)
        try:
            client = kfp.Client(**options)
        except TimeoutError as error:
            raise _unreachable(host, error) from None
    return Connection(client, host, namespace)


@dataclasses.dataclass(frozen=True)
class CompiledSpec:
    """A compiled spec file: its KFP pipeline name, content digest (the uploaded version's name)
    and run parameters."""

    path: pathlib.Path
    pipeline_name: str
    digest: str
    parameters: Mapping[str, Mapping[str, Any]]


def load_spec(model: Optional[str] = None, spec_path: Optional[str] = None) -> CompiledSpec:
    """The compiled spec of `model` (kubeflow/specs/<model>.yaml) or the file at `spec_path`."""
    if spec_path:
        path = pathlib.Path(spec_path)
    elif model:
        path = settings.KUBEFLOW_SPECS_DIR / f"{model}.yaml"
    else:
        raise KubeflowError("pass --model or --spec")
    if not path.is_file():
        raise KubeflowError(
            f"no compiled spec at {path}: run `tfxp kubeflow compile --model {model or 'M'} "
            "--image IMAGE --pipeline-root ROOT` first")
    content = path.read_bytes()
    document = yaml.safe_load(content)
    try:
        name = document["pipelineInfo"]["name"]
    except (TypeError, KeyError):
        raise KubeflowError(f"{path} is not a KFP pipeline spec (no pipelineInfo.name)") from None
    parameters = document.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    return CompiledSpec(path, kfp_pipeline_name(name), hashlib.sha256(content).hexdigest()[:12],
                        parameters)


_PARAMETER_TYPES = {"NUMBER_INTEGER": int, "NUMBER_DOUBLE": float}


def parse_parameters(spec: CompiledSpec, pairs: List[str]) -> Dict[str, Any]:
    """`k=v` pairs checked against the spec's run parameters and converted to their types, so a
    typo fails here rather than in a run on the cluster."""
    values: Dict[str, Any] = {}
    for pair in pairs:
        try:
            key, text = arguments.split_key_value(pair)
        except ValueError as error:
            raise KubeflowError(f"--param: {error}") from None
        if key not in spec.parameters:
            known = ", ".join(sorted(spec.parameters)) or "none"
            raise KubeflowError(f"pipeline {spec.pipeline_name} has no run parameter {key!r} "
                                f"(its parameters: {known})")
        kind = spec.parameters[key].get("parameterType", "STRING")
        try:
            if kind in _PARAMETER_TYPES:
                values[key] = _PARAMETER_TYPES[kind](text)
            elif kind == "BOOLEAN":
                values[key] = {"true": True, "false": False}[text.lower()]
            elif kind in ("LIST", "STRUCT"):
                values[key] = json.loads(text)
            else:
                values[key] = text
        except (ValueError, KeyError):
            raise KubeflowError(f"--param {key}: {text!r} is not a valid {kind}") from None
    return values


def check_cron(cron: str) -> str:
    """KFP's scheduler takes six fields, seconds first (or an @descriptor such as @daily)."""
    fields = cron.split()
    if cron.startswith("@") or len(fields) == 6:
        return " ".join(fields)
    if len(fields) == 5:
        raise KubeflowError(f"--cron {cron!r} has 5 fields; KFP's cron has 6, seconds first: "
                            f"did you mean '0 {cron}'?")
    raise KubeflowError(f"--cron {cron!r}: expected 6 fields (second minute hour day month "
                        "weekday), e.g. '0 0 3 * * *' for 03:00 every day")


def _name_filter(name: str) -> str:
    return json.dumps({"predicates": [
        {"operation": "EQUALS", "key": "display_name", "stringValue": name}]})


def _pages(fetch, items_attribute: str, action: str, connection: Connection) -> Iterator[Any]:
    token = ""
    while True:
        response = connection.call(action, fetch, page_token=token)
        yield from getattr(response, items_attribute) or []
        token = response.next_page_token
        if not token:
            return


def experiment_id(connection: Connection, name: str) -> str:
    """The id of experiment `name`, created if missing."""
    experiment = connection.call(f"creating experiment {name!r}",
                                 connection.client.create_experiment, name=name,
                                 namespace=connection.namespace)
    return experiment.experiment_id


def pipeline_version(connection: Connection, spec: CompiledSpec) -> tuple:
    """(pipeline id, version id) for the spec. The pipeline is created empty on first use, and
    every version is named <pipeline>-<content hash>: present means reuse, missing means upload."""
    import kfp_server_api

    client = connection.client
    version_name = f"{spec.pipeline_name}-{spec.digest}"
    found = connection.call(f"looking up pipeline {spec.pipeline_name!r}", client.list_pipelines,
                            filter=_name_filter(spec.pipeline_name),
                            namespace=connection.namespace)
    if found.pipelines:
        pipeline_id = found.pipelines[0].pipeline_id
        versions = connection.call(f"looking up version {version_name!r}",
                                   client.list_pipeline_versions, pipeline_id,
                                   filter=_name_filter(version_name))
        if versions.pipeline_versions:
            return pipeline_id, versions.pipeline_versions[0].pipeline_version_id
    else:
        body = kfp_server_api.V2beta1Pipeline(
            display_name=spec.pipeline_name, namespace=connection.namespace,
            description=f"TFX pipeline {spec.pipeline_name} (tfxp kubeflow)")
        pipeline = connection.call(f"creating pipeline {spec.pipeline_name!r}",
                                   client.pipelines.pipeline_service_create_pipeline, body=body)
        pipeline_id = pipeline.pipeline_id
    version = connection.call(f"uploading {spec.path} as version {version_name!r}",
                              client.upload_pipeline_version, str(spec.path), version_name,
                              pipeline_id=pipeline_id, description=f"spec sha256 {spec.digest}")
    return pipeline_id, version.pipeline_version_id


def schedule(connection: Connection, spec: CompiledSpec, cron: str, experiment: Optional[str],
             name: Optional[str] = None, max_concurrency: int = 1, no_catchup: bool = False,
             params: Optional[Mapping[str, Any]] = None):
    """Creates an enabled recurring run of the spec's pipeline. A name already taken in the
    experiment is refused, so running the command twice does not schedule the pipeline twice
    (two schedules of one model would race to push)."""
    cron = check_cron(cron)
    if max_concurrency < 1:
        raise KubeflowError("--max-concurrency must be at least 1")
    name = name or f"{spec.pipeline_name}-schedule"
    experiment_name = experiment or spec.pipeline_name
    exp_id = experiment_id(connection, experiment_name)
    existing = connection.call(f"looking up recurring run {name!r}",
                               connection.client.list_recurring_runs, experiment_id=exp_id,
                               filter=_name_filter(name))
    if existing.recurring_runs:
        raise KubeflowError(
            f"a recurring run named {name!r} already exists in experiment {experiment_name!r} "
            f"(id {existing.recurring_runs[0].recurring_run_id}): delete it first "
            f"(`tfxp kubeflow delete --host ... --name {name}`) or pass another --name")
    pipeline_id, version_id = pipeline_version(connection, spec)
    return connection.call(
        f"creating recurring run {name!r}", connection.client.create_recurring_run,
        experiment_id=exp_id, job_name=name, cron_expression=cron,
        max_concurrency=max_concurrency, no_catchup=no_catchup, params=dict(params or {}),
        pipeline_id=pipeline_id, version_id=version_id, enabled=True,
        description=f"tfxp: {spec.pipeline_name} on '{cron}'")


def list_recurring_runs(connection: Connection, experiment: Optional[str] = None) -> List[Any]:
    """Every recurring run (all pages), of `experiment` or of the connection's namespace."""
    client = connection.client
    options: Dict[str, Any] = {"page_size": 100}
    if experiment:
        found = connection.call(f"looking up experiment {experiment!r}", client.get_experiment,
                                experiment_name=experiment, namespace=connection.namespace)
        options["experiment_id"] = found.experiment_id
    elif connection.namespace:
        options["namespace"] = connection.namespace

    def fetch(page_token):
        return client.list_recurring_runs(page_token=page_token, **options)

    return list(_pages(fetch, "recurring_runs", "listing recurring runs", connection))


def resolve_recurring_run(connection: Connection, run_id: Optional[str] = None,
                          name: Optional[str] = None) -> str:
    """The id of the recurring run given by id, or by its unique display name."""
    if run_id:
        return run_id
    if not name:
        raise KubeflowError("pass --id or --name of the recurring run")
    options: Dict[str, Any] = {"filter": _name_filter(name), "page_size": 100}
    if connection.namespace:
        options["namespace"] = connection.namespace
    found = connection.call(f"looking up recurring run {name!r}",
                            connection.client.list_recurring_runs, **options)
    runs = found.recurring_runs or []
    if len(runs) != 1:
        where = f" in namespace {connection.namespace}" if connection.namespace else ""
        raise KubeflowError(f"{len(runs) or 'no'} recurring runs named {name!r}{where}"
                            + ("; use --id" if runs else "; see `tfxp kubeflow list`"))
    return runs[0].recurring_run_id


def pause(connection: Connection, run_id: str) -> None:
    """Stops a recurring run from starting runs; it keeps its schedule."""
    connection.call(f"pausing recurring run {run_id}", connection.client.disable_recurring_run,
                    run_id)


def resume(connection: Connection, run_id: str) -> None:
    """Lets a paused recurring run start runs again."""
    connection.call(f"resuming recurring run {run_id}", connection.client.enable_recurring_run,
                    run_id)


def delete(connection: Connection, run_id: str) -> None:
    """Deletes a recurring run; the runs it started stay."""
    connection.call(f"deleting recurring run {run_id}", connection.client.delete_recurring_run,
                    run_id)


def run_once(connection: Connection, spec: CompiledSpec, experiment: Optional[str] = None,
             params: Optional[Mapping[str, Any]] = None, enable_caching: Optional[bool] = None):
    """Starts one run of the spec now (the spec travels in the request; nothing is uploaded)."""
    run_name = f"{spec.pipeline_name}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    return connection.call(
        f"starting a run of {spec.path}", connection.client.create_run_from_pipeline_package,
        str(spec.path), arguments=dict(params or {}), run_name=run_name,
        experiment_name=experiment or spec.pipeline_name, namespace=connection.namespace,
        enable_caching=enable_caching)


def describe(run) -> Dict[str, str]:
    """One row of `tfxp kubeflow list`."""
    trigger = run.trigger
    cron = trigger.cron_schedule.cron if trigger and trigger.cron_schedule else ""
    if trigger and trigger.periodic_schedule and not cron:
        cron = f"every {trigger.periodic_schedule.interval_second}s"
    return {"id": run.recurring_run_id or "", "name": run.display_name or "",
            "mode": run.mode or "", "schedule": cron,
            "max_concurrency": str(run.max_concurrency or ""),
            "catchup": "no" if run.no_catchup else "yes",
            "experiment": run.experiment_id or ""}
