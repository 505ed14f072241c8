"""Shared fixtures: every test process uses the legacy Keras the pipeline runs with."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
