"""Packaging for the TFX production pipeline.

The runtime stack (TFX 1.16, TensorFlow 2.16, ...) is pinned in requirements/constraints.txt and
installed by `make setup`; install_requires only names what the project imports directly so that
`pip install -e .` never re-resolves the stack.
"""
from setuptools import find_packages, setup

setup(
    name="tfx-production-pipeline",
    version="0.1.0",
    description="Standard TFX components, documented models, TFMA validation and TF Serving canaries",
    python_requires=">=3.10,<3.12",
    packages=find_packages(
        include=["pipelines*", "components*", "models*", "data*", "serving*", "kubeflow*"],
        exclude=["*_test", "tests*"],
    ),
    package_data={"data": ["schemas/*.pbtxt", "samples/**/*"], "serving": ["templates/*"]},
    include_package_data=True,
    entry_points={"console_scripts": ["tfxp=pipelines.cli:main"]},
)
