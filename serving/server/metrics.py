"""Prometheus metrics, one registry per server so several servers can live in one process (tests).

Requests, errors and latency carry model, version and label (the label the request named, else the
label the server gives that version): `tfxp canary watch` compares stable and canary by them.
Beside them, TF Serving's own families (`:tensorflow:serving:request_count`, ...) carry the
container's names, types and labels, so dashboards written for the container work here too.
"""
import bisect
import threading
from typing import Callable, Dict, List, Tuple

import prometheus_client as prom

# TF Serving's own families, as tensorflow_model_server 2.16 exports them at the monitoring path.
# Names, types, labels and buckets come from its source:
#   tensorflow_serving/servables/tensorflow/util.cc (request_count, request_latency,
#     runtime_latency: RecordModelRequestCount / RecordRequestLatency / RecordRuntimeLatency),
#   tensorflow_serving/model_servers/prediction_service_impl.cc (entrypoint "GRPC", API names,
#     latency recorded only for requests that succeed),
#   tensorflow_serving/servables/tensorflow/saved_model_warmup_util.cc (model_warmup_latency),
#   tensorflow/cc/saved_model/loader.cc (load_attempt_count, load_latency),
#   tensorflow_serving/util/prometheus_exporter.cc (the text: '/' -> ':', counters keep their
#     name without `_total`, histograms as _bucket/_sum/_count, the last bucket `+Inf`).
REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"
WARMUP_LATENCY = ":tensorflow:serving:model_warmup_latency"
LOAD_ATTEMPT_COUNT = ":tensorflow:cc:saved_model:load_attempt_count"
LOAD_LATENCY = ":tensorflow:cc:saved_model:load_latency"
# monitoring::Buckets::Exponential(10, 1.8, 33): microseconds, up to ~20 minutes, then +Inf.
TF_SERVING_BUCKETS_US = tuple(10 * 1.8 ** i for i in range(33))
TF_SERVING_API = {"predict": "Predict", "classify": "Classify", "regress": "Regress"}
TF_SERVING_ENTRYPOINT = {"grpc": "GRPC", "rest": "REST"}
TF_SERVING_RUNTIME = "TF1"


