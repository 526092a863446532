# Everything a newcomer needs: `make run` (set up + demo + server; PORT=8000, RESET=1) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run demo test lint typecheck typecheck-baseline format clean bench fuzz soak serve openapi-check

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Development settings live in .env (read by config/settings.py, ignored by git), not here, so the
# README's manage.py commands work in a fresh shell too. An existing .env is never overwritten.
.env:
	printf '# Development settings (make install); the environment wins over these.\nDEBUG=1\n' > $@

install: $(VENV)/.installed .env

# The demo credentials stay the same from run to run (kept in var/demo-credentials.json, so
# tokens and printed passwords keep working); RESET=1 makes new ones. PORT (default 8000) is
# where runserver listens and what the printed URLs say.
PORT ?= 8000
RESET ?=

demo: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py setup_demo --port '$(PORT)' $(if $(filter 1 yes true,$(RESET)),--reset-credentials)

run: demo
	$(PY) manage.py runserver '127.0.0.1:$(PORT)'

# The production shape (config/serve.py): collectstatic, migrate, nginx → gunicorn (WEB_CONCURRENCY
# workers), Celery worker and beat, DEBUG off. Needs SECRET_KEY, DATABASE_URL and REDIS_URL.
serve: install
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
		echo "installing nginx-light (Debian package) for the buffering proxy"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get install -y -qq nginx-light >/dev/null 2>&1 \
		|| { $$sudo apt-get update -qq >/dev/null && $$sudo apt-get install -y -qq nginx-light >/dev/null; }; }
	$(PY) -m config.serve $(SERVE_ARGS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache

# mypy (django-stubs, djangorestframework-stubs) against mypy-baseline.txt, which only shrinks: a new
# error fails, and so does a listed error that no longer occurs (tools/typecheck.py).
typecheck: install
	$(PY) -m tools.typecheck

typecheck-baseline: install  ## after fixing type errors or moving files: rewrite mypy-baseline.txt
	$(PY) -m tools.typecheck --update

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var/*.sqlite3*

bench: install  ## the benchmark harness (PostgreSQL); BENCH_ARGS=--quick for the CI-sized run
	$(PY) -m bench $(BENCH_ARGS)

openapi-check: install  ## independent tools judge /v2/schema/ (pinned in tools/openapi; needs node/npm)
	bash tools/openapi/check

fuzz: install  ## schemathesis, >=100 examples per operation (FUZZ_EXAMPLES to change, FUZZ_RANDOM=1 for new seeds)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_STATEFUL_EXAMPLES=$${FUZZ_STATEFUL_EXAMPLES:-100} \
		$(PY) -m pytest tests/api/test_fuzz.py -m fuzz -p no:cacheprovider -rxX $(PYTEST_ARGS)

soak: install  ## concurrency soak on PostgreSQL (DATABASE_URL=postgres://…): 8 writers x 25 rounds x 500 items + tree moves/deletes
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make soak needs DATABASE_URL=postgres://…"; exit 1;; esac
	SOAK_PROCESSES=$${SOAK_PROCESSES:-8} SOAK_ROUNDS=$${SOAK_ROUNDS:-25} SOAK_ITEMS=$${SOAK_ITEMS:-500} \
		$(PY) -m pytest tests/api/test_soak.py -s -p no:cacheprovider $(PYTEST_ARGS)
