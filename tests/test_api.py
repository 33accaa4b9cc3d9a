"""The package's API contract (issue 19): every public function and class of every module of the package says
which notebook uses it, every submodule is registered for lazy import, and default configs are never shared."""
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import genmodels as gm

ROOT = Path(__file__).resolve().parents[1]
EXEMPT: set[str] = set()   # "module.name" of a public callable that needs no back-link (none today)


def _raise(name):
    raise   # walk_packages calls this inside its except clause: a subpackage that fails to import fails the test


def _modules() -> list[str]:
    """Every module of the package, found by walking it (no hand-written list to forget one in), as "data.piano";
    private ones (``__main__``, ``data._audio``, a module inside a private package) are left out."""
    walk = pkgutil.walk_packages(gm.__path__, "genmodels.", onerror=_raise)
    found = [m.name.removeprefix("genmodels.") for m in walk]
    return sorted(m for m in found if not any(part.startswith("_") for part in m.split(".")))


MODULES = _modules()


def _public(modname):
    mod = importlib.import_module(f"genmodels.{modname}")
    for name, obj in vars(mod).items():
        if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)) \
                and obj.__module__ == mod.__name__:
            yield f"{modname}.{name}", obj


def test_the_walk_finds_every_module():
    assert {"train", "history", "checkpoint", "runtime", "cli", "recipes", "notebook", "assignments.cli",
            "data.lowlight", "data.piano", "diffusion.model", "lowlight.model", "ebm.convnet", "sliced"} <= set(MODULES)
    assert not [m for m in MODULES if m.split(".")[-1].startswith("_")]
    assert sum(1 for m in MODULES for _ in _public(m)) > 250   # the walk found the package, not a stub


@pytest.mark.parametrize("modname", MODULES)
def test_every_public_callable_has_a_docstring_with_an_existing_notebook_link(modname):
    missing, broken = [], []
    for qual, obj in _public(modname):
        doc = inspect.getdoc(obj) or ""
        links = re.findall(r"Notebooks?: (chapters/\S+?\.ipynb)((?:, [\w./-]+\.ipynb)*)", doc)
        if not links and qual not in EXEMPT:
            missing.append(qual)
        for first, more in links:   # "Notebooks: chapters/p/a.ipynb, b.ipynb": b in a's folder
            paths = [first] + [m if m.startswith("chapters/") else f"{Path(first).parent}/{m}"
                               for m in re.findall(r"[\w./-]+\.ipynb", more)]
            broken += [f"{qual}: {p}" for p in paths if not (ROOT / p).is_file()]
    assert not missing, f"public callables without a 'Notebook: chapters/...ipynb' line: {missing}"
    assert not broken, f"back-links to notebooks that do not exist: {broken}"


def test_every_submodule_is_registered_for_lazy_import():
    found = {m.name for m in pkgutil.iter_modules(gm.__path__) if not m.name.startswith("_")}
    assert found <= set(gm._SUBMODULES), f"add {sorted(found - set(gm._SUBMODULES))} to genmodels._SUBMODULES"
    assert {"checkpoint", "metrics_image"} <= set(gm._SUBMODULES)
    for name in gm._SUBMODULES:
        assert getattr(gm, name).__name__ == f"genmodels.{name}"


def test_image_metrics_are_reachable_from_both_modules():
    for name in ("LUMA", "luma", "psnr", "ssim", "niqe", "niqe_model", "aggd_fit", "hog_features", "hog_frechet"):
        assert getattr(gm.metrics, name) is getattr(gm.metrics_image, name)


@pytest.mark.parametrize("make", [
    lambda: gm.vae.VAE(), lambda: gm.autoencoder.Autoencoder(), lambda: gm.gan.GAN(), lambda: gm.gan.ToyGAN(),
    lambda: gm.sliced.SlicedAutoencoder(), lambda: gm.ebm.GenerativeConvNet(), lambda: gm.metrics.MNISTClassifier(),
], ids=["VAE", "Autoencoder", "GAN", "ToyGAN", "SlicedAutoencoder", "GenerativeConvNet", "MNISTClassifier"])
def test_default_configs_are_not_shared_between_instances(make):
    a, b = make(), make()
    assert a.config is not b.config and a.config == b.config


