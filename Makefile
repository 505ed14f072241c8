# Entry points: `make run` (set up if needed, prepare data, run the main pipeline) and
# `make test` (same set-up, then the default test suite). See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
TFXP := $(VENV)/bin/tfxp
STAMP := $(VENV)/.tfxp-installed
CONSTRAINTS := requirements/constraints.txt

export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup env data run test test-slow bench serve clean

setup: env data

env: $(STAMP)

# Re-installs only when the lock or the packaging changes; the venv is created when missing.
$(STAMP): $(CONSTRAINTS) setup.py requirements/extras.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "pip==$$(sed -n 's/^pip==//p' $(CONSTRAINTS))"
	$(PY) -m pip install -q --ignore-requires-python -c $(CONSTRAINTS) \
		tfx==1.16.0 ml-pipelines-sdk==1.16.0 kfp==2.13.0 kfp-pipeline-spec==0.6.0 -r requirements/extras.txt
	$(PY) -m pip install -q --ignore-requires-python --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $(STAMP)

data: env
	$(TFXP) data prepare

run: setup
	$(TFXP) run --model census

test: setup
	$(PY) -m pytest

test-slow: setup
	$(PY) -m pytest -m slow

bench: setup
	$(PY) -m bench

serve: env
	$(TFXP) serve

clean:
	rm -rf tfx_root serving/models serving/generated reports bench/results
