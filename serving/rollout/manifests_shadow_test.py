"""Shadow mode in the Kubernetes routes: the model's REST rule and the gRPC rule route to stable
with a Gateway API RequestMirror filter to the canary group."""
from serving.config import configs
from serving.rollout import canary, manifests, router
from serving.server import testing


def test_shadow_routes_to_stable_and_mirrors_to_the_canary_service(tmp_path):
    root = tmp_path / "models"
    testing.build_affine(root / "split" / "1", 1.0)
    canary.on_push(root, "split", 1)
    testing.build_affine(root / "split" / "2", 2.0)
    canary.shadow(root, "split", 2)
    config = configs.read_models_config(root / configs.MODELS_CONFIG)
    http_route, grpc_route = manifests.route_objects(config, router.read_weights(root),
                                                     router.read_shadows(root))
    mirror = {"type": "RequestMirror", "requestMirror": {"backendRef": {
        "name": manifests.service_name("canary"), "port": manifests.REST_PORT}}}
    shadowed = [r for r in http_route["spec"]["rules"] if r.get("filters") == [mirror]]
    assert len(shadowed) == 1 and "split" in shadowed[0]["matches"][0]["path"]["value"]
    assert shadowed[0]["backendRefs"] == [{"name": manifests.service_name("stable"),
                                           "port": manifests.REST_PORT}]
    grpc_rules = grpc_route["spec"]["rules"]
    assert grpc_rules[0]["filters"][0]["requestMirror"]["backendRef"]["port"] == \
        manifests.GRPC_PORT
    assert all(ref["name"] == manifests.service_name("stable")
               for rule in grpc_rules for ref in rule["backendRefs"])
    canary_group = router.group_config(config, "canary", ["split"])
    assert dict(canary_group.model_config_list.config[0].version_labels) == \
        {"canary": 2, "stable": 2}
    canary.stop_shadow(root, "split")
    http_route, grpc_route = manifests.route_objects(
        configs.read_models_config(root / configs.MODELS_CONFIG), router.read_weights(root),
        router.read_shadows(root))
    assert not any(r.get("filters") for r in http_route["spec"]["rules"]
                   + grpc_route["spec"]["rules"])
