# Manage2Soar. Two set-up commands work on a fresh clone with only Python 3.11+ (with its venv
# module) and make:
#   make demo   - create .venv from wheels (requirements.txt), set up the embedded SQLite
#                 database, run the demo
#   make test   - the whole test suite, then `make pods`; installs the development requirements
#                 and, as root, the system packages the tests drive (Chromium, faketime, bubblewrap)
# Requirements are locked with hashes (docs/dependencies.md): edit requirements*.in, then
# `make lock`; `make upgrade PACKAGE=name` moves one package to its newest release.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Only wheels, only the hashed pins: no compiler, no system library, nothing unlocked.
PIP_INSTALL = -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all:
hash = $(shell cksum $(1) | cut -d' ' -f1)
RUNTIME_STAMP := $(VENV)/.runtime-$(call hash,requirements.txt)
DEV_STAMP := $(VENV)/.dev-$(call hash,requirements-dev.txt)
# checkov pins its own dependencies: it lives in a virtualenv of its own.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-$(call hash,requirements-tools.txt)
# Commands the tests drive, and the Debian packages that bring them (scripts/system-packages).
TEST_SYSTEM_PACKAGES := chromium=chromium faketime=faketime bwrap=bubblewrap setpriv=util-linux \
                        nsenter=util-linux

.PHONY: demo test faults pods bench lint venv dev tools system-packages lock upgrade clean-root-demo \
        clean build push render validate deploy trigger suspend resume suspend-all resume-all logs \
        status clean-jobs \
        security-scan dashboard-screenshot

venv: $(RUNTIME_STAMP)
dev: $(DEV_STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "❌ Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { rm -rf $(VENV); \
	  echo "❌ $(PYTHON) -m venv failed: install Python's venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 2; }

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) $(PIP_INSTALL) -r requirements.txt
	rm -f $(VENV)/.runtime-* && touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PY) $(PIP_INSTALL) -r requirements-dev.txt
	rm -f $(VENV)/.dev-* && touch $@

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python $(PIP_INSTALL) -r requirements-tools.txt
	rm -f $(TOOLS)/.installed-* && touch $@

system-packages:
	@scripts/system-packages $(TEST_SYSTEM_PACKAGES)

# Recompile the locked files from requirements*.in (new or removed packages); existing pins stay.
# Hashes come from PyPI alone, whatever this machine's pip configuration adds.
LOCK = PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(VENV)/bin/pip-compile --quiet --generate-hashes \
       --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: dev
	$(LOCK) --output-file requirements.txt requirements.in
	$(LOCK) --output-file requirements-dev.txt requirements-dev.in
	$(LOCK) --output-file requirements-tools.txt requirements-tools.in

# make upgrade PACKAGE=django: the newest release that the .in files allow, in every locked file.
upgrade:
	@test -n "$(PACKAGE)" || (echo "usage: make upgrade PACKAGE=name" >&2; exit 2)
	$(MAKE) lock LOCK_ARGS="--upgrade-package $(PACKAGE)"

# CI's proof that `make demo` needs nothing but Python, its venv module and make: a minimal
# Debian 12 root, a fresh clone of HEAD in it, `make demo` as an ordinary user (scripts/clean-root-demo).
clean-root-demo:
	@scripts/system-packages debootstrap=debootstrap bwrap=bubblewrap
	scripts/clean-root-demo

# The demo runs on the embedded SQLite database in var/ with DEBUG on (no secrets needed):
# it builds the demo club with a month of the jobs' runs and a staff login (docs/demo-club.md),
# runs every scheduled job as a dry run, shows the local scheduler (docs/scheduling.md): the
# next runs, one job run through it, a few seconds of scheduling that end as a SIGTERM would;
# and ends on cron_status and the command that opens the dashboard (docs/monitoring.md).
JOBS := notify_aging_logsheets send_duty_preop_emails expire_ad_hoc_days notify_late_sprs \
        send_maintenance_digest report_duty_delinquents notify_pilot_currency send_deferred_notices \
        aggregate_cron_analytics
demo: export DEBUG = 1
demo: venv
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py seed_demo --reset --history 30
	@for job in $(JOBS); do echo; $(PY) manage.py $$job --dry-run || exit $$?; done
	@echo
	$(PY) manage.py test_cronjob --units 3
	@echo
	$(PY) manage.py cron_schedule --next 2 --job send_duty_preop_emails --job notify_late_sprs
	@echo
	$(PY) manage.py run_scheduler --once test_cronjob -- --units 2
	@echo
	$(PY) manage.py run_scheduler --for 3s
	@echo
	$(PY) manage.py cron_status
	@echo
	@echo "The dashboard: DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000, then open http://127.0.0.1:8000/cron/ and log in as demo-ops / demo-ops-password (demo only)"

# The whole suite on SQLite, then again on PostgreSQL (127.0.0.1:5432, or TEST_POSTGRES_URL).
# PostgreSQL tests skip with the reason when it is unreachable; REQUIRE_POSTGRES=1 fails instead.
test: dev tools system-packages
	$(PY) -m pytest -m "not faults"
	TEST_DB=postgres $(PY) -m pytest -m "not processes"
	$(MAKE) faults
	$(MAKE) pods

# Benchmarks on PostgreSQL (127.0.0.1:5432): writes docs/benchmarks.md and its chart.
bench: dev
	$(PY) -m benchmarks

# Fault injection on real processes and real databases (PostgreSQL, SQLite, MariaDB).
faults: dev system-packages
	$(PY) -m pytest -m faults

