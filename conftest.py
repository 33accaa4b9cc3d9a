"""Root pytest configuration: every notebook and test runs in the smoke budget, one thread per worker.

Environment variables set here are inherited by the Jupyter kernels nbval starts (also under xdist).
The checkpoint cache is a fresh folder per test session so tests always train instead of loading weights.
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
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.pop("MPLBACKEND", None)  # kernels must keep the inline backend (figures are part of the run)


def pytest_unconfigure(config):
    if _OWN_CACHE:
        import shutil

        shutil.rmtree(_OWN_CACHE, ignore_errors=True)
