"""`tfxp kubeflow` argument errors that stop a command before it compiles, connects or runs."""
from pipelines import cli


def test_run_local_param_without_a_value_fails_with_one_line(capsys):
    args = cli.build_parser().parse_args(
        ["kubeflow", "run-local", "--model", "census", "--param", "data_root"])
    assert args.func(args) == 1
    assert capsys.readouterr().err == (
        "tfxp kubeflow run-local: error: --param: expected KEY=VALUE, got 'data_root'\n")
