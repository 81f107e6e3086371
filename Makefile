# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
TEST_RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/%2F

.PHONY: demo test test-sqlite test-services test-examples lint install clean

EXAMPLE_GATEWAY := examples/bolletta-gateway-example
EXAMPLE_CHANNEL := examples/bolletta-channel-relay

$(STAMP): pyproject.toml $(EXAMPLE_GATEWAY)/pyproject.toml $(EXAMPLE_CHANNEL)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -e $(EXAMPLE_GATEWAY)
	$(BIN)/python -m pip install --quiet -e $(EXAMPLE_CHANNEL)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bolletta demo $(DEMO_ARGS)

# First pass: SQLite files and the in-memory broker. Second pass: the tests marked `services`,
# on PostgreSQL and Redis (skipped with a message when they are unreachable, unless CI=true).
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-examples
	$(MAKE) --no-print-directory test-services

# The example plugin packages, installed by `make install`, each run the platform's conformance kit.
test-examples: $(STAMP)
	$(BIN)/python -m pytest $(EXAMPLE_CHANNEL)/tests $(PYTEST_ARGS)
	cd $(EXAMPLE_GATEWAY) && $(abspath $(BIN))/python -m pytest -q -p no:cacheprovider

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -m "not services" $(PYTEST_ARGS)

SERVICES_ENV = BOLLETTA_TEST_PASS=services \
	BOLLETTA_TEST_DATABASE_URL=$${BOLLETTA_TEST_DATABASE_URL:-$(TEST_DATABASE_URL)} \
	BOLLETTA_TEST_BROKER_URL=$${BOLLETTA_TEST_BROKER_URL:-$(TEST_BROKER_URL)} \
	BOLLETTA_TEST_RABBITMQ_URL=$${BOLLETTA_TEST_RABBITMQ_URL:-$(TEST_RABBITMQ_URL)}

test-services: $(STAMP)
	$(SERVICES_ENV) $(BIN)/python -m pytest -m services tests/services $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bolletta tests examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
