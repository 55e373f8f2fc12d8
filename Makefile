# Two commands do all the set-up on a fresh machine:
#   make demo   - create .venv, install, make sure a browser exists, submit to the demo portal
#   make test   - the same set-up (and ReplayWeb.page, for one test), then lint (ruff, mypy,
#                 import-linter), then the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The ReplayWeb.page a test replays an exported WACZ in (tests/test_wacz_replay.py): pinned, as
# what it accepts changes from release to release.
REPLAYWEB_VERSION := 2.5.3
REPLAYWEB := $(VENV)/replayweb
REPLAYWEB_STAMP := $(REPLAYWEB)/.installed-$(REPLAYWEB_VERSION)

.PHONY: setup browser replayweb demo lint docs test bench bench-replay clean

setup: $(STAMP) browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

browser: $(STAMP)
	$(BIN)/assistant browser install

demo: setup
	$(BIN)/assistant demo

# Its built ui.js and sw.js only: they are whole bundles. `npm install` would also resolve its
# dependencies (Electron's among them) afresh each time, none of which the two files need, and
# fails where a registry mirror lacks one. `npm pack` checks the tarball's integrity hash.
replayweb: $(REPLAYWEB_STAMP)

$(REPLAYWEB_STAMP):
	rm -rf $(REPLAYWEB)
	mkdir -p $(REPLAYWEB)
	cd $(REPLAYWEB) && npm pack --silent replaywebpage@$(REPLAYWEB_VERSION) >/dev/null
	tar -xzf $(REPLAYWEB)/replaywebpage-$(REPLAYWEB_VERSION).tgz -C $(REPLAYWEB) --strip-components=1 \
		package/ui.js package/sw.js package/LICENSE package/package.json
	rm $(REPLAYWEB)/replaywebpage-$(REPLAYWEB_VERSION).tgz
	touch $(REPLAYWEB_STAMP)

# Config for all three is in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The manual as a site, in .venv/site; --strict: a broken link or a page left out fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: setup replayweb lint docs
	$(BIN)/python -m pytest

# The benches byte-compile the project first, as `pip install` leaves an installed
# package (bench/compiled.py says why).
bench: setup
	$(BIN)/python bench/bench_submit.py
	$(BIN)/python bench/bench_evidence.py

# `assistant replay` with 1, 2 and 4 workers against `flow test` (a few minutes).
bench-replay: setup
	$(BIN)/python bench/bench_replay.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
