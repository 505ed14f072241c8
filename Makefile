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

.PHONY: setup env system-packages data run test test-slow test-faults bench serve clean \
	cluster-tools cluster-system-packages cluster test-cluster

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

# kill -9, SIGINT/SIGTERM, concurrent runs, a read-only destination, broken ML Metadata.
test-faults: setup
	$(PY) -m pytest -m faults

bench: setup
	$(PY) -m bench

# nginx on 8500/8501 in front of a stable and a canary serving group (`tfxp router`);
# `tfxp serve` alone still runs one server without a router.
serve: env system-packages
	$(TFXP) router

# The Flink cluster of `--runner flink` (README "Scale-out on Flink"): Java 17 and Maven from
# Debian; Flink 1.19.3 from PyPI into its own venv (apache-flink pins an old Beam, so never the
# TFX venv); Beam's Flink job server as a folder of jars from Maven Central. All cached in .cache/.
FLINK_VERSION := 1.19.3
CLUSTER_DEBIAN_PACKAGES := openjdk-17-jre-headless maven
FLINK_VENV := .cache/flink/venv
FLINK_STAMP := $(FLINK_VENV)/.flink-$(FLINK_VERSION)
JOB_SERVER_POM := requirements/flink-job-server/pom.xml
JOB_SERVER_DIR := .cache/jars/beam-runners-flink-1.19-job-server
JOB_SERVER_STAMP := $(JOB_SERVER_DIR)/.installed

cluster-tools: $(FLINK_STAMP) $(JOB_SERVER_STAMP)

cluster-system-packages:
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(CLUSTER_DEBIAN_PACKAGES)"

$(FLINK_STAMP): | cluster-system-packages
	@test -x $(FLINK_VENV)/bin/pip || $(PYTHON) -m venv $(FLINK_VENV)
	@echo "Installing apache-flink $(FLINK_VERSION) (--no-deps) into $(FLINK_VENV)"
	@$(FLINK_VENV)/bin/pip install -q --disable-pip-version-check --no-deps \
		apache-flink==$(FLINK_VERSION) apache-flink-libraries==$(FLINK_VERSION) $(PIP_QUIET)
	@touch $@

$(JOB_SERVER_STAMP): $(JOB_SERVER_POM) | cluster-system-packages
	@echo "Copying Beam's Flink job server jars ($(JOB_SERVER_POM)) into $(JOB_SERVER_DIR)"
	@rm -rf $(JOB_SERVER_DIR)/lib
	@mvn -q -B -Dmaven.repo.local=$(CURDIR)/.cache/m2 -f $(JOB_SERVER_POM) \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JOB_SERVER_DIR)/lib
	@touch $@

# Starts (idempotently) the local Flink cluster; `tfxp cluster down` stops it.
cluster: env cluster-tools
	$(TFXP) cluster up

# The census sample on Flink with proof from its REST API, the TaskManager fault, the two-worker
# Trainer. Starts its own cluster in a temporary folder and stops it.
test-cluster: setup cluster-tools
	$(PY) -m pytest -m cluster

clean:
	rm -rf tfx_root serving/models serving/generated reports bench/results
