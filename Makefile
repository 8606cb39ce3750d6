# Yibao: one command to run, one to test. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_RESIDENTS ?= 3000
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

.PHONY: setup run serve test test-fast bench migrate demo worker chromium clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更新版本")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/yibao demo --residents $(DEMO_RESIDENTS) --if-empty

# The demo: DEBUG on, development server. The only place where DEBUG is on.
run: export DEBUG := 1
run: demo
	@$(BIN)/yibao demo-logins --url http://$(HOST):$(PORT)/
	@echo "后台任务进程已启动；打开 http://$(HOST):$(PORT)/ 登录。按 Ctrl+C 停止。"
	@$(BIN)/python manage.py yibao_worker >var/worker.log 2>&1 & \
	  worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production on one machine: gunicorn + the task worker, settings from the environment or .env,
# DEBUG off (docs/deploy.md). Checks, migrates and collects static files first. Bind with YIBAO_BIND.
serve: setup
	$(BIN)/python -m yibao.serve

worker: setup
	$(BIN)/python manage.py yibao_worker

# Browser tests drive Debian's chromium; install it when the machine lacks it.
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "安装 Debian chromium（浏览器测试需要）……"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: setup chromium
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m 'not browser' $(PYTEST_ARGS)

# Benchmarks run with production settings (DEBUG off); a throwaway key unless one is set.
bench: export SECRET_KEY ?= bench-only-insecure-key
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