def test_a_non_finite_value_is_always_a_non_finite_loss_error():
    import torch

    nan = torch.tensor([[0.0, float("nan")]])
    cases = [
        lambda: gm.gan.minimax_d_loss(nan[0], torch.zeros(2)),
        lambda: gm.ebm.langevin(lambda x: -x, nan, 1, 0.1, 1.0),
        lambda: gm.nmf.check_nonnegative(nan.abs(), "V"),
        lambda: gm.data.piano.check_audio(nan[0]),
        lambda: gm.sliced.ks_1d(nan),
    ]
    for case in cases:
        with pytest.raises(gm.train.NonFiniteLossError, match="NaN"):
            case()
    assert issubclass(gm.data.base.NonFiniteValuesError, ValueError)   # callers that caught ValueError still do


def test_cache_writes_are_atomic(tmp_path, monkeypatch):
    import torch

    gm.data.base.save_atomic({"a": torch.arange(3)}, tmp_path / "sub" / "x.pt")
    assert torch.equal(torch.load(tmp_path / "sub" / "x.pt")["a"], torch.arange(3))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["x.pt"]   # no temporary left behind
    seen = []
    monkeypatch.setattr(gm.data.base.os, "replace", lambda a, b: seen.append((Path(a).name, Path(b).name)))
    gm.data.base.save_atomic(1, tmp_path / "y.pt")
    assert seen and seen[0][1] == "y.pt" and seen[0][0] != "y.pt"   # written elsewhere, then renamed
    for module in ("digits", "faces", "piano"):   # the data caches never write their target in place
        text = (ROOT / "src" / "genmodels" / "data" / f"{module}.py").read_text()
        assert "torch.save(" not in text and ("np.save(partial" in text or "np.save(" not in text)


def test_no_numpy_conversion_without_a_move_to_the_cpu():
    # a CUDA tensor cannot go to NumPy directly; each conversion in the package (every file, private ones too)
    # moves to the CPU first (``.cpu()`` then only method calls that stay there, e.g. ``.cpu().double().numpy()``),
    # or sits on a path that only CPU tensors reach (listed here with the reason)
    cpu_only = {("sliced/distances.py", "np.argsort(y.detach().numpy()"),            # guarded by y.device.type == "cpu"
                ("metrics_image.py", "_gaussian_window(7 / 6, 3, torch.float64).numpy()"),   # built on the CPU
                # signal is moved to the CPU; peak is a CPU tensor on the package's paths (a number, or
                # low_light's CPU draws); a CUDA peak would already fail at the product
                ("data/lowlight.py", "(peak * signal.detach().cpu().double()).numpy()"),
                ("data/lowlight.py", "/ peak.numpy()"),
                ("lowlight/attention.py", "imshow(xa.numpy()")}   # xa = attention_map(...)[0, 0].detach().cpu()
    moved = re.compile(r"\.cpu\(\)(?:\.(?!to\b|cuda\b)\w+\([^()]*\))*\.numpy\(\)")
    src = ROOT / "src" / "genmodels"
    bad = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            rest = moved.sub("", line)
            for f, s in cpu_only:
                if rel == f:
                    rest = rest.replace(s, "")
            if ".numpy()" in rest:
                bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, bad


def test_centre_crop_takes_the_central_window_and_refuses_a_larger_one():
    import pytest
    import torch

    x = torch.arange(42.0).view(1, 6, 7)
    assert torch.equal(gm.data.base.centre_crop(x, 2, 3), x[:, 2:4, 2:5])
    assert torch.equal(gm.data.base.centre_crop(x, 5), x[:, 0:5, 1:6])       # odd margins: the extra row/column at the end
    with pytest.raises(ValueError, match="resize it first"):
        gm.data.base.centre_crop(x, 7)


def test_one_resize_helper_crops_the_central_square():
    import torch

    x = torch.arange(15.0).view(1, 1, 3, 5) / 15
    assert torch.equal(gm.data.base.resize_square(x, 3), x[..., 1:4])          # centre columns 1..3, no resampling
    big = torch.rand(2, 3, 40, 60, generator=torch.Generator().manual_seed(0))
    small = gm.data.base.resize_square(big, 10)
    assert small.shape == (2, 3, 10, 10) and 0 <= float(small.min()) and float(small.max()) <= 1
    # antialiased 4× shrink of the central square: each output pixel is near its 4×4 block mean
    block = big[..., :, 10:50].unfold(2, 4, 4).unfold(3, 4, 4).mean((-1, -2))
    assert float((small - block).abs().mean()) < 0.05
    for module in ("faces", "textures"):
        assert "F.interpolate" not in (ROOT / "src" / "genmodels" / "data" / f"{module}.py").read_text()
