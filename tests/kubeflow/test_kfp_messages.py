"""The loopback KFP API refuses what KFP's own v2beta1 messages (kfp-server-api models) do not
define, as KFP's API server does: a misspelled field is a 400, never silently dropped."""
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.kubeflow import kfp_messages


def post(url: str, body) -> urllib.request.Request:
    return urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                  headers={"Content-Type": "application/json"})


def test_a_misspelled_recurring_run_field_is_refused_with_invalid_argument(kfp_api):
    fake, url = kfp_api
    body = {"display_name": "census-schedule", "max_concurency": "1",
            "trigger": {"cron_schedule": {"cron": "0 0 3 * * *"}}}
    with pytest.raises(urllib.error.HTTPError, match="400") as raised:
        urllib.request.urlopen(post(url + "/apis/v2beta1/recurringruns", body))
    answer = json.loads(raised.value.read())
    assert answer["code"] == 3
    assert answer["message"].startswith("max_concurency: unknown field of V2beta1RecurringRun")
    assert fake.recurring_runs == [] and len(fake.rejected) == 1


@pytest.mark.parametrize("body, message", [
    ({"trigger": {"cron_schedule": {"cronn": "0 0 3 * * *"}}},
     "trigger.cron_schedule.cronn: unknown field of V2beta1CronSchedule"),
    ({"mode": "ENABLED"}, "mode: 'ENABLED' is not a RecurringRunMode"),
    ({"no_catchup": "yes"}, "no_catchup: expected bool, got str"),
    ({"runtime_config": {"parameters": {"data_root": "x"}, "pipelineRoot": "gs://b", "root": 1}},
     "runtime_config.root: unknown field of V2beta1RuntimeConfig"),
])
def test_nested_fields_enums_and_kinds_are_checked(body, message):
    assert [p for p in kfp_messages.problems(body, "V2beta1RecurringRun")
            if p.startswith(message)], kfp_messages.problems(body, "V2beta1RecurringRun")


def test_proto_and_json_names_of_a_field_are_both_accepted():
    body = {"display_name": "a", "pipelineVersionReference": {"pipeline_id": "p",
                                                                "pipelineVersionId": "v"},
            "max_concurrency": 2, "mode": 1}
    assert kfp_messages.problems(body, "V2beta1RecurringRun") == []


def test_a_query_filter_is_checked_against_the_filter_message(kfp_api):
    fake, url = kfp_api
    bad = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name",
                                      "string_val": "census"}]})
    with pytest.raises(urllib.error.HTTPError, match="400"):
        urllib.request.urlopen(f"{url}/apis/v2beta1/pipelines?filter={urllib.parse.quote(bad)}")
    assert fake.rejected[0].startswith(
        "filter: predicates[0].string_val: unknown field of V2beta1Predicate")