# Every workload of the manifests run as its pod would (docs/deployment.md#what-make-pods-checks):
# the image built from the Dockerfile, each pod under bubblewrap as user 10001 on a read-only
# root, against a fresh PostgreSQL database and a loopback SMTP server. Needs root; writes
# build/pods/ (the image's cached stages, and summary.md: each pod's time and peak memory).
pods: dev system-packages
	$(PY) -m pytest -m pods deploy/tests/test_pods.py
	@cat build/pods/summary.md

lint: dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(PY) -m mypy
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) $(TOOLS) var staticfiles .pytest_cache .ruff_cache .mypy_cache build/test-artifacts build/pods

# docs/images/dashboard.png: the headless-Chromium test's screenshot of the dashboard (the demo
# club after a month: seed_demo --history 30), copied from the test's artifacts directory.
dashboard-screenshot: dev system-packages
	rm -rf build/test-artifacts && mkdir -p build
	$(PY) -m pytest -q operations/tests/test_dashboard.py -k chromium --basetemp=build/test-artifacts
	mkdir -p docs/images
	cp "$$(find build/test-artifacts -name dashboard.png | head -n 1)" docs/images/dashboard.png

# --- Operator toolbox: thin wrappers around docker and kubectl (see docs/deployment.md) ---
IMAGE ?= manage2soar
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
NAMESPACE ?= manage2soar
KUBECTL ?= kubectl
K := $(KUBECTL) --namespace $(NAMESPACE)
CRONJOB = $(subst _,-,$(JOB))
OVERLAY := build/overlay

build:  ## build the image IMAGE:TAG
	docker build --tag $(IMAGE):$(TAG) .

push:  ## push IMAGE:TAG to its registry
	docker push $(IMAGE):$(TAG)

render: export DEBUG = 1
render: venv  ## write the generated manifests (CronJobs, migration Job, web, monitoring) from the registry and k8s/configmap.yaml
	$(PY) manage.py render_cronjobs

validate: export DEBUG = 1
validate: dev  ## check the rendered files are current and every manifest is strictly valid
	$(PY) manage.py render_cronjobs --check
	$(PY) manage.py validate_manifests

# The migration runs first, alone with what it needs (namespace, account, ConfigMap, network
# policies); the new web pods and CronJobs are applied only once it completed: a job meeting an
# unmigrated table would exit 2, which its failure policy takes as final.
FIRST := app.kubernetes.io/component notin (web,cronjob)
deploy:  ## apply k8s/ with IMAGE:TAG: the migration Job first, then the web Deployment and the CronJobs
	rm -rf $(OVERLAY) && mkdir -p $(OVERLAY)
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../k8s\nimages:\n  - name: manage2soar\n    newName: $(IMAGE)\n    newTag: "$(TAG)"\n' > $(OVERLAY)/kustomization.yaml
	$(K) delete job manage2soar-migrate --ignore-not-found
	$(KUBECTL) apply --kustomize $(OVERLAY) --selector '$(FIRST)'
	scripts/wait-for-job manage2soar-migrate 600 $(K)
	$(KUBECTL) apply --kustomize $(OVERLAY)
	$(K) rollout status deployment/manage2soar-web --timeout=300s

trigger:  ## run JOB now: kubectl create job --from=cronjob/JOB
	@test -n "$(JOB)" || (echo "usage: make trigger JOB=notify-late-sprs" >&2; exit 2)
	$(K) create job --from=cronjob/$(CRONJOB) $(CRONJOB)-manual-$$(date +%s)

suspend:  ## stop scheduling JOB (runs in progress finish)
	@test -n "$(JOB)" || (echo "usage: make suspend JOB=notify-late-sprs" >&2; exit 2)
	$(K) patch cronjob $(CRONJOB) --type=merge --patch '{"spec":{"suspend":true}}'

resume:  ## schedule JOB again
	@test -n "$(JOB)" || (echo "usage: make resume JOB=notify-late-sprs" >&2; exit 2)
	$(K) patch cronjob $(CRONJOB) --type=merge --patch '{"spec":{"suspend":false}}'

# Every CronJob at once (a restore, a maintenance window). `make deploy` resumes them all.
CRONJOBS_OF_THE_CLUB = $(K) get cronjobs --selector app.kubernetes.io/part-of=manage2soar --output name
suspend-all:  ## stop scheduling every CronJob (runs in progress finish)
	$(CRONJOBS_OF_THE_CLUB) | xargs -r -I{} $(K) patch {} --type=merge --patch '{"spec":{"suspend":true}}'

resume-all:  ## schedule every CronJob again
	$(CRONJOBS_OF_THE_CLUB) | xargs -r -I{} $(K) patch {} --type=merge --patch '{"spec":{"suspend":false}}'

logs:  ## logs of JOB's latest run
	@test -n "$(JOB)" || (echo "usage: make logs JOB=notify-late-sprs" >&2; exit 2)
	$(K) logs --tail=500 $$($(K) get jobs --selector manage2soar.org/job=$(CRONJOB) --sort-by=.metadata.creationTimestamp --output name | tail -n 1)

status:  ## CronJobs and recent Jobs, then the run history as the app sees it
	$(K) get cronjobs,jobs --selector app.kubernetes.io/part-of=manage2soar
	$(K) exec deployment/manage2soar-web -- python manage.py cron_status

clean-jobs:  ## delete the succeeded Jobs of the CronJobs (failed ones stay, for their logs)
	$(K) delete jobs --selector app.kubernetes.io/component=cronjob --field-selector status.successful=1

security-scan: export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
security-scan: dev tools  ## checkov on k8s/, k8s-cronjobs.yaml and the Dockerfile (0 failed checks)
	$(TOOLS)/bin/checkov --config-file .checkov.yaml --directory k8s
	$(TOOLS)/bin/checkov --config-file .checkov.yaml --file k8s-cronjobs.yaml --file Dockerfile
