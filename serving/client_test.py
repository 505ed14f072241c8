"""Rows read from JSON and CSV files, typed by a TFDV schema when one is given."""
import json

import pytest

from serving.client import feature_types, load_rows

SCHEMA = """
feature { name: "age" type: INT }
feature { name: "fare" type: FLOAT }
feature { name: "zip" type: BYTES }
"""


@pytest.fixture
def schema(tmp_path):
    path = tmp_path / "schema.pbtxt"
    path.write_text(SCHEMA)
    return str(path)


def test_csv_cells_read_as_numbers_without_a_schema(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("age, fare, zip, city\n59, 7.25, 02139, Boston\n")
    assert load_rows(csv_file=str(rows)) == [
        {"age": 59, "fare": 7.25, "zip": 2139, "city": "Boston"}]


def test_csv_cells_take_their_schema_type(tmp_path, schema):
    rows = tmp_path / "rows.csv"
    rows.write_text("age,fare,zip,city\n59,7,02139,Boston\n")
    (row,) = load_rows(csv_file=str(rows), schema_file=schema)
    assert row == {"age": 59, "fare": 7.0, "zip": "02139", "city": "Boston"}
    assert isinstance(row["fare"], float) and isinstance(row["age"], int)


def test_json_values_and_lists_take_their_schema_type(tmp_path, schema):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"instances": [{"age": 59.0, "fare": [1, 2], "zip": 2139}]}))
    (row,) = load_rows(json_file=str(rows), schema_file=schema)
    assert row == {"age": 59, "fare": [1.0, 2.0], "zip": "2139"}
    assert all(isinstance(v, float) for v in row["fare"])


def test_a_value_that_does_not_fit_its_schema_type_names_row_and_feature(tmp_path, schema):
    rows = tmp_path / "rows.csv"
    rows.write_text("age,fare\n59,1.5\n59.5,2\n")
    with pytest.raises(ValueError, match=r"rows\.csv line 3: feature 'age' is INT in the schema, "
                                         r"got '59\.5'"):
        load_rows(csv_file=str(rows), schema_file=schema)
    rows.write_text("age,fare\n59,cheap\n")
    with pytest.raises(ValueError, match=r"line 2: feature 'fare' is FLOAT in the schema, got "
                                         r"'cheap'"):
        load_rows(csv_file=str(rows), schema_file=schema)
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"fare": True}]))
    with pytest.raises(ValueError, match=r"rows\.json row 1: feature 'fare' is FLOAT in the "
                                         r"schema, got True"):
        load_rows(json_file=str(rows), schema_file=schema)


def test_a_missing_or_unreadable_schema_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"no such file \(a pushed version carries its schema"):
        feature_types(str(tmp_path / "absent.pbtxt"))
    bad = tmp_path / "bad.pbtxt"
    bad.write_text("feature { name: 'x' kind: FLOAT }")
    with pytest.raises(ValueError, match=r"is not a schema\.pbtxt"):
        feature_types(str(bad))
