# Thin wrappers: the README's two commands are `make book` and `make test`.
# VENV can point elsewhere (CI keeps one per dependency hash in ~/.cache).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
JOBS ?= 2

.PHONY: install test unit notebooks book book-smoke smoke assignments bench clean test-oldest check-pages full-dry-run test-full gpu-check mutation test-autograde

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
# Both read one fresh model cache and one empty data folder, made here and removed after: the reader's own
# ~/.cache/genmodels and ~/genmodels-data never change what make test sees, and the book loads the models
# that nbval has just trained instead of training them a second time.
test: install
	@tmp=$$(mktemp -d) && mkdir "$$tmp/cache" "$$tmp/data" && \
	GENMODELS_TEST_CACHE="$$tmp/cache" GENMODELS_TEST_DATA="$$tmp/data" $(BIN)/python -m pytest tests chapters \
	  --nbval-lax -n $(JOBS) --dist loadfile -p no:cacheprovider -m "not autograde" && \
	GENMODELS_CACHE="$$tmp/cache" GENMODELS_DATA="$$tmp/data" $(MAKE) book-smoke; \
	status=$$?; rm -rf "$$tmp"; exit $$status
	$(MAKE) check-pages PAGES="_build/smoke/_build/html $(CHECKED_PAGES)"

unit: install
	$(BIN)/python -m pytest tests -n $(JOBS) -p no:cacheprovider

notebooks: install
	$(BIN)/python -m pytest chapters --nbval-lax -n $(JOBS) --dist loadfile -p no:cacheprovider

# Each budget builds into its own folder and re-executes every notebook (book/build.sh), so `make book`
# never serves pages that `make test` built at the smoke budget, in either order.
book-smoke: install
	BIN=$(BIN) JOBS=$(JOBS) book/build.sh smoke

# The published book: every notebook executed at the default budget into _build/html.
book: install
	BIN=$(BIN) JOBS=$(JOBS) book/build.sh default

smoke: notebooks

# The real nbgrader autograde of every exercise mutant, one course per part (the fast one-kernel grading of the
# same mutants runs in make test; this proves the two agree). About 5-10 minutes a part on 2 cores.
test-autograde: install
	$(BIN)/python -m pytest tests/test_exercise_mutants.py -m autograde -n $(JOBS) -p no:cacheprovider

# Open the built pages in headless Chromium with the network off: math rendered, figures loaded, no empty widget
# area, launch links at the notebook's own path (tools/check_pages.py). Without chromium it says so and skips.
PAGES ?= _build/html
# the pages make test opens (every chapter page takes about 2 minutes on 2 cores: make check-pages does that)
CHECKED_PAGES := book/intro chapters/00_foundations/01_autoencoders chapters/01_vae_gan/01_vae \
	chapters/02_sliced_autoencoders/02_five_distances chapters/03_generative_convnet/02_hidden_autoencoder \
	chapters/04_lowlight_enhancement/03_attention chapters/05_nonnegative_decomposition/01_spectrograms_and_nmf
check-pages:
	@if command -v chromium > /dev/null; then $(BIN)/python tools/check_pages.py $(PAGES); \
	else echo "check-pages: skipped, no chromium (apt-get install -y chromium; .ci/run installs it)"; fi

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

# The full budget, proven on the CPU: every notebook at full sizes with GENMODELS_MAX_STEPS=2 (tools/full_dry_run.py,
# which prints each notebook's wall time). gpu-check: the same on a GPU with a larger cap, a table of steps/s,
# wall time and peak memory per notebook in _build/gpu-check/ (GPU_CHECK_DEVICE=cpu tests the script on a CPU).
# Too long for CI on 2 cores (see book/how-to-run.md): run `make test-full` before every submission.
full-dry-run: install
	$(BIN)/python tools/full_dry_run.py

test-full: full-dry-run

GPU_CHECK_STEPS ?= 50
gpu-check: install
	$(BIN)/python tools/gpu_check.py --max-steps $(GPU_CHECK_STEPS) --uncapped chapters/01_vae_gan/01_vae.ipynb

# Mutation check (issue 19): each one-line bug of tests/mutations/ applied alone to a copy of src/, its unit
# tests run against it; prints killed/total and the survivors. Slow (tens of minutes on 2 cores): not in CI.
mutation: install
	OMP_NUM_THREADS=1 $(BIN)/python tools/mutation.py -j 2
