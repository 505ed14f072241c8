"""The native-call benchmark compiles its C program against the installed TensorFlow and runs
the stand-in model through the C API and from Python with the same answers, so `make bench`
cannot be left broken by a TensorFlow upgrade or a model change."""
import pytest

from bench import native_call, serving_bench


def test_the_c_api_call_answers_as_the_python_calls_do(tmp_path, monkeypatch):
    monkeypatch.setattr(serving_bench, "CENSUS_ROOT", tmp_path / "census")
    result = native_call.run(rows=(3,), iterations=20, rounds=1, stand_in=True)
    figures = result["rows"][3]
    assert figures["outputs_agree"] is True, figures
    assert all(figures[name]["cpu_us"] > 0 and figures[name]["wall_us"] > 0
               for name in ("c_api", "python_function", "python_session")), figures
    assert figures["c_api_cpu_vs_python_function"] > 0


def test_without_gcc_the_build_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(native_call, "TOOLS_CACHE", tmp_path)
    monkeypatch.setattr(native_call.shutil, "which", lambda name: None)
    with pytest.raises(native_call.NativeBuildError, match="gcc is not installed: install it"):
        native_call.build()


def test_a_missing_operation_is_reported_not_timed(tmp_path, monkeypatch):
    monkeypatch.setattr(serving_bench, "CENSUS_ROOT", tmp_path / "census")
    from serving.server import testing
    model = testing.build_census_like(tmp_path / "model")
    example = tmp_path / "example.bin"
    example.write_bytes(testing.example())
    with pytest.raises(RuntimeError, match="input or output operation not in the graph"):
        native_call._native(native_call.build(), model, "no_such_input:0", "no_such_output:0",
                            2, 5, example)
