# `make run` sets everything up and serves on http://127.0.0.1:5000; `make test` checks it all.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
export PORT

.PHONY: install run test lint typecheck pytest worker bench clean chromium caddy

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Serves the tip line and runs the delivery worker beside it; Ctrl-C stops both.
run: install
	$(BIN)/tipline init
	$(BIN)/tipline worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

worker: install
	$(BIN)/tipline worker

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's chromium; never a browser downloaded by a test tool.
chromium:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# tests/test_caddy.py runs deploy/Caddyfile with Debian's caddy. The package enables and starts
# its own caddy.service with a demo site on :80; a machine that had no caddy before does not
# want that, so it is stopped and disabled again (the test runs its own Caddy on free ports).
caddy:
	@test -x /usr/bin/caddy || { echo "installing Debian's caddy for the reverse-proxy test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null \
	  && { systemctl disable --now caddy.service >/dev/null 2>&1 || true; }; }

pytest: install chromium caddy
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/triage_eval.py
	$(BIN)/python bench/submit.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