class TFServingFamilies:
    """TF Serving's own metric families with the container's names, types and labels, so a
    dashboard or alert written for `tensorflow/serving` finds the same series on `tfxp serve`.

    prometheus_client would rename a counter to `..._total`; TF Serving does not, so this class
    keeps the values and renders them in the exporter's own text form."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: Dict[str, Dict[Tuple, int]] = {REQUEST_COUNT: {}, LOAD_ATTEMPT_COUNT: {},
                                                      LOAD_LATENCY: {}}
        self._histograms: Dict[str, Dict[Tuple, list]] = {REQUEST_LATENCY: {},
                                                          RUNTIME_LATENCY: {}, WARMUP_LATENCY: {}}
        self._labels = {REQUEST_COUNT: ("model_name", "status"),
                        LOAD_ATTEMPT_COUNT: ("model_path", "status"),
                        LOAD_LATENCY: ("model_path",),
                        REQUEST_LATENCY: ("model_name", "API", "entrypoint"),
                        RUNTIME_LATENCY: ("model_name", "API", "runtime"),
                        WARMUP_LATENCY: ("model_path", "status")}

    def _add(self, family: str, key: Tuple, value: int) -> None:
        with self._lock:
            counters = self._counters[family]
            counters[key] = counters.get(key, 0) + value

    def _sample(self, family: str, key: Tuple, microseconds: float) -> None:
        """TF's Histogram::Add: a value falls in the first bucket whose limit is above it."""
        with self._lock:
            cell = self._histograms[family].setdefault(
                key, [[0] * (len(TF_SERVING_BUCKETS_US) + 1), 0.0])
            cell[0][bisect.bisect_right(TF_SERVING_BUCKETS_US, microseconds)] += 1
            cell[1] += microseconds

    def request(self, model: str, api: str, protocol: str, seconds: float, code: str) -> None:
        """One Predict/Classify/Regress: counted by status; latency only when it succeeded, as
        prediction_service_impl.cc does. Other APIs (metadata) are not counted there either."""
        if api not in TF_SERVING_API:
            return
        self._add(REQUEST_COUNT, (model, code or "OK"), 1)
        if code is None:
            self._sample(REQUEST_LATENCY, (model, TF_SERVING_API[api],
                                           TF_SERVING_ENTRYPOINT.get(protocol, protocol.upper())),
                         seconds * 1e6)

    def runtime(self, model: str, api: str, seconds: float) -> None:
        """Time inside the TensorFlow run alone (RecordRuntimeLatency, runtime "TF1")."""
        if api in TF_SERVING_API:
            self._sample(RUNTIME_LATENCY, (model, TF_SERVING_API[api], TF_SERVING_RUNTIME),
                         seconds * 1e6)

    def load(self, model_path: str, ok: bool, seconds: float) -> None:
        """One SavedModel load attempt; latency counts successful loads only (loader.cc)."""
        self._add(LOAD_ATTEMPT_COUNT, (model_path, "success" if ok else "fail"), 1)
        if ok:
            self._add(LOAD_LATENCY, (model_path,), int(seconds * 1e6))

    def warmup(self, model_path: str, ok: bool, seconds: float) -> None:
        """One version's warmup replay, with TF Serving's status text ("OK" or the error)."""
        self._sample(WARMUP_LATENCY, (model_path, "OK" if ok else "UNKNOWN"), seconds * 1e6)

    def merge(self, model: str, ok: int, errors: Dict[str, int], latency_buckets, latency_sum_us,
              runtime_buckets, runtime_sum_us) -> None:
        """Add Predicts counted elsewhere (the native front end), already in these buckets."""
        for code, count in [("OK", ok), *errors.items()]:
            if count:
                self._add(REQUEST_COUNT, (model, code), count)
        with self._lock:
            for family, key, buckets, total in (
                    (REQUEST_LATENCY, (model, "Predict", "GRPC"), latency_buckets, latency_sum_us),
                    (RUNTIME_LATENCY, (model, "Predict", TF_SERVING_RUNTIME), runtime_buckets,
                     runtime_sum_us)):
                if not any(buckets):
                    continue
                cell = self._histograms[family].setdefault(
                    key, [[0] * (len(TF_SERVING_BUCKETS_US) + 1), 0.0])
                for i, count in enumerate(buckets):
                    cell[0][i] += count
                cell[1] += total

    def exposition(self) -> str:
        """The families in prometheus_exporter.cc's text form (families with no point yet are
        left out, as the exporter leaves out metrics nothing has written)."""
        lines = []
        with self._lock:
            for family, points in self._counters.items():
                if points:
                    lines.append(f"# TYPE {family} counter")
                    lines += [f"{family}{{{self._label_text(family, k)}}} {v}"
                              for k, v in sorted(points.items())]
            for family, points in self._histograms.items():
                if points:
                    lines.append(f"# TYPE {family} histogram")
                    for key, (buckets, total) in sorted(points.items()):
                        lines += self._histogram_lines(family, self._label_text(family, key),
                                                       buckets, total)
        return "".join(line + "\n" for line in lines)

    @staticmethod
    def _histogram_lines(family: str, labels: str, buckets, total: float):
        out, cumulative = [], 0
        for i, count in enumerate(buckets):
            cumulative += count
            limit = "%.6g" % TF_SERVING_BUCKETS_US[i] if i < len(TF_SERVING_BUCKETS_US) else "+Inf"
            out.append(f'{family}_bucket{{{labels},le="{limit}"}} {cumulative}')
        out.append(f"{family}_sum{{{labels}}} {total:.6g}")
        out.append(f"{family}_count{{{labels}}} {cumulative}")
        return out

    def _label_text(self, family: str, values: Tuple) -> str:
        return ",".join(f'{name}="{_escape(value)}"'
                        for name, value in zip(self._labels[family], values))


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The server's counters and histograms in their own registry; REST and gRPC report here."""

    def __init__(self):
        self.registry = prom.CollectorRegistry()
        labels = ["model", "version", "label", "api", "protocol"]
        self.requests = prom.Counter("tfxp_serving_requests", "Requests handled",
                                     labels, registry=self.registry)
        self.errors = prom.Counter("tfxp_serving_request_errors", "Requests that failed",
                                   labels + ["code"], registry=self.registry)
        self.latency = prom.Histogram("tfxp_serving_request_latency_seconds",
                                      "Request latency inside the server", labels,
                                      buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = prom.Histogram("tfxp_serving_batch_size", "Rows per batched run",
                                         buckets=BATCH_SIZE_BUCKETS,
                                         registry=self.registry)
        self.native_requests = prom.Counter(
            "tfxp_serving_native_requests", "gRPC Predicts the native front end answered itself "
            "(the others it handed to this server)", ["model", "version"],
            registry=self.registry)
        self.model_state = prom.Gauge("tfxp_serving_model_version_state",
                                      "ModelVersionStatus.State of each version",
                                      ["model", "version"], registry=self.registry)
        self.tf_serving = TFServingFamilies()
        self._by_key = {}
        self._sources: List[Callable[[], dict]] = []

    def add_source(self, drain: Callable[[], dict]) -> None:
        """Counts kept outside this registry (the native front end's), drained and merged before
        every exposition."""
        self._sources.append(drain)

    def merge_native(self, drained: dict) -> None:
        """Add the native front end's gRPC Predicts: per model, version and label, the request and
        error counts and the latency buckets in this registry's own bounds (prometheus_client
        has no public way to add a bucket count, so its histogram cells are added to)."""
        for r in drained.get("requests", []):
            key = (r["model"], r["version"], r["label"], "predict", "grpc")
            failed = sum(r["errors"].values())
            requests, latency = self._children(key)
            requests.inc(r["count"])
            self.native_requests.labels(r["model"], r["version"]).inc(r["count"])
            for code, count in r["errors"].items():
                self.errors.labels(*key, code).inc(count)
            _add_buckets(latency, r["latency_buckets"], r["latency_sum_s"])
            self.tf_serving.merge(r["model"], r["count"] - failed, r["errors"],
                                  r["tf_latency_buckets"], r["tf_latency_sum_us"],
                                  r["runtime_buckets"], r["runtime_sum_us"])
        if any(drained.get("batch_size_buckets", ())):
            _add_buckets(self.batch_size, drained["batch_size_buckets"], drained["batch_size_sum"])

    def observe(self, model: str, version, api: str, protocol: str, seconds: float,
                code: str = None, label: str = "") -> None:
        """Count one request; a failed one (`code` set) counts as an error and stays out of the
        latency histogram, so errors answered early do not make a version look fast."""
        self.tf_serving.request(model, api, protocol, seconds, code)
        key = (model, str(version) if version is not None else "", label or "", api, protocol)
        requests, latency = self._children(key)
        requests.inc()
        if code is not None:
            self.errors.labels(*key, code).inc()
        else:
            latency.observe(seconds)

    def _children(self, key):
        """The request counter and latency histogram of one label set, looked up once:
        prometheus_client's `labels()` validates and locks on every call (~20 us each), which the
        16-client throughput paid on every request."""
        children = self._by_key.get(key)
        if children is None:
            children = self._by_key.setdefault(key, (self.requests.labels(*key),
                                                     self.latency.labels(*key)))
        return children

    def exposition(self) -> bytes:
        """The Prometheus text format of this server's registry alone (not the process default),
        then TF Serving's own families."""
        for drain in self._sources:
            self.merge_native(drain())
        return prom.generate_latest(self.registry) + self.tf_serving.exposition().encode()


def _add_buckets(histogram, counts, total) -> None:
    """Add per-bucket counts (the last one is +Inf) and their sum to a prometheus_client
    histogram (a child, or one without labels)."""
    for cell, count in zip(histogram._buckets, counts):
        if count:
            cell.inc(count)
    histogram._sum.inc(total)
