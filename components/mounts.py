"""Where a remote artifact URI is read and written inside a Kubeflow task's container.

The KFP SDK's own executor and the open-source launcher (launcher_v2.go: downloads inputs to, and
uploads outputs from, these folders) agree on one mapping of URI schemes to local mount points;
Vertex AI mounts Cloud Storage at /gcs/ with Cloud Storage FUSE. This is the project's one copy
of that mapping.
"""
from typing import Optional

LAUNCHER_MOUNTS = (("gs://", "/gcs/"), ("minio://", "/minio/"), ("s3://", "/s3/"))


def local_path(uri: str) -> str:
    """`gs://b/x` -> `/gcs/b/x` (likewise minio://, s3://); anything else is returned unchanged."""
    for scheme, mount in LAUNCHER_MOUNTS:
        if uri.startswith(scheme):
            return mount + uri[len(scheme):]
    return uri


def remote_uri(path: str, like: Optional[str] = None) -> str:
    """The inverse of `local_path` for a path under a mount point. With `like` (the URI the path
    came from), only a path that came from a remote URI is mapped back."""
    if like is not None and local_path(like) == like:
        return path
    for scheme, mount in LAUNCHER_MOUNTS:
        if path.startswith(mount):
            return scheme + path[len(mount):]
    return path
