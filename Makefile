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

DEBIAN_PACKAGES := dataset-fashion-mnist chromium nginx

.PHONY: setup env system-packages data run test test-slow test-faults test-push-gates bench serve clean

setup: env system-packages data

# Fashion-MNIST ships as a Debian package; headless Chromium renders the HTML reports in tests;
# nginx is the local canary router (`make serve`). DEBCONF_NOWARNINGS keeps debconf's "delaying
# package configuration, since apt-utils is not installed" off the terminal.
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "Missing Debian packages:$$missing. Install them (apt-get install$$missing) or see README 'Datasets'."; exit 1; \
		fi; \
	fi

env: $(STAMP)

# pip repeats one warning per package for every find-links/index folder of the machine's pip
# configuration that lacks it; everything else pip says still reaches the terminal.
PIP_QUIET := 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

# Re-installs only when the lock or the packaging changes; the venv is created when missing.
$(STAMP): $(CONSTRAINTS) setup.py requirements/extras.txt
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing the pinned stack ($(CONSTRAINTS)) and this project into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check "pip==$$(sed -n 's/^pip==//p' $(CONSTRAINTS))" $(PIP_QUIET)
	@$(PY) -m pip install -q --ignore-requires-python -c $(CONSTRAINTS) \
		tfx==1.16.0 ml-pipelines-sdk==1.16.0 kfp==2.13.0 kfp-pipeline-spec==0.6.0 -r requirements/extras.txt $(PIP_QUIET)
	@PYTHONWARNINGS="ignore:Editable installation" \
		$(PY) -m pip install -q --ignore-requires-python --no-deps --no-build-isolation -e . $(PIP_QUIET)
	@$(PY) -m pip check
	@touch $(STAMP)

data: env
	$(TFXP) data prepare

# Trains every documented model (the census pipeline first), then writes reports/index.html.
# The exit code is the run's: 0 all pushed, 3 a model was not blessed, 2 data gate, 1 failure,
# 4 another run holds a pipeline root (--no-wait), 130/143 stopped by SIGINT/SIGTERM.
run: setup
	@status=0; $(TFXP) run --model all || status=$$?; $(TFXP) report && exit $$status

test: setup
	$(PY) -m pytest

test-slow: setup
	$(PY) -m pytest -m "slow or faults"

# Golden holdout and latency gate end to end (4 census sample runs) and the gate against real
# servers with a deliberately slow candidate; marked slow (also in test-slow).
test-push-gates: setup
	$(PY) -m pytest -m slow tests/e2e/test_census_push_gates.py components/latency_gate_test.py

# kill -9, SIGINT/SIGTERM, concurrent runs, a read-only destination, broken ML Metadata.
test-faults: setup
	$(PY) -m pytest -m faults

bench: setup
	$(PY) -m bench

# nginx on 8500/8501 in front of a stable and a canary serving group (`tfxp router`);
# `tfxp serve` alone still runs one server without a router.
serve: env system-packages
	$(TFXP) router

clean:
	rm -rf tfx_root serving/models serving/generated reports bench/results
