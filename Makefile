# Maatje: `make run` starts the bot, `make test` runs the whole suite (SQLite and PostgreSQL).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format catalogues compile install postgres bench image-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[slack,discord,teams,postgres,dev]'
	touch $(STAMP)

install: $(STAMP)

compile: install
	$(BIN)/pybabel compile --domain maatje --directory locales --statistics

run: compile
	$(BIN)/maatje db upgrade
	$(BIN)/maatje run

# The suite starts its own PostgreSQL from the server binaries; install them when missing.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { echo "installing PostgreSQL server binaries"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The suite runs in TEST_WORKERS processes (pytest-xdist); each starts its own PostgreSQL.
TEST_WORKERS ?= 3

test: compile postgres
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (bench/): each prints its figures and the machine; see docs/performance.md.
bench: compile postgres
	$(BIN)/python -c "from bench.common import print_machine; print_machine('matching')"
	$(BIN)/python -m bench.matching
	$(BIN)/python -m bench.outbox --postgres
	$(BIN)/python -m bench.slack_http --postgres --processes 2
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.programme --pairs 20
	$(BIN)/python -m bench.slack_surge
	$(BIN)/python -m bench.turns

# Build the Dockerfile with buildah and run the image (no Docker engine needed; root, about
# two minutes). See docs/deployment.md.
image-check: install
	@command -v buildah >/dev/null && command -v debootstrap >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap >/dev/null; }
	HOST_PYTHON=$(CURDIR)/$(BIN)/python bash scripts/check-image.sh

catalogues: install
	$(BIN)/python scripts/catalogues.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache locales/*/LC_MESSAGES/*.mo
