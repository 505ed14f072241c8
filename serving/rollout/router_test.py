"""Group configs and the generated nginx config (accepted by `nginx -t`)."""
import pytest

from serving.config import configs
from serving.rollout import router


def config_with_canary():
    config = configs.parse_models_config("""model_config_list {
      config { name: "census" base_path: "/models/census" model_platform: "tensorflow"
               model_version_policy { specific { versions: 1 versions: 2 } }
               version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } }
      config { name: "iris" base_path: "/models/iris" model_platform: "tensorflow"
               model_version_policy { specific { versions: 7 } }
               version_labels { key: "stable" value: 7 } }
    }""")
    return config


def test_each_group_serves_its_version_and_holds_older_labelled_ones():
    config = config_with_canary()
    stable = router.group_config(config, "stable").model_config_list.config
    canary = router.group_config(config, "canary").model_config_list.config
    assert [list(e.model_version_policy.specific.versions) for e in stable] == [[1], [7]]
    assert [dict(e.version_labels) for e in stable] == [{"stable": 1}, {"stable": 7}]
    # the canary group also holds the older stable version under its label: unlabeled requests
    # still get the newest (the canary), labelled `stable` ones succeed in either group
    assert [list(e.model_version_policy.specific.versions) for e in canary] == [[1, 2], [7]]
    assert [dict(e.version_labels) for e in canary] == [{"canary": 2, "stable": 1},
                                                        {"stable": 7}]
    assert list(configs.model_entry(config, "census").model_version_policy.specific.versions) \
        == [1, 2]


def test_an_older_canary_is_held_by_the_stable_group_and_not_the_reverse():
    config = configs.parse_models_config("""model_config_list {
      config { name: "census" base_path: "/models/census" model_platform: "tensorflow"
               model_version_policy { specific { versions: 3 versions: 5 } }
               version_labels { key: "stable" value: 5 } version_labels { key: "canary" value: 3 } }
    }""")
    (stable,) = router.group_config(config, "stable").model_config_list.config
    (canary,) = router.group_config(config, "canary").model_config_list.config
    assert dict(stable.version_labels) == {"stable": 5, "canary": 3}
    assert list(stable.model_version_policy.specific.versions) == [3, 5]
    assert dict(canary.version_labels) == {"canary": 3}
    assert list(canary.model_version_policy.specific.versions) == [3]


def test_weights_are_checked_and_persisted(tmp_path):
    assert router.read_weights(tmp_path) == {}
    router.write_weights(tmp_path, {"census": 12.5})
    assert router.read_weights(tmp_path) == {"census": 12.5}
    out_of_range = "give a percentage from 0 to 100 with at most two decimals$"
    for bad, reason in ((-1, out_of_range), (100.5, out_of_range), (1.234, out_of_range),
                        ("x", "give a percentage from 0 to 100$")):
        with pytest.raises(configs.ConfigError, match=f"invalid canary weight {bad!r}: {reason}"):
            router.check_weight(bad)
    (tmp_path / router.WEIGHTS_FILE).write_text("{not json")
    with pytest.raises(configs.ConfigError, match="not a valid router state"):
        router.read_weights(tmp_path)


@pytest.mark.requires("nginx")
@pytest.mark.parametrize("weight", [0, 12.5, 100])
def test_nginx_config_splits_by_weight_and_passes_nginx_t(tmp_path, weight):
    groups = {"stable": {"rest_port": 9001, "grpc_port": 9002},
              "canary": {"rest_port": 9003, "grpc_port": 9004}}
    text = router.render_nginx_config(config_with_canary(), {"census": weight, "iris": 50},
                                      9501, 9500, groups, tmp_path)
    if 0 < weight < 100:
        assert f"{weight}% canary;" in text
    else:
        assert "split_clients" not in text
    assert "iris" not in text  # a weight without a canary routes nothing
    assert "grpc_pass grpc://tfxp_grpc_$tfxp_grpc_group;" in text and "http2" in text
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    router._nginx_test(conf, tmp_path)
