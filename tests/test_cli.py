import subprocess
import sys

import pytest

import genmodels as gm


def test_info_lists_budget_device_and_every_data_source(capsys):
    assert gm.cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "budget: smoke" in out and "device:" in out
    for name in gm.data.sources():
        assert name in out


@pytest.mark.parametrize("method", gm.cli.METHODS)
def test_every_cli_method_has_a_recipe(method):
    import importlib

    assert callable(getattr(importlib.import_module(f"genmodels.{method}"), "train_default", None))


def test_train_autoencoder_smoke_from_the_command_line(tmp_path):
    env = {"GENMODELS_CACHE": str(tmp_path), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "genmodels", "train", "autoencoder", "--budget", "smoke"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"test_reconstruction_nats"' in done.stdout
    assert list((tmp_path / "checkpoints").glob("autoencoder-mnist-smoke-*.pt"))


def test_unknown_method_is_refused(capsys):
    with pytest.raises(SystemExit):
        gm.cli.main(["train", "nonsense"])
    assert "invalid choice" in capsys.readouterr().err
