"""`tfxp canary watch`: raise the canary's weight step by step from live metrics, or roll it back.

Every interval it scrapes both groups' Prometheus endpoints (tfxp_serving_* per model and version,
serving/server/metrics.py) and compares the canary version's numbers in the current step with the stable
version's numbers since the watch began (at weight 100 the stable version gets no traffic, so a
per-step baseline would be empty). Rules:

- error breach, judged at once: the canary's failed requests exceed what the margin allows for the
  step even if every remaining request succeeded (errors > (stable rate + margin) x
  max(requests, min_requests)) -> rollback;
- fewer than `min_requests` canary requests in the step -> hold;
- canary p99 above `max_p99_ratio` x stable p99 (both at least `latency_floor` seconds, so
  sub-millisecond noise between histogram buckets cannot trip it) -> rollback;
- otherwise the next step's weight, and after the last step, promote.

No decision within `timeout` rolls back: an unproven canary does not stay in traffic unattended.
Each decision is printed with its numbers and appended to `<models_root>/canary-watch/<model>.json`,
which the model's HTML report shows.
"""
import dataclasses
import json
import pathlib
import re
import time
import urllib.request
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from serving.config import configs
from serving.config.configs import CANARY, STABLE, ConfigError
from serving.rollout import canary, router
from serving.server.metrics import TF_SERVING_API

DECISIONS_DIR = "canary-watch"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


SHADOW_PHASE = "shadow"  # the watch phase before the first weighted step (`--shadow`)


@dataclasses.dataclass
class Rules:
    """The thresholds `decide` applies (see the module docstring), set by `canary watch` flags."""

    max_error_margin: float = 0.01  # canary error rate may exceed stable's by this much (absolute)
    max_p99_ratio: float = 1.5
    latency_floor: float = 0.010  # seconds; p99s below it count as equal to it
    min_requests: int = 100


@dataclasses.dataclass
class VersionStats:
    """One version's Prometheus counters as scraped: cumulative since the server started, so a
    step's numbers are the difference of two scrapes (`minus`)."""

    requests: float = 0.0
    errors: float = 0.0
    buckets: Dict[float, float] = dataclasses.field(default_factory=dict)  # le -> cumulative

    def minus(self, other: "VersionStats") -> "VersionStats":
        """What happened between the earlier scrape `other` and this one."""
        return VersionStats(self.requests - other.requests, self.errors - other.errors,
                            {le: n - other.buckets.get(le, 0) for le, n in self.buckets.items()})

    @property
    def error_rate(self) -> float:
        """Failed share of requests; 0 with no requests, so an idle stable adds no allowance."""
        return self.errors / self.requests if self.requests else 0.0

    def quantile(self, q: float) -> Optional[float]:
        """Prometheus's histogram_quantile: linear inside the bucket that holds rank q."""
        points = sorted(self.buckets.items())
        total = points[-1][1] if points else 0
        if total <= 0:
            return None
        rank = q * total
        lower_le, lower_count = 0.0, 0.0
        for le, count in points:
            if count >= rank:
                if le == float("inf"):
                    return lower_le
                width = count - lower_count
                return lower_le + (le - lower_le) * ((rank - lower_count) / width if width else 1)
            lower_le, lower_count = le, count
        return lower_le

    def summary(self) -> Dict:
        """Counts, error rate and p50/p99 in ms, rounded for the printed line and the JSON record
        the report reads."""
        p50, p99 = self.quantile(0.5), self.quantile(0.99)
        return {"requests": int(self.requests), "errors": int(self.errors),
                "error_rate": round(self.error_rate, 4),
                "p50_ms": None if p50 is None else round(p50 * 1000, 2),
                "p99_ms": None if p99 is None else round(p99 * 1000, 2)}


