"""kubeflow/Containerfile, read without building it (`make test-image` builds and runs it): the
base image, the lock, that every file the package needs is copied and not ignored, and that the
image's own import check passes on this checkout."""
import ast
import re
import shlex

import pytest
from setuptools import find_namespace_packages

from data import settings
from kubeflow import compile as kubeflow_compile
from kubeflow import verify

ROOT = settings.PROJECT_ROOT
DOCKERFILE = ROOT / "kubeflow" / "Containerfile"
IGNORE_FILE = ROOT / "kubeflow" / "Containerfile.dockerignore"


def instructions():
    """(INSTRUCTION, argument text) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def copied_sources():
    sources = set()
    for keyword, rest in instructions():
        if keyword == "COPY":
            parts = shlex.split(rest)
            sources |= {part.rstrip("/") for part in parts[:-1] if not part.startswith("--")}
    return sources


def setup_packages():
    """The packages setup.py installs, from its own find_namespace_packages arguments."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "find_namespace_packages")
    options = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    return find_namespace_packages(where=str(ROOT), **options)


def ignore_patterns():
    lines = [line.strip() for line in IGNORE_FILE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _regex(pattern: str):
    out = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    return re.compile(out.replace(r"\?", "[^/]"))


def ignored(relative: str) -> bool:
    """Docker's rule: a path is excluded when it or one of its parent folders matches."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(_regex(p).fullmatch(prefix) for p in ignore_patterns() for prefix in prefixes)


def test_the_base_is_public_debian_12_which_the_local_build_makes_under_the_same_name():
    from kubeflow import image

    base = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert base == ["debian:bookworm-slim"]
    assert image.BASE_IMAGE == f"localhost/{base[0]}"
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "python3 python3-venv" in runs and "useradd" in runs
    assert [rest for keyword, rest in instructions() if keyword == "USER"] == ["tfxp"]


def test_the_stack_is_installed_from_the_lock_like_make_setup():
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "requirements/constraints.txt" in copied_sources()
    assert "-c requirements/constraints.txt" in runs
    makefile = (ROOT / "Makefile").read_text()
    pins = lambda text: set(re.findall(r"\b[a-z][a-z0-9-]*==[0-9][0-9.]*", text))  # noqa: E731
    make_line = next(line for line in makefile.splitlines() if "tfx==" in line)
    assert pins(make_line) <= pins(runs)
    assert "-r requirements/extras.txt" in runs
    assert "pip check" in runs


def test_every_package_and_its_data_is_copied_and_not_ignored():
    sources = copied_sources()
    top_level = {package.split(".")[0] for package in setup_packages()}
    assert top_level, "setup.py lists no packages"
    assert "setup.py" in sources
    missing = sorted(top_level - sources)
    assert not missing, f"packages not copied into the image: {missing}"
    needed = []
    for package in top_level:
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in relative and (
                    path.suffix == ".py" or relative.startswith("data/schemas/")):
                needed.append(relative)
    assert not [path for path in needed if ignored(path)]
    for heavy in (".venv", ".cache/image", "data/prepared", "data/downloads", "tfx_root",
                  "kubeflow/specs", ".git", "models/census/__pycache__"):
        assert ignored(heavy), heavy


def test_the_specs_schema_paths_exist_in_the_copied_project():
    workdir = [rest for keyword, rest in instructions() if keyword == "WORKDIR"]
    assert workdir == [kubeflow_compile.IMAGE_PROJECT_DIR]
    from models import registry

    for model in registry.names():
        spec = registry.get(model)
        if spec.schema_path:
            relative = spec.schema_path.resolve().relative_to(ROOT).as_posix()
            assert relative.split("/")[0] in copied_sources() and not ignored(relative), model


def test_the_image_build_ends_with_the_import_check_that_passes_here():
    last = [rest for keyword, rest in instructions() if keyword == "RUN"][-1]
    assert "python -m kubeflow.verify" in last
    from models import registry

    assert verify.verify_models(registry.names()) == {model: [] for model in registry.names()}


@pytest.mark.parametrize("path,expected", [
    ("data/prepared/census/train.csv", True), ("models/x/__pycache__/a.pyc", True),
    ("data/schemas/census.pbtxt", False), ("kubeflow/specs/census.yaml", True),
    ("kubeflow/compile.py", False)])
def test_the_ignore_matcher_follows_docker_rules(path, expected):
    assert ignored(path) is expected
