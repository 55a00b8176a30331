# The two commands of the README's quick start. Each sets itself up on a fresh machine
# (Python 3.11+ and make): a .venv is created or refreshed when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The official MJML is only a reference oracle for tests and benchmarks, never a runtime dependency.
MJML_NPM := mjml@5.4.1
NODE_MJML := .node/node_modules/mjml/package.json

.PHONY: run test bench chromium spamassassin node-mjml mjml-corpus clean constraints

run: $(STAMP)
	$(BIN)/mailpipe build
	$(BIN)/mailpipe check > build/check-report.txt || { cat build/check-report.txt; exit 1; }
	@tail -n 1 build/check-report.txt
	$(BIN)/mailpipe demo

test: $(STAMP) chromium spamassassin node-mjml mjml-corpus
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP) node-mjml chromium
	$(BIN)/python bench/render.py
	$(BIN)/python bench/plan_push.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/preview_reload.py
	$(BIN)/python bench/mjml_check.py
	$(BIN)/python bench/scale.py

# constraints.txt pins every package `make` installs (the versions the tests last passed with);
# `make constraints` refreshes it after a change to pyproject.toml's dependencies.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "mailpipe needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@# pip compiles the packages it installs but not an editable one: mailpipe's own bytecode, so a cold start need not
	@# compile it (Python still recompiles, in memory, any file changed since)
	$(BIN)/python -m compileall -q mailpipe cli.py
	touch $@

constraints:
	$(PYTHON) -m venv --clear .venv-fresh
	.venv-fresh/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
	.venv-fresh/bin/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^mailpipe' > constraints.txt
	rm -rf .venv-fresh

# Debian's Chromium for the browser tests (installed when missing; needs root or sudo).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's SpamAssassin: the tests score every email as a recipient's server would (installed when missing).
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin >/dev/null; }

# npm mjml into a git-ignored folder; skipped where node/npm are absent (those tests then skip).
node-mjml:
	@if command -v npm >/dev/null 2>&1; then \
	  [ -f $(NODE_MJML) ] || npm install --silent --no-audit --no-fund --prefix .node $(MJML_NPM) >/dev/null; \
	else echo "npm not found: tests against the official MJML will be skipped"; fi

# Real-world MJML for the MJML checker's tests (pinned versions and SHA-256; git-ignored .corpus/).
mjml-corpus:
	@$(PYTHON) scripts/fetch-mjml-corpus.py

clean:
	rm -rf build .node .corpus $(VENV)
