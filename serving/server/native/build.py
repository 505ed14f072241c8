"""Build the native gRPC front end: the Go sources beside this file, their protobuf types
generated from the descriptors of the installed tensorflow-serving-api (so Go and Python read the
same .proto files), compiled into a C shared library against the installed TensorFlow wheel's C
API. Everything lands in the tools cache, keyed by the sources and the TensorFlow version; the Go
modules come from the module proxy into the same Go caches `make go-tools` uses."""
import hashlib
import os
import pathlib
import shutil
import subprocess
from typing import Dict, List

from data.settings import TOOLS_CACHE

SOURCE_DIR = pathlib.Path(__file__).resolve().parent
GO_MODULE = "tfxp/serving/native"
GO_DIR = TOOLS_CACHE / "go"
LIBRARY_NAME = "libtfxp_native.so"
# proto file -> the Go package (under GO_MODULE) its types are generated into
GENERATED = {
    "tensorflow/core/framework/types.proto": "pb/framework",
    "tensorflow/core/framework/tensor_shape.proto": "pb/framework",
    "tensorflow/core/framework/resource_handle.proto": "pb/framework",
    "tensorflow/core/framework/tensor.proto": "pb/framework",
    "tensorflow_serving/apis/model.proto": "pb/apis",
    "tensorflow_serving/apis/predict.proto": "pb/apis",
}
WELL_KNOWN = {"google/protobuf/wrappers.proto": "google.golang.org/protobuf/types/known/wrapperspb"}


class NativeBuildError(RuntimeError):
    """The front end could not be built (no Go or gcc, no module proxy, a compile error)."""


def _sources() -> List[pathlib.Path]:
    return sorted([*SOURCE_DIR.glob("*.go"), SOURCE_DIR / "go.mod", SOURCE_DIR / "go.sum",
                   pathlib.Path(__file__).resolve()])


def go_env() -> Dict[str, str]:
    """The Makefile's Go environment: caches under .cache/go, the machine's own toolchain."""
    env = dict(os.environ, GOPATH=str(GO_DIR / "path"), GOMODCACHE=str(GO_DIR / "mod"),
               GOCACHE=str(GO_DIR / "build"), GOTOOLCHAIN="local", GOFLAGS="-modcacherw")
    import tensorflow as tf
    tf_dir = pathlib.Path(tf.__file__).parent
    env.update(CGO_ENABLED="1", CGO_CFLAGS=f"-O2 -I{tf_dir / 'include'}",
               CGO_LDFLAGS=f"{tf_dir / 'libtensorflow_cc.so.2'} "
                           f"{tf_dir / 'libtensorflow_framework.so.2'} -Wl,-rpath,{tf_dir}")
    return env


def _run(command, cwd, env, what: str, stdin: bytes = None) -> bytes:
    done = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise NativeBuildError(f"{what} failed (exit {done.returncode}): "
                               f"{done.stderr.decode(errors='replace')[-3000:]}")
    return done.stdout


def _file_descriptors():
    """Every FileDescriptorProto the generated files need, dependencies before dependants."""
    from google.protobuf import descriptor_pb2, descriptor_pool
    from tensorflow_serving.apis import predict_pb2  # noqa: F401  registers the files

    pool = descriptor_pool.Default()
    ordered, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        descriptor = pool.FindFileByName(name)
        for dependency in descriptor.dependencies:
            visit(dependency.name)
        proto = descriptor_pb2.FileDescriptorProto()
        descriptor.CopyToProto(proto)
        ordered.append(proto)
    for name in GENERATED:
        visit(name)
    return ordered


def generate(work: pathlib.Path, plugin: pathlib.Path, env) -> None:
    """Run protoc-gen-go on the descriptors (a CodeGeneratorRequest, as protoc would send it)."""
    from google.protobuf.compiler import plugin_pb2

    request = plugin_pb2.CodeGeneratorRequest()
    request.file_to_generate.extend(GENERATED)
    # "import path;package name": one package name for every file of a Go package
    mappings = {**{name: f"{GO_MODULE}/{package};{package.rsplit('/', 1)[-1]}"
                   for name, package in GENERATED.items()}, **WELL_KNOWN}
    request.parameter = ",".join([f"module={GO_MODULE}"] +
                                 [f"M{name}={path}" for name, path in mappings.items()])
    request.proto_file.extend(_file_descriptors())
    response = plugin_pb2.CodeGeneratorResponse()
    response.ParseFromString(_run([str(plugin)], work, env, "protoc-gen-go",
                                  request.SerializeToString()))
    if response.error:
        raise NativeBuildError(f"protoc-gen-go: {response.error}")
    for generated in response.file:
        target = work / generated.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(generated.content)


def library() -> pathlib.Path:
    """The shared library, built once per source and TensorFlow version."""
    import tensorflow as tf

    digest = hashlib.sha256(tf.__version__.encode())
    for path in _sources():
        digest.update(path.name.encode() + path.read_bytes())
    out = TOOLS_CACHE / "native_frontend" / digest.hexdigest()[:16] / LIBRARY_NAME
    if out.exists():
        return out
    for tool, package in (("go", "Go 1.26 (https://go.dev/doc/install; Debian: golang)"),
                          ("gcc", "gcc (Debian: apt-get install gcc)")):
        if shutil.which(tool) is None:
            raise NativeBuildError(f"{tool} is not installed: the native gRPC front end needs "
                                   f"{package}")
    work = out.parent / "src"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for path in _sources():
        if path.suffix != ".py":
            shutil.copy(path, work / path.name)
    env = go_env()
    plugin = work / "protoc-gen-go"
    _run(["go", "build", "-o", str(plugin), "google.golang.org/protobuf/cmd/protoc-gen-go"],
         work, env, "building protoc-gen-go")
    generate(work, plugin, env)
    partial = out.with_suffix(".partial")
    _run(["go", "build", "-buildmode=c-shared", "-o", str(partial), "."], work, env,
         "building the native front end")
    partial.rename(out)
    return out


if __name__ == "__main__":
    print(library())
