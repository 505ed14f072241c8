"""`tfxp shadow report MODEL`: how the shadow version answered the requests the stable version
answered, from both groups' request logs and metrics.

Request logs (PredictionLog files under the model's `logging_config` prefix; both serving groups
write there) give each answer with the version that made it. A request is seen by both when the
same inputs appear in the stable version's and the shadow version's logs (repeats pair up in
order). Per pair: classification (an output named probabilities, scores or classes) agrees when
the top class is the same, with the score difference; regression agrees when the outputs are
within `tolerance` (absolute or relative). Latency p50/p95/p99 and errors per version come from
the groups' Prometheus metrics. Exit 0 within the thresholds, 4 beyond them.
"""
import dataclasses
import hashlib
import html
import json
import pathlib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

EXIT_WITHIN, EXIT_BEYOND = 0, 4
SAVED_DIR = "shadow_reports"  # under the models root, one JSON per model, for the HTML report
CLASSIFICATION_OUTPUTS = ("probabilities", "scores", "classes")


@dataclasses.dataclass(frozen=True)
class ShadowThresholds:
    """What the shadow must meet: agreement share, p95 ratio to stable, error rate."""

    min_agreement: float = 0.99
    max_p95_ratio: float = 1.25
    max_error_rate: float = 0.0
    tolerance: float = 1e-4


@dataclasses.dataclass
class ShadowReport:
    """The comparison, ready to print or render."""

    model: str
    stable: int
    shadow: int
    pairs: int
    agreeing: int
    kind: str  # "classification" or "regression"
    max_difference: float
    mean_difference: float
    disagreements: List[str]
    latency_ms: Dict[int, Dict[str, Optional[float]]]
    errors: Dict[int, Tuple[float, float]]  # version -> (errors, requests)
    breaches: List[str]

    @property
    def agreement(self) -> float:
        """Agreeing share of the pairs (1.0 when there are none)."""
        return self.agreeing / self.pairs if self.pairs else 1.0

    @property
    def exit_code(self) -> int:
        """0 within the thresholds, 4 beyond them."""
        return EXIT_BEYOND if self.breaches else EXIT_WITHIN


def _request_key(log) -> Optional[bytes]:
    kind = log.WhichOneof("log_type")
    if kind != "predict_log":
        request = getattr(log, kind).request if kind else None
        return request.input.SerializeToString(deterministic=True) if request else None
    inputs = log.predict_log.request.inputs
    digest = hashlib.sha256()
    for name in sorted(inputs):
        digest.update(name.encode() + b"\0" + inputs[name].SerializeToString(deterministic=True))
    return digest.digest()


def _outputs(log) -> Dict[str, np.ndarray]:
    import tensorflow as tf

    kind = log.WhichOneof("log_type")
    if kind == "predict_log":
        return {k: tf.make_ndarray(v) for k, v in log.predict_log.response.outputs.items()}
    result = getattr(log, kind).response.result
    if kind == "classify_log":
        return {"scores": np.array([[c.score for c in row.classes]
                                    for row in result.classifications])}
    return {"outputs": np.array([r.value for r in result.regressions])}


def answers_by_version(logs) -> Dict[int, Dict[bytes, List[Dict[str, np.ndarray]]]]:
    """version -> request key -> the answers in log order."""
    found: Dict[int, Dict[bytes, List[Dict[str, np.ndarray]]]] = {}
    for log in logs:
        key = _request_key(log)
        if key is None:
            continue
        version = log.log_metadata.model_spec.version.value
        found.setdefault(version, {}).setdefault(key, []).append(_outputs(log))
    return found


def _top_class(outputs: Dict[str, np.ndarray]) -> np.ndarray:
    for name in CLASSIFICATION_OUTPUTS:
        if name in outputs:
            values = np.asarray(outputs[name])
            if values.dtype.kind in "OSU":
                return values
            if values.ndim == 2 and values.shape[1] > 1:
                return values.argmax(axis=1)
            return (values.reshape(len(values), -1)[:, 0] > 0.5).astype(int)
    raise ValueError("no classification output")


def _scores(outputs: Dict[str, np.ndarray]) -> np.ndarray:
    numeric = [np.asarray(v, dtype=float) for k, v in sorted(outputs.items())
               if np.asarray(v).dtype.kind in "fiu"]
    return np.concatenate([v.reshape(-1) for v in numeric]) if numeric else np.zeros(0)


