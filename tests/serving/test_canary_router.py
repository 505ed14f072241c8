"""The canary router with the real nginx on loopback: weighted split, stickiness, label routing,
weight changes / promote / rollback under a client loop, and `canary watch` on live metrics.

One stack (nginx + a stable and a canary `python -m serving` group) serves the module; the tests
run in file order and each leaves the state the next one starts from.
"""
import http.client
import random
import threading

import pytest

from serving.config.configs import ConfigError
from serving.rollout import canary, canary_watch, router
from serving.server.process import free_ports
from tests.serving.router_traffic import (MODEL, ROW, RestClient, Traffic, build_faulty,
                                          grpc_request, grpc_stub, two_affine_versions,
                                          version_of)

REQUESTS_PER_CHANGE = 30  # answered (or failed) around each rollout change before the next


pytestmark = pytest.mark.requires("nginx")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = two_affine_versions(tmp_path_factory.mktemp("router") / "models")
    stack = router.LocalStack(root, *free_ports(2)).start()
    yield stack
    stack.stop()


def test_a_router_port_held_by_another_process_fails_start_up(tmp_path):
    """nginx cannot bind a port another server holds; the readiness check must not take that
    server's answers for nginx's, or requests go to the wrong server."""
    import socket

    root = two_affine_versions(tmp_path / "models")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy, (free,) = squatter.getsockname()[1], free_ports(1, exclude=[squatter.getsockname()[1]])
        with pytest.raises(ConfigError, match=r"nginx exited with code 1 \(a port in use\? .*"
                                              r"Address already in use"):
            router.LocalStack(root, busy, free).start()
        with pytest.raises(ConfigError, match=r"REST and gRPC ports are both"):
            router.LocalStack(root, free, free).start()
    assert router.read_runtime(root) is None


