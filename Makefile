# Thin wrappers: the README's two commands are `make book` and `make test`.
# VENV can point elsewhere (CI keeps one per dependency hash in ~/.cache).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
JOBS ?= 2

.PHONY: install test unit notebooks book book-smoke smoke assignments bench clean test-oldest

# pyproject.toml states ranges; constraints.txt pins the versions installed here, so builds are reproducible.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,book,lab]"
	touch $@

install: $(STAMP)
	@# the venv may be shared between checkouts (CI): make sure it imports *this* checkout's src/
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .

# Unit tests and every notebook (nbval, smoke budget), then the book in smoke budget, warnings as errors.
test: install
	$(BIN)/python -m pytest tests chapters --nbval-lax -n $(JOBS) --dist loadfile -p no:cacheprovider
	$(MAKE) book-smoke

unit: install
	$(BIN)/python -m pytest tests -n $(JOBS) -p no:cacheprovider

notebooks: install
	$(BIN)/python -m pytest chapters --nbval-lax -n $(JOBS) --dist loadfile -p no:cacheprovider

# Each budget builds into its own folder and re-executes every notebook (book/build.sh), so `make book`
# never serves pages that `make test` built at the smoke budget, in either order.
book-smoke: install
	BIN=$(BIN) book/build.sh smoke

# The published book: every notebook executed at the default budget into _build/html.
book: install
	BIN=$(BIN) book/build.sh default

smoke: notebooks

# Depends on the stamp (the dependencies), not on `install`: no re-install of the package and its setuptools
# noise; PYTHONPATH and --chapters take the kit and the exercises from this checkout, even in a shared venv.
assignments: $(STAMP)
	PYTHONPATH=src $(BIN)/python -m genmodels assignments --chapters chapters release --out courses/genmodels

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build courses .pytest_cache

# The lower bounds of pyproject.toml, proven: a separate venv with every dependency at its lowest version
# (tools/lowest_constraints.py), then the fast unit tests and the smoke notebooks. Downloads several GB once.
OLDEST ?= .venv-oldest
test-oldest:
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(PYTHON) tools/lowest_constraints.py test > $(OLDEST)/constraints-lowest.txt
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/constraints-lowest.txt -e ".[test]"
	$(OLDEST)/bin/python -m pip list 2>/dev/null | grep -iE "^(torch|torchvision|numpy|scipy|scikit-learn|pandas) "
	$(OLDEST)/bin/python -m pytest tests -m "not slow" -n $(JOBS) -p no:cacheprovider -q
	$(OLDEST)/bin/python -m pytest chapters --nbval-lax -n $(JOBS) --dist loadfile -p no:cacheprovider -q