def compare(stable_answers, shadow_answers, tolerance: float):
    """(pairs, agreeing, kind, differences, disagreeing keys) over requests both answered."""
    pairs = agreeing = 0
    differences: List[float] = []
    disagreeing: List[str] = []
    kind = "regression"
    for key, stable_list in stable_answers.items():
        for stable, shadow in zip(stable_list, shadow_answers.get(key, [])):
            pairs += 1
            stable_scores, shadow_scores = _scores(stable), _scores(shadow)
            difference = float(np.max(np.abs(stable_scores - shadow_scores))) \
                if stable_scores.shape == shadow_scores.shape and stable_scores.size else \
                float("inf")
            differences.append(difference)
            if any(name in stable for name in CLASSIFICATION_OUTPUTS):
                kind = "classification"
                same = np.array_equal(_top_class(stable), _top_class(shadow))
            else:
                scale = float(np.max(np.abs(stable_scores))) if stable_scores.size else 0.0
                same = difference <= tolerance or difference <= tolerance * scale
            if same:
                agreeing += 1
            elif len(disagreeing) < 5:
                disagreeing.append(f"request {key.hex()[:12]}: stable {stable_scores[:4]} vs "
                                   f"shadow {shadow_scores[:4]}")
    return pairs, agreeing, kind, differences, disagreeing


def _latency_and_errors(models_root: pathlib.Path, model: str, versions: Sequence[int]):
    from serving.rollout import canary_watch

    urls = [u for group_urls in canary_watch.group_metrics_urls(models_root).values()
            for u in group_urls]
    stats = canary_watch.scrape(urls, model)
    latency, errors = {}, {}
    for version in versions:
        entry = stats.get(version)
        latency[version] = {f"p{int(q * 100)}": (entry.quantile(q) * 1000.0
                                                 if entry and entry.quantile(q) is not None
                                                 else None) for q in (0.5, 0.95, 0.99)}
        errors[version] = (entry.errors, entry.requests) if entry else (0.0, 0.0)
    return latency, errors


def build_report(models_root: pathlib.Path, model: str,
                 thresholds: ShadowThresholds = ShadowThresholds(),
                 logs_prefix: Optional[pathlib.Path] = None,
                 shadow_version: Optional[int] = None) -> ShadowReport:
    """The shadow comparison of `model` served from `models_root` (its router must run for the
    metrics; the shadow version defaults to the one in shadow mode, else the canary)."""
    from serving.config import configs
    from serving.rollout import router
    from serving.server import request_log

    if not (models_root / configs.MODELS_CONFIG).exists():
        raise ValueError(f"no {models_root / configs.MODELS_CONFIG}: push the model and serve it "
                         "(`make serve`), or name the served models root with --models-root")
    config = configs.read_models_config(models_root / configs.MODELS_CONFIG)
    entry = configs.model_entry(config, model)
    if entry is None:
        raise ValueError(f"model {model!r} is not in {models_root / configs.MODELS_CONFIG}")
    stable = entry.version_labels.get(configs.STABLE)
    shadow = shadow_version or router.read_shadows(models_root).get(model) or \
        entry.version_labels.get(configs.CANARY)
    if stable is None or shadow is None:
        raise ValueError(f"model {model!r} needs a stable and a shadow (or canary) version; "
                         "start one with `tfxp canary shadow MODEL --version N`")
    prefix = logs_prefix or request_log.configured_prefix(models_root, model)
    if prefix is None:
        raise ValueError(f"{models_root / configs.MODELS_CONFIG} logs no requests for {model}: "
                         "add a logging_config with a filename_prefix to its entry")
    answers = answers_by_version(request_log.read_prediction_logs(prefix))
    pairs, agreeing, kind, differences, disagreeing = compare(
        answers.get(stable, {}), answers.get(shadow, {}), thresholds.tolerance)
    latency, errors = _latency_and_errors(models_root, model, [stable, shadow])
    report = ShadowReport(model, stable, shadow, pairs, agreeing, kind,
                          max(differences, default=0.0),
                          float(np.mean(differences)) if differences else 0.0,
                          disagreeing, latency, errors, [])
    report.breaches = breaches(report, thresholds)
    return report


