# Otklik's doors: `make demo`, `make test`, `make bench`, `make lint`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench lint clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	OTKLIK_ENV=$${OTKLIK_ENV:-demo} $(BIN)/otklik demo

# The suite runs in TEST_WORKERS processes (pytest-xdist; each has its own databases), a file
# per worker at a time, the slowest files first (tests/conftest.py SLOW_FILES, instead of
# pytest-xdist's order by number of tests); TEST_WORKERS=0 runs it in this process.
# The 25 slowest steps are printed at the end (keep SLOW_FILES in tests/conftest.py by them).
TEST_WORKERS ?= 2

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

# Browser tests drive Debian's Chromium (never a browser Playwright downloads); as root with
# apt-get, install it when missing, otherwise the browser tests fail saying how to.
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
		|| echo "could not install chromium: the browser tests will fail"; \
	fi

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@for script in bench/bench_*.py; do \
		args=$$(awk -v name="$$(basename $$script)" '$$1 == name {$$1 = ""; print}' bench/make_bench_sizes.txt); \
		if [ "$$args" = " -" ]; then echo "== $$script: research, run by hand"; continue; fi; \
		echo "== $$script$$args"; start=$$(date +%s); \
		$(BIN)/python $$script $$args || exit 1; \
		echo "== $$script: $$(( $$(date +%s) - start )) s"; \
	done

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m mypy src
	$(BIN)/lint-imports
	$(BIN)/python scripts/import_cycles.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
