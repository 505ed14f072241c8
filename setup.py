"""Packaging for the TFX production pipeline.

The runtime stack (TFX 1.16, TensorFlow 2.16, ...) is pinned in requirements/constraints.txt and
installed by `make setup`; install_requires only names what the project imports directly so that
`pip install -e .` never re-resolves the stack.
"""
from setuptools import find_namespace_packages, setup

setup(
    name="tfx-production-pipeline",
    version="0.1.0",
    description="Standard TFX components, documented models, TFMA validation and TF Serving canaries",
    python_requires=">=3.10,<3.12",
    # Namespace discovery: the folders of data files (data/schemas, data/samples/<model>/<split>,
    # serving/rollout/k8s) are packages of their own, which is what setuptools expects of package data.
    packages=find_namespace_packages(
        include=["pipelines*", "components*", "models*", "data*", "serving*", "kubeflow*"],
        # Generated trees (pushed models, prepared data, compiled specs) are never packaged.
        exclude=["*_test", "tests*", "*__pycache__*", "serving.models*", "serving.generated*",
                 "data.prepared*", "data.downloads*", "kubeflow.specs*"],
    ),
    package_data={"": ["*.pbtxt", "*.csv", "*.tfrecord.gz", "*.yaml"]},
    include_package_data=True,
    entry_points={"console_scripts": ["tfxp=pipelines.cli:main"]},
)