def breaches(report: ShadowReport, thresholds: ShadowThresholds) -> List[str]:
    """The thresholds the shadow missed, in words."""
    found = []
    if not report.pairs:
        found.append("no request was answered by both versions (is the shadow mirrored and "
                     "are requests logged?)")
    if report.agreement < thresholds.min_agreement:
        found.append(f"agreement {report.agreement:.2%} is below {thresholds.min_agreement:.2%}")
    stable_p95 = report.latency_ms[report.stable].get("p95")
    shadow_p95 = report.latency_ms[report.shadow].get("p95")
    if stable_p95 and shadow_p95 and shadow_p95 > thresholds.max_p95_ratio * stable_p95:
        found.append(f"shadow p95 {shadow_p95:.2f} ms is over {thresholds.max_p95_ratio:g}x "
                     f"stable's {stable_p95:.2f} ms")
    failed, requests = report.errors[report.shadow]
    if requests and failed / requests > thresholds.max_error_rate:
        found.append(f"shadow failed {failed:.0f} of {requests:.0f} requests")
    return found


def format_report(report: ShadowReport) -> str:
    """The report as text (what `tfxp shadow report` prints)."""
    lines = [f"Shadow report for {report.model}: stable version {report.stable}, shadow "
             f"version {report.shadow}",
             f"  requests seen by both: {report.pairs}",
             f"  {report.kind}: {report.agreeing} agree ({report.agreement:.2%}); "
             f"score difference max {report.max_difference:.4g}, mean "
             f"{report.mean_difference:.4g}"]
    lines += [f"    disagreement: {d}" for d in report.disagreements]
    for version, role in ((report.stable, "stable"), (report.shadow, "shadow")):
        latency = report.latency_ms[version]
        shown = ", ".join(f"{k} {v:.2f} ms" if v is not None else f"{k} -"
                          for k, v in latency.items())
        failed, requests = report.errors[version]
        lines.append(f"  {role} (version {version}): {shown}; errors {failed:.0f} of "
                     f"{requests:.0f}")
    lines.append("  within thresholds" if not report.breaches else
                 "  BEYOND thresholds: " + "; ".join(report.breaches))
    return "\n".join(lines)


def save(report: ShadowReport, models_root: pathlib.Path) -> pathlib.Path:
    """Keeps the latest report of the model beside its models.config (the HTML report shows it)."""
    from serving.config import configs

    path = pathlib.Path(models_root) / SAVED_DIR / f"{report.model}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    state = dataclasses.asdict(report)
    state["latency_ms"] = {str(k): v for k, v in report.latency_ms.items()}
    state["errors"] = {str(k): list(v) for k, v in report.errors.items()}
    state["agreement"], state["exit_code"] = report.agreement, report.exit_code
    configs.write_atomic(path, json.dumps(state, indent=1, sort_keys=True) + "\n")
    return path


def load_saved(models_root: pathlib.Path, model: str) -> Optional[dict]:
    """The latest saved report of the model, or None."""
    path = pathlib.Path(models_root) / SAVED_DIR / f"{model}.json"
    return json.loads(path.read_text()) if path.exists() else None


def section(saved: Optional[dict]) -> str:
    """The HTML report's shadow section from a saved report ("" when there is none)."""
    if not saved:
        return ""
    rows = []
    for version, role in ((saved["stable"], "stable"), (saved["shadow"], "shadow")):
        latency = saved["latency_ms"][str(version)]
        failed, requests = saved["errors"][str(version)]
        cells = "".join(f'<td class="num">{"-" if latency[k] is None else f"{latency[k]:.2f}"}'
                        "</td>" for k in ("p50", "p95", "p99"))
        rows.append(f"<tr><td>{role} (version {version})</td>{cells}"
                    f'<td class="num">{failed:.0f} of {requests:.0f}</td></tr>')
    verdict = ("within thresholds" if not saved["breaches"] else
               "BEYOND thresholds: " + "; ".join(saved["breaches"]))
    return ('<section id="shadow"><h2>Shadow traffic</h2>'
            f'<p id="shadow-verdict" class="{"note" if not saved["breaches"] else "failure"}">'
            f"{html.escape(verdict)}</p><p>Requests seen by both: {saved['pairs']}; "
            f"{html.escape(saved['kind'])}: {saved['agreeing']} agree "
            f"({saved['agreement']:.2%}), score difference max {saved['max_difference']:.4g}, "
            f"mean {saved['mean_difference']:.4g}.</p>"
            + "".join(f'<p class="failure">{html.escape(d)}</p>' for d in saved["disagreements"])
            + '<table class="shadow"><thead><tr><th>version</th><th>p50 ms</th><th>p95 ms</th>'
            "<th>p99 ms</th><th>errors</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></section>")
