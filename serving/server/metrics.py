"""Prometheus metrics, one registry per server so several servers can live in one process (tests).

Requests, errors and latency carry model, version and label (the label the request named, else the
label the server gives that version): `tfxp canary watch` compares stable and canary by them.
"""
import prometheus_client as prom

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)


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
                                      buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = prom.Histogram("tfxp_serving_batch_size", "Rows per batched run",
                                         buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
                                         registry=self.registry)
        self.model_state = prom.Gauge("tfxp_serving_model_version_state",
                                      "ModelVersionStatus.State of each version",
                                      ["model", "version"], registry=self.registry)

    def observe(self, model: str, version, api: str, protocol: str, seconds: float,
                code: str = None, label: str = "") -> None:
        """Count one request; a failed one (`code` set) counts as an error and stays out of the
        latency histogram, so errors answered early do not make a version look fast."""
        key = (model, str(version) if version is not None else "", label or "", api, protocol)
        self.requests.labels(*key).inc()
        if code is not None:
            self.errors.labels(*key, code).inc()
        else:
            self.latency.labels(*key).observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text format of this server's registry alone (not the process default)."""
        return prom.generate_latest(self.registry)
