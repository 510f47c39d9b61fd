# Ringfence: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev browser lint bench bench-import migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## run: set up, migrate the embedded SQLite database, load the demo organisation once, serve.
run: install
	$(BIN)/ringfence migrate
	$(BIN)/ringfence demo --if-empty --no-sign-ins
	$(BIN)/ringfence users demo-accounts
	$(BIN)/ringfence serve --host $(HOST) --port $(PORT)

## browser: the tests drive Debian's Chromium; install it when it is missing (needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "Installing Chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

## test: the whole suite against SQLite and PostgreSQL (embedded server unless TEST_POSTGRES_URL/DATABASE_URL is set),
## one worker per logical CPU (pytest-xdist; PYTEST_WORKERS=0 runs it in one process).
PYTEST_WORKERS ?= logical
test: install-dev browser
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/mypy app/policy app/repositories app/services app/jobs
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench || true

## bench: the service under load, then a whole organisation's export imported, on both databases.
bench: install-dev
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.import_bench --backend postgresql
	$(BIN)/python -m bench.import_bench --backend sqlite

## bench-import: only the import benchmark (IMPORT_ARGS, e.g. --backend sqlite --cases 5000).
bench-import: install-dev
	$(BIN)/python -m bench.import_bench $(IMPORT_ARGS)

migrate: install
	$(BIN)/ringfence migrate

demo: install
	$(BIN)/ringfence demo

## clean: remove what set-up and the tests leave behind: the venv, var/, the embedded
## PostgreSQL's data directory and, where the tests ran as root, its system user.
clean:
	-$(BIN)/python -c "from tests.support.postgres import embedded_data_dir as d; print(d())" 2>/dev/null | xargs -r rm -rf
	-id embedded_postgres >/dev/null 2>&1 && userdel embedded_postgres
	rm -rf $(VENV) var .pytest_cache