def parse_duration(text) -> float:
    """'30s', '500ms', '2m', '1h' or a number of seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"invalid duration {text!r}: use e.g. 30s, 500ms, 2m")
    value = float(match.group(1))
    return value * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]


def parse_steps(text) -> List[float]:
    """`--steps` '10,25,50,100' -> weights; each a valid percentage, strictly increasing and above
    0, so every step actually moves traffic to the canary."""
    try:
        steps = [router.check_weight(s) for s in str(text).split(",") if s.strip()]
    except ConfigError as e:
        raise ConfigError(f"invalid --steps {text!r}: {e}") from None
    if not steps or steps != sorted(set(steps)) or steps[0] <= 0:
        raise ConfigError(f"invalid --steps {text!r}: give increasing weights above 0, "
                          "e.g. 10,25,50,100")
    return steps


_TFS_COUNT = (":tensorflow:serving:request_count", ":tensorflow:serving:request_count_total")
_TFS_LATENCY = ":tensorflow:serving:request_latency_bucket"


def scrape(urls: Sequence[str], model: str, timeout: float = 5.0,
           group_versions: Optional[Dict[str, int]] = None,
           url_groups: Optional[Dict[str, str]] = None) -> Dict[int, VersionStats]:
    """Version -> counts summed over every endpoint (both groups), for one model.

    The local server labels its tfxp_serving_* samples with the version. tensorflow_model_server's
    own metrics (`:tensorflow:serving:request_count{model_name,status}`, request_latency in
    microseconds) carry no version: they count for the version the endpoint's group serves
    (`url_groups[url]` -> `group_versions[group]`), which is one per model by construction.
    Only inference calls count, as in TF Serving's request_count: a metadata call runs no model.
    """
    from prometheus_client.parser import text_string_to_metric_families
    stats: Dict[int, VersionStats] = {}
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                text = response.read().decode()
        except OSError as e:
            raise ConfigError(f"cannot read metrics from {url}: {e}") from None
        group_version = (group_versions or {}).get((url_groups or {}).get(url))
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name in _TFS_COUNT or sample.name == _TFS_LATENCY:
                    if labels.get("model_name") != model or group_version is None:
                        continue
                    entry = stats.setdefault(group_version, VersionStats())
                    if sample.name == _TFS_LATENCY:
                        le = float(labels["le"]) / 1e6
                        entry.buckets[le] = entry.buckets.get(le, 0) + sample.value
                    else:
                        entry.requests += sample.value
                        if labels.get("status", "OK") != "OK":
                            entry.errors += sample.value
                    continue
                if (labels.get("model") != model or not labels.get("version", "").isdigit()
                        or labels.get("api") not in TF_SERVING_API):
                    continue
                entry = stats.setdefault(int(labels["version"]), VersionStats())
                if sample.name == "tfxp_serving_requests_total":
                    entry.requests += sample.value
                elif sample.name == "tfxp_serving_request_errors_total":
                    entry.errors += sample.value
                elif sample.name == "tfxp_serving_request_latency_seconds_bucket":
                    le = float(labels["le"])
                    entry.buckets[le] = entry.buckets.get(le, 0) + sample.value
    return stats


def group_metrics_urls(models_root: pathlib.Path) -> Dict[str, List[str]]:
    """Group -> the running local router's group metrics URL."""
    runtime = router.read_runtime(models_root)
    if runtime is None:
        raise ConfigError(f"no router runs for {models_root} (start it with `make serve` / "
                          "`tfxp router`), or pass the groups' metrics URLs with "
                          "--stable-metrics/--canary-metrics")
    return {g: [f"http://127.0.0.1:{runtime['groups'][g]['rest_port']}{configs.PROMETHEUS_PATH}"]
            for g in router.GROUPS}


def decide(stable: VersionStats, candidate: VersionStats, rules: Rules) -> Tuple[str, str]:
    """("rollback" | "hold" | "pass", reason) for one look at the numbers."""
    allowed_rate = stable.error_rate + rules.max_error_margin
    if candidate.errors > allowed_rate * max(candidate.requests, rules.min_requests):
        return "rollback", (f"canary errors {int(candidate.errors)} exceed what "
                            f"{allowed_rate:.2%} of {max(int(candidate.requests), rules.min_requests)}"
                            f" requests allows (stable {stable.error_rate:.2%} + margin "
                            f"{rules.max_error_margin:.2%})")
    if candidate.requests < rules.min_requests:
        return "hold", f"{int(candidate.requests)} of {rules.min_requests} canary requests so far"
    canary_p99, stable_p99 = candidate.quantile(0.99), stable.quantile(0.99)
    if canary_p99 is not None and stable_p99 is not None:
        limit = max(stable_p99, rules.latency_floor) * rules.max_p99_ratio
        if max(canary_p99, rules.latency_floor) > limit:
            return "rollback", (f"canary p99 {canary_p99 * 1000:.1f} ms above {rules.max_p99_ratio}"
                                f" x stable p99 {stable_p99 * 1000:.1f} ms")
    return "pass", (f"error rate {candidate.error_rate:.2%} within {allowed_rate:.2%}, p99 within "
                    f"{rules.max_p99_ratio} x stable")


def decisions_path(models_root: pathlib.Path, model: str) -> pathlib.Path:
    """The JSON record of the model's watches; the name is checked so it stays inside the root."""
    return pathlib.Path(models_root) / DECISIONS_DIR / f"{configs.check_model_name(model)}.json"


def load_decisions(models_root: pathlib.Path, model: str) -> List[Dict]:
    """Every recorded watch of the model, oldest first ([] when none)."""
    path = decisions_path(models_root, model)
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text()).get("watches", [])
    except ValueError:
        return []


def _record(models_root: pathlib.Path, model: str, watch: Dict) -> None:
    watches = [w for w in load_decisions(models_root, model) if w["started"] != watch["started"]]
    configs.write_atomic(decisions_path(models_root, model),
                         json.dumps({"watches": watches + [watch]}, indent=1) + "\n")


