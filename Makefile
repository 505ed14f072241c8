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

DEBIAN_PACKAGES := dataset-fashion-mnist chromium nginx prometheus

.PHONY: setup env system-packages data run test test-slow test-faults test-runners bench serve clean image test-image test-byod test-push-gates native \
	cluster-tools cluster-system-packages cluster test-cluster bench-cluster spark-tools spark-cluster \
	test-cluster-spark

setup: env system-packages data

# Fashion-MNIST ships as a Debian package; headless Chromium renders the HTML reports in tests;
# nginx is the local canary router (`make serve`); prometheus scrapes `tfxp serve` in a test of
# TF Serving's metric names. DEBCONF_NOWARNINGS keeps debconf's "delaying
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

test: setup native
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

# The census sample on the BeamDagRunner and with `--tune` (the Tuner), which `make test` skips.
test-runners: setup
	$(PY) -m pytest -m runners

# The Kubeflow component image, built here with buildah on a debootstrap base (kubeflow/image.py);
# the base, pip's downloads and buildah's layers are cached, so a rebuild redoes what changed.
CONTAINER_PACKAGES := buildah podman runc debootstrap

image: env
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(CONTAINER_PACKAGES)"
	$(TFXP) kubeflow image build

# The census sample through `run-local --container podman`, and a broken image refused at build.
test-image: image
	$(PY) -m pytest -m image

# Bring your own data end to end on scikit-learn's wine, breast cancer and diabetes CSVs, and a
# generated package for every kind of column passing its own tests (wine alone is in
# `make test`; the rest is marked slow).
test-byod: env
	$(PY) -m pytest -m "e2e or slow" tests/e2e/test_byod_pipeline.py tests/e2e/test_byod_generated_package.py

bench: setup native
	$(PY) -m bench

# The native gRPC front end (`tfxp serve --grpc_frontend=native`): Go over TensorFlow's C API,
# built against the venv's TensorFlow into .cache/native_frontend (Go caches in .cache/go).
native: env
	@command -v go >/dev/null || { echo "go is not installed: the native gRPC front end needs Go (go1.26)"; exit 1; }
	@$(PY) -m serving.server.native.build

# nginx on 8500/8501 in front of a stable and a canary serving group (`tfxp router`);
# `tfxp serve` alone still runs one server without a router. `make serve SSL_CONFIG=ssl.config`
# terminates TLS on both ports with TF Serving's SSLConfig (mutual TLS with client_verify).
serve: env system-packages
	$(TFXP) router $(if $(SSL_CONFIG),--ssl-config-file=$(SSL_CONFIG))

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

cluster-tools: $(FLINK_STAMP) $(JOB_SERVER_STAMP) spark-tools

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

# The Spark cluster of `--runner spark` (docs/cluster.md "Spark"): pyspark from PyPI (--no-deps,
# its own venv) for the master, worker and history server JVMs and as the job server's Spark;
# Beam's Spark 3 runner with its runtime jars from Maven Central (Spark itself is "provided").
# slf4j-api 1.7 is left out: Spark's log4j2 binding needs its slf4j-api 2.
SPARK_VERSION := $(shell sed -n 's/^SPARK_VERSION = "\(.*\)"/\1/p' pipelines/cluster/spark.py)
SPARK_VENV := .cache/spark/venv
SPARK_STAMP := $(SPARK_VENV)/.spark-$(SPARK_VERSION)
SPARK_JOB_SERVER_POM := requirements/spark-job-server/pom.xml
SPARK_JOB_SERVER_DIR := .cache/jars/beam-runners-spark-3-job-server
SPARK_JOB_SERVER_STAMP := $(SPARK_JOB_SERVER_DIR)/.installed

spark-tools: $(SPARK_STAMP) $(SPARK_JOB_SERVER_STAMP)

$(SPARK_STAMP): | cluster-system-packages
	@test -x $(SPARK_VENV)/bin/pip || $(PYTHON) -m venv $(SPARK_VENV)
	@echo "Installing pyspark $(SPARK_VERSION) (--no-deps) into $(SPARK_VENV)"
	@$(SPARK_VENV)/bin/pip install -q --disable-pip-version-check --no-deps \
		pyspark==$(SPARK_VERSION) $(PIP_QUIET)
	@touch $@

$(SPARK_JOB_SERVER_STAMP): $(SPARK_JOB_SERVER_POM) | cluster-system-packages
	@echo "Copying Beam's Spark runner jars ($(SPARK_JOB_SERVER_POM)) into $(SPARK_JOB_SERVER_DIR)"
	@rm -rf $(SPARK_JOB_SERVER_DIR)/lib
	@mvn -q -B -Dmaven.repo.local=$(CURDIR)/.cache/m2 -f $(SPARK_JOB_SERVER_POM) \
		dependency:copy-dependencies -DincludeScope=runtime -DexcludeArtifactIds=slf4j-api \
		-DoutputDirectory=$(CURDIR)/$(SPARK_JOB_SERVER_DIR)/lib
	@touch $@

# Starts (idempotently) the local Flink cluster; `tfxp cluster down` stops it.
cluster: env cluster-tools
	$(TFXP) cluster up

# Starts (idempotently) the local Spark cluster; `tfxp cluster down --engine spark` stops it.
spark-cluster: env spark-tools
	$(TFXP) cluster up --engine spark

# The census sample on Flink with proof from its REST API, the TaskManager fault, the two-worker
# Trainer, then the census sample on Spark (test_spark_census.py). Each starts its own cluster in a
# temporary folder and stops it.
test-cluster: setup cluster-tools
	$(PY) -m pytest -m cluster

# The census sample on Spark only, with proof from the master's JSON API and the history server.
test-cluster-spark: setup spark-tools
	$(PY) -m pytest -m cluster -k spark

# Census 1x and 10x on the Flink cluster vs the DirectRunner (about an hour on 2 cores).
bench-cluster: setup cluster-tools
	$(PY) -m bench --only cluster

clean:
	rm -rf tfx_root serving/models serving/generated reports bench/results

# Go tools built from kubeflow/oss (issue 21): the real kustomize and manifestcheck (the Kubernetes
# API and Gateway API Go types, strict decoding). Module/build caches and binaries stay under
# .cache/go (git-ignored); the stamp rebuilds only when the Go module changes. The machine's Go.
GO_DIR := $(CURDIR)/.cache/go
GO_ENV := GOPATH=$(GO_DIR)/path GOMODCACHE=$(GO_DIR)/mod GOCACHE=$(GO_DIR)/build \
	GOTOOLCHAIN=local GOFLAGS=-modcacherw
GO_STAMP := $(GO_DIR)/bin/.built
GO_SOURCES := kubeflow/oss/go.mod kubeflow/oss/go.sum $(shell find kubeflow/oss -name '*.go' 2>/dev/null)

.PHONY: go-tools check-k8s
go-tools: $(GO_STAMP)

$(GO_STAMP): $(GO_SOURCES)
	@command -v go >/dev/null || { echo "go is not installed: the Kubernetes checks need Go (go1.26)"; exit 1; }
	@mkdir -p $(GO_DIR)/bin
	cd kubeflow/oss && $(GO_ENV) go build -o $(GO_DIR)/bin/ ./cmd/manifestcheck sigs.k8s.io/kustomize/kustomize/v5
	@touch $@

# `kustomize build` of serving/rollout/k8s and every overlay, each object decoded strictly.
check-k8s: env go-tools
	$(PY) -m kubeflow.manifests_check
