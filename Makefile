# The commands of the README's quick start. Each sets itself up on a fresh machine (Python 3.11+ and make): a .venv is
# made, or made again when pyproject.toml or constraints.txt change or PYTHON names another interpreter.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The interpreter asked for, as `VERSION PATH` (empty when PYTHON does not run): the venv records the one it was made with.
PYTHON_FOUND := $(shell $(PYTHON) -c 'import sys; print(sys.version.split()[0], sys.executable)' 2>/dev/null)
# The official MJML is only a reference oracle for tests and benchmarks, never a runtime dependency.
MJML_NPM := mjml@5.4.1
NODE_MJML := .node/node_modules/mjml/package.json
# Debian packages the tests run, each named by its command or as package:command (ssh-keygen checks sign-offs' format).
DEBIAN_TOOLS := chromium spamassassin openssh-client:ssh-keygen
# The fast tier: every test that needs no browser, node, SpamAssassin, other process, and is not slow on its own.
FAST := not browser and not node and not spamassassin and not subprocess and not slow

# Three other days for `make test-days` (UTC): a first Tuesday, a month's last evening, the clinic's autumn DST change.
OTHER_DAYS := "2027-02-02 14:00:00" "2027-05-31 23:50:00" "2027-11-07 09:30:00"

.PHONY: run check test test-days bench mutation debian-tools node-mjml mjml-corpus clean constraints

run: $(STAMP)
	$(BIN)/mailpipe build
	$(BIN)/mailpipe check > build/check-report.txt || { cat build/check-report.txt; exit 1; }
	@tail -n 1 build/check-report.txt
	$(BIN)/mailpipe demo

# While you work: lint, types and the fast tier, in parallel (about a minute on two cores).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto -m "$(FAST)"

# Before you push, and in CI: everything, browser, official MJML and SpamAssassin included.
test: $(STAMP) debian-tools node-mjml mjml-corpus
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto

# The whole suite on each of OTHER_DAYS: Debian's faketime gives every Python process of the run that date (Chromium and
# node keep the real one); tests/faketime/sitecustomize.py works around that libfaketime's sleep.
test-days: $(STAMP) debian-tools node-mjml mjml-corpus
	@scripts/install-debian-tools.sh faketime
	@for day in $(OTHER_DAYS); do echo "== the whole suite at $$day UTC"; \
	  TZ=UTC PYTHONPATH=$(CURDIR)/tests/faketime FAKETIME_ONLY_CMDS=python,python3 \
	    faketime --exclude-monotonic "$$day" $(BIN)/python -m pytest -q -n auto || exit 1; done

bench: $(STAMP) node-mjml debian-tools
	$(BIN)/python bench/render.py
	$(BIN)/python bench/plan_push.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/claims.py
	$(BIN)/python bench/preview_reload.py
	$(BIN)/python bench/mjml_check.py
	$(BIN)/python bench/scale.py

# Mutation testing of the guard modules (the list is [tool.mutmut] in pyproject.toml) against the fast tier, from a
# copy in mutants/; not in CI (hours on two cores the first time: each survivor runs every test that reaches its
# function; a run stopped resumes where it stopped). `make mutation MUTANTS='mailpipe.push.decide*'` checks one module
# again. Prints mutants, killed, equivalent (scripts/mutation-equivalents.toml says why), survived and the time, then
# each survivor (`.venv/bin/mutmut show NAME` shows its diff).
mutation: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[mutation]'
	@mkdir -p build; start=$$(date +%s); \
	  $(BIN)/mutmut run --max-children $$(nproc) $(MUTANTS) > build/mutation.log 2>&1 || { tail -n 30 build/mutation.log; exit 1; }; \
	  $(BIN)/python scripts/mutation-figures.py --seconds $$(( $$(date +%s) - start ))

# A venv made with another interpreter than PYTHON's is made again.
ifneq ($(shell cat $(VENV)/.python 2>/dev/null),$(PYTHON_FOUND))
.PHONY: $(STAMP)
endif

# constraints.txt pins every package `make` installs (the versions the tests last passed with);
# `make constraints` refreshes it after a change to pyproject.toml's dependencies.
$(STAMP): pyproject.toml constraints.txt
	@[ -n "$(PYTHON_FOUND)" ] || { echo "mailpipe needs Python 3.11 or newer: $(PYTHON) does not run (make ... PYTHON=/path/to/python3)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "mailpipe needs Python 3.11 or newer; $(PYTHON) is Python $(PYTHON_FOUND) (make ... PYTHON=/path/to/python3.11)"; exit 1; }
	@echo "Python $(PYTHON_FOUND)"
	@if [ "$$(cat $(VENV)/.python 2>/dev/null)" = "$(PYTHON_FOUND)" ]; then $(PYTHON) -m venv $(VENV); \
	 else echo "making $(VENV) with it"; $(PYTHON) -m venv --clear $(VENV); fi
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@# pip compiles the packages it installs but not an editable one: mailpipe's own bytecode, so a cold start need not
	@# compile it (Python still recompiles, in memory, any file changed since)
	$(BIN)/python -m compileall -q mailpipe cli.py
	@echo "$(PYTHON_FOUND)" > $(VENV)/.python
	touch $@

constraints:
	$(PYTHON) -m venv --clear .venv-fresh
	.venv-fresh/bin/python -m pip install -q --disable-pip-version-check -e '.[test,mutation]'
	.venv-fresh/bin/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^mailpipe' > constraints.txt
	rm -rf .venv-fresh

# Debian's Chromium, SpamAssassin and OpenSSH's ssh-keygen, installed when missing (needs root or sudo; waits for another apt).
debian-tools:
	@scripts/install-debian-tools.sh $(DEBIAN_TOOLS)

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
