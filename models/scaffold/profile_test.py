"""Column kinds, the task, label and leakage checks and the split, on small frames."""
import numpy as np
import pandas as pd
import pytest

from models.scaffold import profile

RNG = np.random.default_rng(0)


def _frame(rows=200):
    """A table with one column of each kind and a binary label that depends on `x`."""
    x = RNG.normal(size=rows)
    return pd.DataFrame({
        "row_id": np.arange(rows),
        "x": x,
        "noise": RNG.normal(size=rows),
        "colour": RNG.choice(["red", "green", "blue"], size=rows),
        "city": [f"city{i % 120}" for i in range(rows)],
        "constant": ["same"] * rows,
        "when": pd.date_range("2020-01-01", periods=rows, freq="h").astype(str),
        "review": [f"this was a rather fine stay number {i}" for i in range(rows)],
        "label": np.where(x + RNG.normal(scale=1.0, size=rows) > 0, "yes", "no"),
    })


def _kinds(frame, label="label", exclude=()):
    return {c.name: c.kind for c in profile.profile_columns(frame, label, exclude)}


def test_each_column_gets_its_kind():
    assert _kinds(_frame()) == {
        "row_id": "id", "x": "numeric", "noise": "numeric", "colour": "categorical",
        "city": "hashed", "constant": "constant", "when": "timestamp", "review": "text"}


def test_high_cardinality_strings_are_hashed_into_twice_as_many_buckets():
    city = profile.classify_column("city", _frame()["city"])
    assert city.kind == "hashed" and city.hash_buckets == 240 and city.used


def test_missing_values_are_counted_and_do_not_change_the_kind():
    frame = _frame()
    frame.loc[::4, "x"] = np.nan
    frame.loc[::5, "colour"] = np.nan
    x = profile.classify_column("x", frame["x"])
    colour = profile.classify_column("colour", frame["colour"])
    assert (x.kind, x.missing) == ("numeric", 50)
    assert (colour.kind, colour.missing) == ("categorical", 40)


def test_an_all_missing_column_is_constant():
    column = profile.classify_column("empty", pd.Series([np.nan] * 30))
    assert column.kind == "constant" and not column.used


def test_excluded_columns_are_kept_out_and_unknown_ones_named():
    assert _kinds(_frame(), exclude=["x"])["x"] == "excluded"
    with pytest.raises(profile.ScaffoldError, match="--exclude nope: no such column"):
        profile.profile_columns(_frame(), "label", ["nope"])


def test_shuffled_whole_numbers_with_every_value_distinct_are_not_an_id():
    values = pd.Series(RNG.permutation(200))
    assert profile.classify_column("count", values).kind == "numeric"
    assert profile.classify_column("customer_id", values).kind == "id"


@pytest.mark.parametrize("label, task", [
    (["a", "b"] * 10, "binary"),
    (["a", "b", "c"] * 10, "multiclass"),
    ([0, 1] * 10, "binary"),
    ([0, 1, 2, 3] * 10, "multiclass"),
    (list(range(100)), "regression"),
    ([0.5, 1.25, 2.0] * 10, "regression"),
])
def test_the_task_follows_the_label(label, task):
    inferred, reason = profile.infer_task(pd.Series(label))
    assert inferred == task and reason


def test_a_one_class_label_is_fatal():
    findings = profile.check_label(pd.Series(["yes"] * 20), "binary")
    assert [f.fatal for f in findings] == [True]
    assert "nothing to learn" in findings[0].problem


def test_missing_labels_warn_that_the_rows_are_left_out():
    label = pd.Series(["yes", "no", None, "yes", np.nan] * 4)
    findings = profile.check_label(label, "binary")
    assert len(findings) == 1 and not findings[0].fatal
    assert findings[0].problem == "8 of 20 rows have no label"


def test_regression_on_names_is_fatal():
    findings = profile.check_label(pd.Series(["a", "b", "c"] * 5), "regression")
    assert any(f.fatal and "numeric label" in f.problem for f in findings)


def test_a_column_computed_from_the_label_is_a_fatal_leak():
    frame = _frame()
    frame["approved_flag"] = (frame["label"] == "yes").astype(int)
    columns = profile.profile_columns(frame, "label")
    findings = profile.check_leakage(frame, "label", "binary", columns)
    leaks = [f for f in findings if f.fatal]
    assert [f.column for f in leaks] == ["approved_flag"]
    assert "--exclude approved_flag" in leaks[0].action


def test_a_predictive_but_noisy_column_is_not_a_leak():
    frame = _frame()
    columns = profile.profile_columns(frame, "label")
    findings = profile.check_leakage(frame, "label", "binary", columns)
    assert not [f for f in findings if f.fatal]
    assert [f.column for f in findings] == ["row_id"]  # the id is reported, not fatal


def test_a_regression_leak_is_found_by_r2():
    x = RNG.normal(size=300)
    frame = pd.DataFrame({"x": x, "price": 3 * x + 1, "noise": RNG.normal(size=300)})
    frame["price_copy"] = frame["price"] * 100
    columns = profile.profile_columns(frame, "price")
    leaks = {f.column for f in profile.check_leakage(frame, "price", "regression", columns)
             if f.fatal}
    assert leaks == {"x", "price_copy"}


def test_the_split_depends_on_row_values_not_order():
    frame = _frame()
    split = profile.row_split(frame)
    shuffled = frame.sample(frac=1.0, random_state=1)
    assert (profile.row_split(shuffled).sort_index() == split).all()
    assert 0.25 < (split == "eval").mean() < 0.42


def test_naive_baseline_is_the_commonest_class_or_the_mean():
    binary = profile.naive_baseline(pd.Series(["a", "a", "b"]), pd.Series(["a", "b", "b", "b"]),
                                    "binary")
    assert binary == {"commonest_class": "a", "accuracy": 0.25, "auc": 0.5}
    regression = profile.naive_baseline(pd.Series([1.0, 3.0]), pd.Series([2.0, 4.0]),
                                        "regression")
    assert regression == {"mean": 2.0, "mean_squared_error": 2.0, "mean_absolute_error": 1.0}


def test_classes_are_spelled_as_in_the_csv_and_numbers_sort_numerically():
    assert profile.classes_of(pd.Series([10.0, 2.0, np.nan, 1.0]), "multiclass") == \
        ["1", "2", "10"]
    assert profile.classes_of(pd.Series(["no", "yes"]), "binary") == ["no", "yes"]


def test_safe_names_are_identifiers_and_unique():
    taken = {}
    for column in ["mean radius", "mean_radius", "od280/od315", "2nd"]:
        taken[column] = profile.safe_name(column, taken)
    assert taken == {"mean radius": "mean_radius", "mean_radius": "mean_radius_2",
                     "od280/od315": "od280_od315", "2nd": "c_2nd"}
