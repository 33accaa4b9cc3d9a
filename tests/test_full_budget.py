"""The full budget's sizes, proven on the CPU without training: data at full size, memory-safe evaluation."""
import math

import torch

import genmodels as gm


def _tool(name: str):
    """The script ``tools/<name>.py`` imported as a module (``tools/`` on the path while it loads, for its imports)."""
    import importlib.util
    import sys
    from pathlib import Path

    tools = Path(__file__).resolve().parents[1] / "tools"
    sys.path.insert(0, str(tools))
    try:
        spec = importlib.util.spec_from_file_location(name, tools / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(tools))
    return module


def test_unpaired_holds_full_size_crops_and_says_which_photo_was_upsampled():
    low, normal = gm.data.lowlight.unpaired(4, size=256, seed=0)
    assert low.x.shape == normal.x.shape == (4, 3, 256, 256)
    assert "chelsea ×1.14" in low.source  # 300 px high: its half (300 × 225) cannot hold a 256 crop natively
    assert 0 <= float(low.x.min()) and float(normal.x.max()) <= 1


def test_unpaired_default_short_side_is_unchanged_for_small_crops():
    a, _ = gm.data.lowlight.unpaired(6, size=48, seed=3)
    b, _ = gm.data.lowlight.unpaired(6, size=48, short_side=192, seed=3)
    assert torch.equal(a.x, b.x) and "upsampled" not in a.source


def test_unpaired_refuses_a_short_side_below_the_crop():
    import pytest

    with pytest.raises(ValueError, match="short_side=100 cannot hold crops of size=128"):
        gm.data.lowlight.unpaired(2, size=128, short_side=100)


def test_iwae_bound_matches_a_per_image_loop():
    torch.manual_seed(0)
    model = gm.vae.VAE(gm.vae.VAEConfig(latent_dim=4, width=8)).eval()
    x = (torch.rand(7, 1, 28, 28) > 0.5).float()
    got = gm.vae.iwae_bound(model, x, 5, chunk=3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = model.encode(x)
        z = gm.vae.reparameterize(mu, logvar, 5, torch.Generator().manual_seed(1))  # (k, N, d), the same draws
        ref = []
        for n in range(7):  # each image with its own k samples, decoded on its own
            log_px = model.log_likelihood(model.decode_logits(z[:, n]), x[n:n + 1].expand(5, 1, 28, 28))
            log_w = log_px + gm.vae.log_normal(z[:, n]) - gm.vae.log_normal(z[:, n], mu[n], logvar[n])
            ref.append(torch.logsumexp(log_w, 0) - math.log(5))
    assert torch.allclose(got, torch.stack(ref), atol=1e-5)


def test_recipes_lowlight_full_size_fits_in_memory_budget(monkeypatch):
    monkeypatch.setenv("GENMODELS_BUDGET", "full")
    s = gm.recipes.sizes("lowlight")
    gigabytes = 2 * s["crops"] * 3 * s["size"] ** 2 * 4 / 1e9  # both domains, float32
    assert s["size"] == 256 and gigabytes < 2


def test_gpu_check_table_rates_and_implied_full_time():
    gc = _tool("gpu_check")
    report = {"calls": [{"seconds": 9.0, "train_seconds": 2.0, "steps": 50, "full_steps": 1000},
                        {"seconds": 0.1, "train_seconds": 0.0, "steps": 0, "full_steps": 10},
                        {"seconds": 3.0, "train_seconds": 3.0, "steps": 50, "full_steps": 3000}], "peak_bytes": 3 * 2**20}
    r = gc.row("chapters/01_vae_gan/01_vae.ipynb", report, 12.34, "x\nnegative ELBO          98.76    0.18\n")
    assert r["steps"] == 100 and r["steps/s"] == 20.0  # step loops only; a cached call (0 steps) does not count
    assert r["implied full training s"] == round(4010 / 20.0) and r["peak memory MiB"] == 3
    assert r["headline"].startswith("negative ELBO") and r["headline"].endswith("98.76")
    table = gc.markdown([r], "header")
    assert table.splitlines()[2] == "| " + " | ".join(gc.COLUMNS) + " |" and "| 20.0 |" in table


def test_dry_run_client_leaves_widget_comms_unanswered(tmp_path):
    """The dry run's client does not mirror Output widgets (jupyter/nbclient#312: its comm sends on the shell channel
    can lose the cell's reply), so a widget cell completes and no widget object is kept; plain outputs still come back."""
    import nbformat

    full_dry_run = _tool("full_dry_run")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import ipywidgets as W\nout = W.Output()\nwith out:\n    print('inside')\nout"),
        nbformat.v4.new_code_cell("print('after')")])
    nbc = full_dry_run.client(nb, tmp_path / "x.ipynb", timeout=120)
    nbc.execute()
    assert nbc.comm_objects == {}  # nbclient's OutputWidget would be registered here (and send on the shell)
    assert nb.cells[1].outputs[0]["text"] == "after\n"


def test_dry_run_names_a_dead_kernel_and_its_peak_memory(tmp_path):
    """A kernel that dies mid-notebook (as one killed for memory does) is reported as a dead kernel, whatever nbclient's
    cleanup raises over it, and the sampler sees the kernel's memory (a 300 MB array held for a second)."""
    import nbformat

    full_dry_run = _tool("full_dry_run")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import time\nimport numpy as np\nx = np.ones(300 * 2**20 // 8)\ntime.sleep(1.0)"),
        nbformat.v4.new_code_cell("import os\nos._exit(9)"),
        nbformat.v4.new_code_cell("print('never')")])
    path = tmp_path / "dies.ipynb"
    nbformat.write(nb, path)
    with full_dry_run.PeakMemory(every=0.05) as peak:
        try:
            full_dry_run.execute(path, timeout=120)
        except Exception as err:  # noqa: BLE001 - whatever nbclient raises, the dead kernel must be found in it
            caught = err
        else:
            caught = None
    assert caught is not None and full_dry_run.dead_kernel(caught)
    assert peak.bytes > 300 * 2**20
    assert not full_dry_run.dead_kernel(ValueError("a cell's own error"))
    from nbclient.exceptions import DeadKernelError

    try:  # stop 31's case: the cleanup's bare assert raised while the dead kernel was being handled
        try:
            raise DeadKernelError("Kernel died")
        except DeadKernelError:
            assert None is not None  # noqa: PT017 - the shape of nbclient's `assert self.km is not None`
    except AssertionError as masked:
        assert full_dry_run.dead_kernel(masked)
