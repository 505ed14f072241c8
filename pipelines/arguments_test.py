"""The KEY=VALUE syntax shared by `tfxp run --hparam` and `tfxp kubeflow ... --param`."""
import pytest

from pipelines import arguments


def test_key_value_splits_at_the_first_equals_sign():
    assert arguments.split_key_value("data_root=gs://b/d?x=1") == ("data_root", "gs://b/d?x=1")
    assert arguments.split_key_value("note=") == ("note", "")


@pytest.mark.parametrize("text", ["novalue", "=value"])
def test_key_value_without_a_key_or_equals_sign_is_an_error_naming_it(text):
    with pytest.raises(ValueError, match=f"expected KEY=VALUE, got {text!r}"):
        arguments.split_key_value(text)
