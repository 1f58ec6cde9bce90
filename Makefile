# premiums: `make run` to see it work, `make test` to prove it.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test test-unit test-integration test-e2e faults bench lint format contracts bootstrap stack-up stack-down clean

bootstrap: $(VENV)/.bootstrapped

$(VENV)/.bootstrapped: uv.lock deploy/kafka/pom.xml deploy/local/bootstrap.sh
	deploy/local/bootstrap.sh
	touch $@

run: bootstrap  ## start Kafka, PostgreSQL, the SMTP sink and the four services; play the demo; Ctrl-C stops all
	deploy/local/run.sh

test: bootstrap  ## every tier (unit, contract, integration, end-to-end) against the real broker, database and SMTP
	$(BIN)/python -m pytest tests -q -ra -p no:cacheprovider

test-unit: bootstrap
	$(BIN)/python -m pytest tests/unit tests/contract -q

test-integration: bootstrap
	$(BIN)/python -m pytest tests/integration -q

test-e2e: bootstrap
	$(BIN)/python -m pytest tests/e2e -q

faults: bootstrap  ## the long fault run: 400 members pay through a kill -9, 200 through each other fault (SIGTERM, Kafka, PostgreSQL, SMTP, rebalance), then the audit
	PREMIUMS_FAULT_MEMBERS=400 $(BIN)/python -m pytest tests/faults -q -s

bench: bootstrap  ## measure the system: make bench [BENCH_ARGS="--quick"] (default: 1,000 members, a 10,000-member month, ~10 min)
	$(BIN)/premiums stack up
	$(BIN)/premiums bench $${BENCH_ARGS:---members 1000 --month-members 10000}

lint: bootstrap  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contracts/premiums_contracts services cli

format: bootstrap
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

contracts: bootstrap  ## regenerate the JSON Schemas and the AsyncAPI document from the models
	$(BIN)/python -m premiums_contracts generate

stack-up: bootstrap
	$(BIN)/premiums stack up

stack-down:
	$(BIN)/premiums stack down

clean: stack-down
	rm -rf .local
