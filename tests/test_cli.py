import os
import subprocess
import sys

import pytest

import genmodels as gm


def _env(tmp_path, **extra):
    env = {"GENMODELS_CACHE": str(tmp_path), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return {**env, **extra}


def test_info_lists_budget_device_and_every_data_source(capsys):
    assert gm.cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "budget: smoke" in out and "device:" in out
    for name in gm.data.sources():
        assert name in out


def test_every_part_has_a_recipe_whose_sizes_cover_every_budget():
    parts = {"autoencoder": 0, "vae": 1, "gan": 1, "sliced": 2, "ebm-texture": 3, "lowlight": 4, "diffusion": 6}
    # Part 5's NMF solvers train in seconds inside their notebooks
    assert set(gm.cli.METHODS) == set(parts) and set(parts.values()) == {0, 1, 2, 3, 4, 6}
    for name, by_budget in gm.recipes.SIZES.items():
        assert set(by_budget) == set(gm.runtime.BUDGETS), name
        assert len({frozenset(s) for s in by_budget.values()}) == 1, f"{name}: budgets give different keys"


def test_sizes_follow_the_budget(monkeypatch):
    monkeypatch.setenv("GENMODELS_BUDGET", "full")
    assert gm.recipes.sizes("vae", "epochs", "n_train") == (50, None)
    assert gm.recipes.sizes("lowlight", "size") == 256
    assert gm.recipes.sizes("diffusion-mnist", "n_train", "T") == (60000, 1000)  # Part 6's pixel models
    monkeypatch.setenv("GENMODELS_BUDGET", "smoke")
    assert gm.recipes.sizes("vae")["n_train"] == 1000
    with pytest.raises(ValueError, match="no recipe 'nope'"):
        gm.recipes.sizes("nope")
    with pytest.raises(ValueError, match="has no sizes"):
        gm.recipes.sizes("vae", "width")


def test_train_autoencoder_smoke_from_the_command_line_shares_the_notebook_cache(tmp_path):
    done = subprocess.run([sys.executable, "-m", "genmodels", "train", "autoencoder", "--budget", "smoke"],
                          capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"test_reconstruction_nats"' in done.stdout and '"trained_now": true' in done.stdout
    # the notebook's cell: the same data, a model built after other draws, the same name: found in the cache
    os.environ["GENMODELS_CACHE"] = str(tmp_path)
    try:
        import torch

        torch.manual_seed(123)  # what the notebook drew before must not matter to the cache entry
        model = gm.autoencoder.Autoencoder(gm.autoencoder.AutoencoderConfig())
        x_train = gm.data.mnist("train").x[:gm.recipes.sizes("autoencoder", "n_train")]
        h = gm.train.fit(model, x_train, epochs=gm.recipes.sizes("autoencoder", "epochs"), batch_size=128,
                         val_data=gm.data.mnist("test").x, name="autoencoder-mnist")
    finally:
        del os.environ["GENMODELS_CACHE"]
    assert not h.trained_now


@pytest.mark.parametrize("args, env, message", [
    (["train", "nonsense"], {}, "invalid choice: 'nonsense'"),
    (["train", "vae", "--budget", "huge"], {}, "invalid choice: 'huge'"),
    (["info"], {"GENMODELS_BUDGET": "fulll"}, "GENMODELS_BUDGET='fulll' is not a budget"),
    (["info"], {"GENMODELS_DEVICE": "gpu"}, "GENMODELS_DEVICE='gpu' is not a device"),
    (["info"], {"GENMODELS_DEVICE": "cuda"}, "torch sees no cuda device"),
    (["info"], {"GENMODELS_MAX_STEPS": "two"}, "GENMODELS_MAX_STEPS='two' is not a step cap"),
    (["info"], {"GENMODELS_PROGRESS": "widgets"}, "GENMODELS_PROGRESS='widgets' is not a progress mode"),
])
def test_bad_arguments_and_environment_are_one_line_and_status_2(tmp_path, args, env, message):
    if "GENMODELS_DEVICE" in env and env["GENMODELS_DEVICE"] == "cuda":
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    done = subprocess.run([sys.executable, "-m", "genmodels", *args], capture_output=True, text=True,
                          env=_env(tmp_path, **env), timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_part6_pixel_models_are_built_once_and_shared_through_the_cache(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    monkeypatch.setenv("GENMODELS_BUDGET", "smoke")
    s = gm.recipes.sizes("diffusion-mnist")
    torch.manual_seed(1)
    ddpm, h = gm.recipes.pixel_denoiser("eps")
    c = ddpm.config
    assert h.trained_now and (c.objective, c.T, c.width, c.n_classes) == ("eps", s["T"], s["width"], 0)
    assert c.beta_end == min(0.02 * 1000 / s["T"], 0.5)
    torch.manual_seed(2)                     # what a notebook drew before must not change the weights or the entry
    again, h2 = gm.recipes.pixel_denoiser("eps")
    assert not h2.trained_now and all(torch.equal(a, b) for a, b in zip(ddpm.state_dict().values(),
                                                                        again.state_dict().values()))
    flow, _ = gm.recipes.pixel_denoiser("flow")
    assert (flow.config.objective, flow.config.n_classes, flow.config.p_uncond) == ("flow", 10, 0.1)
    with pytest.raises(ValueError, match="known: eps, flow"):
        gm.recipes.pixel_denoiser("score")
