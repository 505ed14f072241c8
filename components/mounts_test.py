"""The launcher's mount points: remote URIs to local paths and back; local paths untouched."""
from components import mounts


def test_each_scheme_maps_to_its_mount_and_back():
    for uri, path in [("gs://b/x/y", "/gcs/b/x/y"), ("minio://mlpipeline/v2/a", "/minio/mlpipeline/v2/a"),
                      ("s3://b/k", "/s3/b/k")]:
        assert mounts.local_path(uri) == path
        assert mounts.remote_uri(path) == uri
        assert mounts.remote_uri(path, like=uri) == uri


def test_local_paths_stay_local():
    assert mounts.local_path("models/census/1") == "models/census/1"
    assert mounts.remote_uri("models/census/1") == "models/census/1"
    assert mounts.remote_uri("/gcs/b/x", like="/gcs/b/x") == "/gcs/b/x", "a path that was local"
