"""Request bodies checked strictly against KFP's own v2beta1 API messages, as published in the
`kfp-server-api` models (the REST API's generated client, the version kfp 2.13 installs).

KFP's API server decodes a body with protobuf's JSON mapping and no allowance for unknown fields:
a field the message does not define is an InvalidArgument, not silently dropped. The loopback
API of the schedule tests (fake_kfp.py) calls `problems` on every body and query filter it
receives, so a misspelled or invented field fails the test that sent it.
"""
import re
from typing import Any, List

import kfp_server_api

# The message KFP decodes the body of each POST into (v2beta1 REST paths under /apis/v2beta1).
BODY_MESSAGES = {
    "/experiments": "V2beta1Experiment",
    "/pipelines": "V2beta1Pipeline",
    "/pipelines/create": "V2beta1CreatePipelineAndVersionRequest",
    "/recurringruns": "V2beta1RecurringRun",
    "/runs": "V2beta1Run",
}
FILTER_MESSAGE = "V2beta1Filter"
_GENERIC = re.compile(r"(list)\[(.+)\]|dict\((\w+), (.+)\)")


def _lower_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _model(name: str):
    model = getattr(kfp_server_api.models, name, None)
    if model is None:
        raise KeyError(f"kfp-server-api has no model {name}")
    return model


def problems(value: Any, type_name: str, where: str = "") -> List[str]:
    """Every field of `value` that the message `type_name` does not define, and every value of
    the wrong JSON kind; empty when KFP would decode it. Field names are accepted as protobuf's
    JSON mapping accepts them: the proto name or its lowerCamelCase JSON name."""
    generic = _GENERIC.fullmatch(type_name)
    if generic and generic.group(1):
        if not isinstance(value, list):
            return [f"{where or 'body'}: expected a list ({type_name}), got {type(value).__name__}"]
        return [p for i, item in enumerate(value)
                for p in problems(item, generic.group(2), f"{where}[{i}]")]
    if generic:
        if not isinstance(value, dict):
            return [f"{where or 'body'}: expected an object ({type_name}), got {type(value).__name__}"]
        return [p for key, item in value.items()
                for p in problems(item, generic.group(4), f"{where}.{key}")]
    scalar = _scalar_problem(value, type_name, where)
    if scalar is not None:
        return [] if scalar == "" else [scalar]
    model = _model(type_name)
    if getattr(model, "allowable_values", None):  # an enum: its name, or its number (protobuf JSON)
        if value in model.allowable_values or (
                isinstance(value, int) and not isinstance(value, bool)
                and 0 <= value < len(model.allowable_values)):
            return []
        return [f"{where or 'body'}: {value!r} is not a {type_name} "
                f"(one of {', '.join(model.allowable_values)})"]
    if not isinstance(value, dict):
        return [f"{where or 'body'}: expected a {type_name} object, got {type(value).__name__}"]
    fields = {}
    for attribute, json_name in model.attribute_map.items():
        fields[json_name] = fields[_lower_camel(json_name)] = model.openapi_types[attribute]
    found = []
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            found.append(f"{path}: unknown field of {type_name} (its fields: "
                         f"{', '.join(sorted(model.attribute_map.values()))})")
        elif item is not None:
            found += problems(item, fields[key], path)
    return found


def _scalar_problem(value: Any, type_name: str, where: str):
    """None when `type_name` is not a scalar; "" when the value fits; else the problem. int64
    fields are `str` in the models and accepted as a number or a string, as protobuf JSON does."""
    kinds = {"str": (str, int), "int": (int,), "float": (int, float), "bool": (bool,),
             "datetime": (str,), "date": (str,), "object": (object,)}
    if type_name not in kinds:
        return None
    allowed = kinds[type_name]
    if isinstance(value, allowed) and not (type_name != "bool" and isinstance(value, bool)
                                           and bool not in allowed and object not in allowed):
        return ""
    return f"{where or 'body'}: expected {type_name}, got {type(value).__name__} {value!r}"
