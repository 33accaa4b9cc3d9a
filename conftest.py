"""Root pytest configuration: every notebook and test runs in the smoke budget, one thread per worker.

Environment variables set here are inherited by the Jupyter kernels nbval starts (also under xdist).
The checkpoint cache is a fresh folder per test session so tests always train instead of loading weights,
and the data folder an empty one, so the reader's own data sets never change what a test sees.
"""
import os
import tempfile

os.environ["GENMODELS_BUDGET"] = "smoke"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# A fresh cache per test session, never the reader's own (tests must train, not load): xdist workers and
# kernels inherit it through GENMODELS_TEST_CACHE; the process that made it removes it.
_OWN_CACHE = None if "GENMODELS_TEST_CACHE" in os.environ else tempfile.mkdtemp(prefix="genmodels-test-cache-")
if _OWN_CACHE:
    os.environ["GENMODELS_TEST_CACHE"] = _OWN_CACHE
os.environ["GENMODELS_CACHE"] = os.environ["GENMODELS_TEST_CACHE"]
# The reader's own data folder must not change what the tests see (a full MNIST in ~/genmodels-data changes
# Part 0's curves): every test and kernel reads an empty data folder, so the embedded data sets are used.
# Tests of the folder loaders write their own small folders and pass them explicitly.
_OWN_DATA = None if "GENMODELS_TEST_DATA" in os.environ else tempfile.mkdtemp(prefix="genmodels-test-data-")
if _OWN_DATA:
    os.environ["GENMODELS_TEST_DATA"] = _OWN_DATA
os.environ["GENMODELS_DATA"] = os.environ["GENMODELS_TEST_DATA"]
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.pop("MPLBACKEND", None)  # kernels must keep the inline backend (figures are part of the run)


def pytest_unconfigure(config):
    import shutil

    for own in (_OWN_CACHE, _OWN_DATA):
        if own:
            shutil.rmtree(own, ignore_errors=True)