def test_weight_20_sends_a_fifth_of_rest_and_grpc_traffic_to_the_canary(stack):
    result = canary.start(stack.models_root, MODEL, 2, weight=20)
    assert result[MODEL]["canary"] == 2 and result[MODEL]["weight"] == 20
    counts = {1: 0, 2: 0}
    lock = threading.Lock()

    def rest_worker(n):
        client = RestClient(stack.rest_port)
        for _ in range(n):
            status, body = client.predict()
            assert status == 200, body
            with lock:
                counts[version_of(body["predictions"])] += 1

    threads = [threading.Thread(target=rest_worker, args=(500,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rest_share = counts[2] / 2000
    stub = grpc_stub(stack.grpc_port)
    grpc_versions = [stub.Predict(grpc_request(), timeout=30).model_spec.version.value
                     for _ in range(1000)]
    grpc_share = grpc_versions.count(2) / 1000
    print(f"weight 20: REST canary share {rest_share:.3f} of 2000, "
          f"gRPC {grpc_share:.3f} of 1000")
    assert sum(counts.values()) == 2000 and set(grpc_versions) <= {1, 2}
    assert abs(rest_share - 0.20) <= 0.03
    assert abs(grpc_share - 0.20) <= 0.03


def test_sticky_header_and_labels_pick_one_group(stack):
    client = RestClient(stack.rest_port)
    stub = grpc_stub(stack.grpc_port)
    groups = {}
    for user in range(40):
        seen = {version_of(client.predict(headers={"x-user-id": f"user-{user}"})[1]
                           ["predictions"]) for _ in range(5)}
        seen |= {stub.Predict(grpc_request(), metadata=[("x-user-id", f"user-{user}")],
                              timeout=30).model_spec.version.value for _ in range(3)}
        assert len(seen) == 1, f"user-{user} was answered by versions {seen}"
        groups[user] = seen.pop()
    assert set(groups.values()) == {1, 2}
    for path, version in ((f"/v1/models/{MODEL}/labels/canary:predict", 2),
                          (f"/v1/models/{MODEL}/labels/stable:predict", 1),
                          (f"/v1/models/{MODEL}/versions/2:predict", 2),
                          (f"/v1/models/{MODEL}/versions/1:predict", 1)):
        answers = [client.predict(path) for _ in range(20)]
        assert [a for a in answers if a[0] != 200] == [], path
        assert {version_of(body["predictions"]) for _, body in answers} == {version}, path
    for group, version in (("canary", 2), ("stable", 1)):
        assert {stub.Predict(grpc_request(label=group), metadata=[("x-tfxp-group", group)],
                             timeout=30).model_spec.version.value for _ in range(20)} == {version}


def test_large_bodies_pass_through_nginx_temp_files(stack):
    """Bodies beyond nginx's memory buffers go through its temp paths (owned by its worker)."""
    rows = [[float(i), 1.0] for i in range(8000)]
    status, body = RestClient(stack.rest_port).predict(headers={"x-tfxp-group": "stable"},
                                                       row=rows)
    assert status == 200, body
    assert len(body["predictions"]) == 8000 and body["predictions"][-1] == [7999.0, 1.0]


def test_bad_weights_are_refused_and_change_nothing(stack):
    before = (stack.models_root / router.WEIGHTS_FILE).read_text()
    for weight in (-1, 101, "ten", 12.345):
        with pytest.raises(ConfigError, match="percentage from 0 to 100"):
            canary.set_weight(stack.models_root, MODEL, weight)
    with pytest.raises(ConfigError, match="no pushed versions"):
        canary.set_weight(stack.models_root, "nope", 10)
    assert (stack.models_root / router.WEIGHTS_FILE).read_text() == before


def test_weight_changes_promote_and_rollback_lose_no_request(stack):
    from serving.server import testing
    testing.build_affine(stack.models_root / MODEL / "3", 3.0)
    served = {}
    with Traffic(stack) as traffic:
        traffic.wait_for_count(REQUESTS_PER_CHANGE)
        for name, change in (("set-weight 50", lambda: canary.set_weight(stack.models_root,
                                                                         MODEL, 50)),
                             ("set-weight 0", lambda: canary.set_weight(stack.models_root,
                                                                        MODEL, 0)),
                             ("set-weight 100", lambda: canary.set_weight(stack.models_root,
                                                                          MODEL, 100)),
                             ("promote", lambda: canary.promote(stack.models_root, MODEL)),
                             ("start 3 at 30", lambda: canary.start(stack.models_root, MODEL, 3,
                                                                    weight=30)),
                             ("rollback", lambda: canary.rollback(stack.models_root, MODEL))):
            before = traffic.count()
            change()
            traffic.wait_for_count(before + REQUESTS_PER_CHANGE)
            served[name] = traffic.count() - before
    print("requests answered around each change:", served, "failures:", len(traffic.failures))
    assert traffic.failures == []
    assert canary.status(stack.models_root)[MODEL]["stable"] == 2
    assert canary.status(stack.models_root)[MODEL]["canary"] is None
    client = RestClient(stack.rest_port)
    assert {version_of(client.predict()[1]["predictions"]) for _ in range(30)} == {2}


def run_watch(stack, traffic_rows, **rules):
    """The latency rule is off here (an infinite p99 ratio): whether a fresh version's first
    calls are slow depends on the machine's load, not on the code; serving/canary_watch_test.py
    covers that rule. Outcomes here follow from the error counts alone."""
    lines, changes = [], []
    with Traffic(stack, traffic_rows) as traffic:
        record = canary_watch.watch(
            stack.models_root, MODEL, [25, 100], 0.5,
            canary_watch.Rules(max_p99_ratio=float("inf"), min_requests=40, **rules),
            timeout=120, echo=lines.append,
            on_change=lambda: changes.append(canary.status(stack.models_root)[MODEL]["weight"]))
    print("\n".join(lines))
    record["changes"] = changes
    return record, traffic, lines


def test_watch_promotes_a_healthy_canary(stack):
    from serving.server import testing
    testing.build_affine(stack.models_root / MODEL / "4", 4.0)
    canary.start(stack.models_root, MODEL, 4, weight=0)
    record, traffic, lines = run_watch(stack, lambda: ROW)
    assert record["outcome"] == "promoted", lines
    assert [d["action"] for d in record["decisions"] if d["action"] != "hold"] == \
        ["weight 100%", "promote"]
    assert record["changes"] == [25, 100, 0]  # weights seen after each change
    assert traffic.failures == []
    assert canary.status(stack.models_root)[MODEL]["stable"] == 4
    assert "canary v4" in lines[-1] and "-> promote" in lines[-1]


def test_watch_rolls_back_a_canary_that_fails_requests(stack):
    build_faulty(stack.models_root / MODEL / "5", failure_above=0.6)
    canary.start(stack.models_root, MODEL, 5, weight=0)
    rng = random.Random(5)
    record, traffic, lines = run_watch(stack, lambda: [[rng.random(), 0.0]])
    assert record["outcome"] == "rolled back", lines
    assert record["decisions"][-1]["action"] == "rollback"
    assert record["decisions"][-1]["canary"]["errors"] > 0
    assert record["decisions"][-1]["stable"]["errors"] == 0
    assert all(f[0] == "rest" and f[1] == 400 or "faulty" in repr(f) or "INVALID" in repr(f)
               for f in traffic.failures), traffic.failures[:3]
    assert canary.status(stack.models_root)[MODEL] == {**canary.status(stack.models_root)[MODEL],
                                                       "stable": 4, "canary": None}
    saved = canary_watch.load_decisions(stack.models_root, MODEL)
    assert [w["outcome"] for w in saved] == ["promoted", "rolled back"]
    from pipelines.report import canary_section
    html = canary_section.section(saved)
    last = record["decisions"][-1]
    assert f'<td class="num">{last["canary"]["errors"]:,}</td>' in html
    assert html.count('data-action="rollback"') == 1 and html.count('data-action="promote"') == 1


def test_group_metrics_count_the_failing_version_with_its_label(stack):
    text = http.client.HTTPConnection("127.0.0.1",
                                      stack.groups["canary"]["rest_port"], timeout=10)
    text.request("GET", "/monitoring/prometheus/metrics")
    body = text.getresponse().read().decode()
    assert f'tfxp_serving_request_errors_total{{api="predict",code="INVALID_ARGUMENT",' \
           f'label="canary",model="{MODEL}",protocol="rest",version="5"}}' in body
