# The project's verbs (see ../shared/spec/interfaces.md). Each target sets up what it needs.
SHELL := /bin/bash
PY := .venv/bin/python
BENCH_PYTEST := $(PY) -m pytest tests/bench -p no:cacheprovider -s -m bench --override-ini addopts=

.PHONY: run test bench lint stack clean setup

setup:
	@bash scripts/setup.sh

## run: migrate, load the demo data and serve http://127.0.0.1:8000 (SQLite, eager Celery)
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	DJANGO_DEBUG="$${DJANGO_DEBUG:-true}" $(PY) manage.py runserver 127.0.0.1:8000

## test: the whole suite: ruff, pytest on SQLite and on PostgreSQL, browser tests
test:
	@bash scripts/test.sh

## bench: tests/bench on SQLite, then on a throwaway PostgreSQL; figures as "BENCH name value unit"
bench: setup
	@if [ -z "$$(find tests/bench -name 'test_*.py' 2>/dev/null)" ]; then \
		echo "bench: no benchmarks in tests/bench yet"; exit 0; \
	fi; \
	status=0; \
	echo "== bench on SQLite =="; \
	env -u DATABASE_URL -u CELERY_BROKER_URL BENCH_DB=sqlite $(BENCH_PYTEST) || { rc=$$?; [ $$rc -eq 5 ] || status=$$rc; }; \
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
		echo "== bench on PostgreSQL =="; \
		env -u CELERY_BROKER_URL BENCH_DB=postgresql bash scripts/pg_throwaway.sh exec $(BENCH_PYTEST) \
			|| { rc=$$?; [ $$rc -eq 5 ] || status=$$rc; }; \
	else \
		echo "bench: PostgreSQL not installed: the PostgreSQL benchmarks were NOT run"; \
	fi; \
	exit $$status

## lint: ruff
lint: setup
	.venv/bin/ruff check .

## stack: production-like stack (PostgreSQL, Redis, gunicorn, Celery worker and beat) with a smoke check;
##        stays up until Ctrl-C. Other verbs: scripts/stack.sh up|smoke|faults|drill|load|status|down
stack: setup
	@bash scripts/stack.sh run

## clean: caches, collected static files and screenshots (keeps .venv, db.sqlite3 and var/media)
clean:
	find . -path ./.venv -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles var/screenshots
