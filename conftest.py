"""Root pytest configuration: every notebook and test runs in the smoke budget, one thread per worker.

Environment variables set here are inherited by the Jupyter kernels nbval starts (also under xdist).
The checkpoint cache is a fresh folder per test session so tests always train instead of loading weights.
"""
import os
import tempfile

os.environ["GENMODELS_BUDGET"] = "smoke"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("GENMODELS_CACHE", tempfile.mkdtemp(prefix="genmodels-test-cache-"))
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
os.environ.pop("MPLBACKEND", None)  # kernels must keep the inline backend (figures are part of the run)