def watch(models_root: pathlib.Path, model: str, steps: Sequence[float], interval: float,
          rules: Rules = Rules(), metrics_urls: Optional[Dict[str, Sequence[str]]] = None,
          timeout: Optional[float] = None, echo: Callable[[str], None] = print,
          sleep: Callable[[float], None] = time.sleep,
          on_change: Callable[[], None] = lambda: None, shadow: bool = False) -> Dict:
    """Drive the model's canary through `steps` (percent) to promote or rollback; returns the
    watch record (outcome "promoted" or "rolled back", and every decision). `metrics_urls` maps
    each group to its Prometheus URLs (default: the running local router's groups); `on_change`
    runs after every weight change, promote or rollback (e.g. regenerating k8s manifests).
    `shadow` adds a first phase in shadow mode (the canary gets a copy of the traffic, clients
    only stable's answers), judged by the same rules before any user gets its answers."""
    models_root = pathlib.Path(models_root)
    state = canary.status(models_root).get(configs.check_model_name(model))
    if state is None or state["canary"] is None:
        raise ConfigError(f"model {model!r} has no canary to watch (start one with "
                          "`tfxp canary start`)")
    phases: List[object] = ([SHADOW_PHASE] if shadow else []) + list(steps)
    by_group = metrics_urls or group_metrics_urls(models_root)
    url_groups = {url: group for group, urls in by_group.items() for url in urls}
    stable_v, canary_v = state["stable"], state["canary"]
    group_versions = {STABLE: stable_v, CANARY: canary_v}
    started = time.time()
    record = {"model": model, "stable": stable_v, "canary": canary_v, "steps": phases,
              "interval_s": interval, "rules": dataclasses.asdict(rules),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
              "decisions": [], "outcome": None}

    def snapshot():
        stats = scrape(list(url_groups), model, group_versions=group_versions,
                       url_groups=url_groups)
        return stats.get(stable_v, VersionStats()), stats.get(canary_v, VersionStats())

    stable_start, _ = snapshot()
    step = 0
    _enter_phase(models_root, model, phases, step, canary_v)
    on_change()
    _, canary_step_start = snapshot()
    echo(f"canary watch {model}: stable v{stable_v}, canary v{canary_v}, "
         f"{_phase_name(phases[0])}")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        sleep(interval)
        stable_now, canary_now = snapshot()
        stable_seen = stable_now.minus(stable_start)
        canary_seen = canary_now.minus(canary_step_start)
        verdict, reason = decide(stable_seen, canary_seen, rules)
        action = {"rollback": "rollback", "hold": "hold"}.get(verdict)
        if verdict == "pass":
            action = "promote" if step == len(phases) - 1 else _phase_name(phases[step + 1])
        if action == "hold" and deadline is not None and time.monotonic() > deadline:
            action, reason = "rollback", f"timeout: {reason}"
        decision = {"time": time.strftime("%H:%M:%S"), "weight": phases[step], "action": action,
                    "reason": reason, "canary": canary_seen.summary(),
                    "stable": stable_seen.summary()}
        record["decisions"].append(decision)
        echo(_format(model, canary_v, stable_v, decision))
        if action == "rollback":
            canary.rollback(models_root, model)
            record["outcome"] = "rolled back"
        elif action == "promote":
            canary.promote(models_root, model)
            record["outcome"] = "promoted"
        elif action != "hold":
            step += 1
            _enter_phase(models_root, model, phases, step, canary_v)
            _, canary_step_start = snapshot()
        if action != "hold":
            on_change()
        _record(models_root, model, record)
        if record["outcome"]:
            return record


def _phase_name(phase) -> str:
    return "shadow" if phase == SHADOW_PHASE else f"weight {phase}%"


def _enter_phase(models_root: pathlib.Path, model: str, phases: Sequence, step: int,
                 canary_v: int) -> None:
    """Shadow mode for the shadow phase; a weight for the others (leaving shadow mode first)."""
    if phases[step] == SHADOW_PHASE:
        canary.shadow(models_root, model, canary_v)
        return
    if step and phases[step - 1] == SHADOW_PHASE:
        canary.stop_shadow(models_root, model)
    canary.set_weight(models_root, model, phases[step])


def _format(model: str, canary_v: int, stable_v: int, decision: Dict) -> str:
    def side(name, version, s):
        p50 = "-" if s["p50_ms"] is None else f"{s['p50_ms']} ms"
        p99 = "-" if s["p99_ms"] is None else f"{s['p99_ms']} ms"
        return (f"{name} v{version} {s['requests']} req, {s['errors']} err "
                f"({s['error_rate']:.2%}), p50 {p50}, p99 {p99}")
    return (f"[{decision['time']}] {model} at {_phase_name(decision['weight'])}: "
            f"{side(CANARY, canary_v, decision['canary'])} | "
            f"{side(STABLE, stable_v, decision['stable'])} -> {decision['action']} "
            f"({decision['reason']})")
