# host-recovery: `make demo` runs the main job, `make test` the whole suite (both install
# what they need: Debian packages, our virtualenv, Mistral's virtualenv with our action pack).

PYTHON ?= python3
VENV ?= .venv
MISTRAL_VENV ?= .venv-mistral
PIP_FLAGS = -q --disable-pip-version-check
# pip's exit status survives the filter of its location warnings (pipefail)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PIP_QUIET = { grep -v "^WARNING: Location" || true; }
export PIP_DISABLE_PIP_VERSION_CHECK = 1
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: all deps system-deps venv mistral-venv lint typecheck unit pytest test demo bench \
	sample-config clean soak soak-fuzz

all: test

deps: system-deps venv mistral-venv

system-deps:
	@sh tools/install-system-deps.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt test-requirements.txt setup.cfg workflows/actions/setup.cfg \
		devtools/setup.cfg devtools/requirements.txt upper-constraints.txt
	@echo "building $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements.txt -r devtools/requirements.txt \
		-r test-requirements.txt -c upper-constraints.txt 2>&1 \
		| $(PIP_QUIET)
	@$(VENV)/bin/pip install $(PIP_FLAGS) --no-deps -e . -e workflows/actions -e devtools 2>&1 \
		| $(PIP_QUIET)
	@$(VENV)/bin/python -c "import listener, notifications, agents, simulator, workflows, harness, bench"
	@touch $@

# Mistral runs from its own virtualenv, as in production, with only our action pack added.
mistral-venv: $(MISTRAL_VENV)/.installed
$(MISTRAL_VENV)/.installed: workflows/actions/setup.cfg workflows/actions/requirements.txt \
		workflows/actions/mistral-constraints.txt
	@echo "building $(MISTRAL_VENV)"
	@test -x $(MISTRAL_VENV)/bin/python || $(PYTHON) -m venv $(MISTRAL_VENV)
	@$(MISTRAL_VENV)/bin/pip install $(PIP_FLAGS) mistral==23.0.0 python-mistralclient \
		psycopg2-binary -r workflows/actions/requirements.txt \
		-c workflows/actions/mistral-constraints.txt 2>&1 | $(PIP_QUIET)
	@$(MISTRAL_VENV)/bin/pip install $(PIP_FLAGS) --no-deps -e workflows/actions 2>&1 \
		| $(PIP_QUIET)
	@$(MISTRAL_VENV)/bin/python -c "import mistral, host_recovery_actions"
	@rm -f $(MISTRAL_VENV)/host-recovery-template.sqlite
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy
	cd workflows/actions && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml \
		--explicit-package-bases \
		host_recovery_actions

pytest: deps
	@$(VENV)/bin/python -m harness.detached  # a Pacemaker left by `up --detach`?
	$(VENV)/bin/pytest -p no:cacheprovider -q -rfEs --durations=12 tests

test: deps lint typecheck pytest

sample-config: venv
	for conf in etc/oslo-config-generator/*.conf; do \
		XDG_CACHE_HOME=$$(mktemp -d) $(VENV)/bin/oslo-config-generator --config-file $$conf \
			|| exit 1; done
	$(VENV)/bin/python tools/config_reference.py  # docs/ha-guide/config-reference.md

demo: deps
	$(VENV)/bin/host-recovery-harness demo

bench: deps
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

# fault trials on the production topology, repeated (harness.fault_suites.SUITES; SUITE=R1,R3 TRIALS=5)
SUITE ?= all
TRIALS ?= 20
# SUITE=fuzz (or all) also runs the long fuzz test (FUZZ_BODIES per topic, once per trial)
FUZZ_BODIES ?= 10000
soak: deps
	@case ",$(SUITE)," in *,fuzz,*|*,all,*) $(MAKE) --no-print-directory soak-fuzz;; esac
	@suites=$$(echo "$(SUITE)" | tr ',' '\n' | grep -vix fuzz | paste -sd, -); \
		test -z "$$suites" || $(VENV)/bin/python -m harness.soak --suite "$$suites" \
			--trials $(TRIALS)

soak-fuzz: deps
	@for n in $$(seq 1 $(TRIALS)); do HOST_RECOVERY_FUZZ_BODIES=$(FUZZ_BODIES) \
		HOST_RECOVERY_FUZZ_SEED=$$n $(VENV)/bin/pytest -p no:cacheprovider -q -s -rfEs \
		tests/functional/fuzz/test_fuzz.py::test_fuzz_soak || exit 1; done

clean:
	rm -rf $(VENV) $(MISTRAL_VENV) build *.egg-info
