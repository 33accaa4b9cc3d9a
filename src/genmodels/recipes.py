"""Every part's main training run, with its sizes per budget in one place: :data:`SIZES` and :func:`train`.

A chapter's visible sizes cell reads its numbers from here (``gm.recipes.sizes("vae", "epochs", "n_train")``)
and so does ``python -m genmodels train vae --budget full``: one copy of each number, so the command line and
the notebook train, and cache, the same run. Each recipe seeds its model's initial weights itself, so a cached
run never depends on what ran before it.

Notebook: chapters/00_foundations/01_autoencoders.ipynb
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from . import runtime

_MNIST_SPLIT = {"smoke": 1000, "default": None, "full": None}  # training digits; None: the whole split

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    # Part 0: the convolutional autoencoder of chapters/00_foundations/01_autoencoders.ipynb
    "autoencoder": {b: {"epochs": e, "n_train": _MNIST_SPLIT[b]} for b, e in
                    (("smoke", 1), ("default", 15), ("full", 40))},
    # Part 1: the 16-D VAE (01_vae) and the MNIST GAN (02_gan); 02 and 03 reuse both from the cache
    "vae": {b: {"epochs": e, "n_train": _MNIST_SPLIT[b]} for b, e in (("smoke", 1), ("default", 15), ("full", 50))},
    "gan": {"smoke": {"epochs": 1, "n_train": 512}, "default": {"epochs": 20, "n_train": None},
            "full": {"epochs": 60, "n_train": None}},
    # Part 2: the five sliced autoencoders of 02_sliced_autoencoders/03_training_on_mnist
    "sliced": {
        "smoke": {"epochs": 1, "eval_every": 1, "hidden": (64,), "n_projections": 20, "n_train": 1000},
        "default": {"epochs": 16, "eval_every": 2, "hidden": (256, 256), "n_projections": 50, "n_train": None},
        "full": {"epochs": 100, "eval_every": 10, "hidden": (512, 512, 512), "n_projections": 1000, "n_train": None},
    },
    # Part 3: texture synthesis (03_langevin_textures) and contrastive divergence on faces (04_...)
    "ebm-texture": {
        "smoke": {"size": 16, "iterations": 12, "chains": 2, "layers": ((8, 5, 2), (8, 3, 2), (8, 3, 1))},
        "default": {"size": 64, "iterations": 400, "chains": 4, "layers": ((24, 5, 2), (32, 3, 2), (32, 3, 1))},
        "full": {"size": 224, "iterations": 2100, "chains": 16, "layers": ((100, 15, 3), (64, 5, 1), (30, 3, 1))},
    },
    "ebm-cd": {
        "smoke": {"size": 16, "iterations": 20, "layers": ((8, 5, 2), (8, 3, 1))},
        "default": {"size": 32, "iterations": 1200, "layers": ((32, 5, 2), (32, 3, 1), (16, 3, 1))},
        # the paper's experiment 3 uses experiment 1's net (the texture one), all layers learned together
        "full": {"size": 64, "iterations": 1200, "layers": ((100, 15, 3), (64, 5, 1), (30, 3, 1))},
    },
    # Part 4: unpaired crops per domain and their side, epochs, batch, U-Net and D widths, learning rate (the
    # paper's 1e-4 at full scale, 5e-4 for the short CPU runs), held-out test photographs and their side (NIQE
    # needs many 96-pixel blocks: 384 gives 16). Full: the paper's 256-pixel crops; 1,000 per domain (about one
    # EnlightenGAN epoch of its 914 + 1,016 images) keeps the two domains at 1.6 GB of float32 together. Seeds:
    # the training runs per GAN in 04_experiments (its default, one seed, is what two CPU cores allow: ~5 min a run).
    # Ablation: what 04_experiments' six ablation runs change of these sizes (gm.lowlight.ablation_settings); at
    # default 128 steps on 64-pixel crops (φ on a 4×4 grid) are what fits beside the four GANs; at full, nothing.
    "lowlight": {
        "smoke": {"crops": 64, "size": 48, "epochs": 1, "batch_size": 16, "width": 8, "d_width": 16, "lr": 5e-4,
                  "test_photos": ("rocket",), "test_size": 384, "seeds": (0,),
                  "ablation": {"crops": 32, "size": 48, "epochs": 1}},
        "default": {"crops": 1536, "size": 48, "epochs": 10, "batch_size": 16, "width": 16, "d_width": 16,
                    "lr": 5e-4, "test_photos": ("astronaut", "rocket", "china"), "test_size": 384, "seeds": (0,),
                    "ablation": {"crops": 512, "size": 64, "epochs": 4}},
        "full": {"crops": 1000, "size": 256, "epochs": 100, "batch_size": 16, "width": 32, "d_width": 64, "lr": 1e-4,
                 "test_photos": ("astronaut", "rocket", "china"), "test_size": 384, "seeds": (0, 1, 2),
                 "ablation": {}},
    },
    # Part 6: the pixel-space U-Net denoisers on MNIST (pixels in [-1, 1]): DDPM (02_denoising_diffusion, T steps)
    # and flow matching (03_flow_matching, class-conditional); 04_experiments reuses both from the cache
    "diffusion-mnist": {"smoke": {"n_train": 256, "epochs": 1, "width": 8, "T": 20},
                        "default": {"n_train": 5000, "epochs": 30, "width": 16, "T": 400},
                        "full": {"n_train": 60000, "epochs": 200, "width": 64, "T": 1000}},
    # Part 5: the nonnegative autoencoder of 05_nonnegative_decomposition/03_nonnegative_autoencoders
    "nae": {"smoke": {"seconds": 4.0, "n_iter": 40}, "default": {"seconds": 15.0, "n_iter": 600},
            "full": {"seconds": 60.0, "n_iter": 10_000}},
}
"""Per recipe, per budget: the sizes its notebook shows in its sizes cell and the command line trains with."""


def sizes(recipe: str, *keys: str) -> Any:
    """The current budget's sizes of ``recipe``: the whole dict, or the values of ``keys`` (one value or a tuple).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if recipe not in SIZES:
        raise ValueError(f"no recipe {recipe!r}; known: {', '.join(SIZES)}")
    chosen = runtime.by_budget(SIZES[recipe])
    missing = [k for k in keys if k not in chosen]
    if missing:
        raise ValueError(f"recipe {recipe!r} has no sizes {missing}; it has {sorted(chosen)}")
    if not keys:
        return dict(chosen)
    return chosen[keys[0]] if len(keys) == 1 else tuple(chosen[k] for k in keys)


def _seeded(build: Callable[[], torch.nn.Module], seed: int = 0) -> torch.nn.Module:
    """``build()`` with its initial weights drawn from ``seed``, leaving the caller's global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _done(history, **metrics: float) -> dict[str, Any]:
    return {"trained_now": history.trained_now, "train_seconds": round(history.seconds, 1),
            "checkpoint": history.checkpoint, **{k: round(float(v), 4) for k, v in metrics.items()}}


def autoencoder() -> dict[str, Any]:
    """The 2-D convolutional autoencoder of Part 0 (cache entry ``autoencoder-mnist``).

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    from . import data, train
    from .autoencoder import Autoencoder, AutoencoderConfig

    epochs, n_train = sizes("autoencoder", "epochs", "n_train")
    x_train, x_test = data.mnist("train").x[:n_train], data.mnist("test").x
    model = _seeded(lambda: Autoencoder(AutoencoderConfig()))
    history = train.fit(model, x_train, epochs=epochs, batch_size=128, val_data=x_test, name="autoencoder-mnist")
    return _done(history, test_reconstruction_nats=history.epoch("val_loss")[-1])


def vae() -> dict[str, Any]:
    """The 16-D MNIST VAE of Part 1 (``gm.vae.fit_mnist``, cache entry ``vae-mnist``).

    Notebook: chapters/01_vae_gan/01_vae.ipynb
    """
    from . import data, train
    from . import vae as V

    model, history = V.fit_mnist(*sizes("vae", "epochs", "n_train"))
    test = train.evaluate(model, V.binarize(data.mnist("test").x).to(next(model.parameters()).device))
    return _done(history, **{f"test_{k}": v for k, v in test.items()})


def gan() -> dict[str, Any]:
    """The MNIST GAN of Part 1 (``gm.gan.fit_mnist``, cache entry ``gan-mnist``).

    Notebook: chapters/01_vae_gan/02_gan.ipynb
    """
    from . import data, metrics
    from . import gan as G

    model, history = G.fit_mnist(*sizes("gan", "epochs", "n_train"))
    real = data.mnist("test").x
    fake = model.sample(len(real), generator=torch.Generator().manual_seed(0)).cpu()
    return _done(history, last_d_real=history.epochs[-1]["mean_d_real"],
                 classifier_frechet_to_test=metrics.classifier_frechet(fake, real))


def sliced() -> dict[str, Any]:
    """The five sliced autoencoders of Part 2 on MNIST (cache entries ``sliced-<method>``, without the
    notebook's per-epoch test metrics).

    Notebook: chapters/02_sliced_autoencoders/03_training_on_mnist.ipynb
    """
    from .sliced import METHODS

    out: dict[str, Any] = {}
    for method in METHODS:
        _, history = sliced_model(method)
        out[method] = _done(history, last_rec=history.epoch("mean_rec")[-1])
    return out


def sliced_model(method: str):
    """One of :func:`sliced`'s autoencoders, trained or loaded from its cache entry ``sliced-<method>``:
    (model in eval mode, history). Notebook: chapters/06_diffusion/04_experiments.ipynb
    """
    from . import data, train
    from .sliced import METHODS, SlicedAutoencoder, SlicedConfig

    if method not in METHODS:
        raise ValueError(f"no sliced autoencoder {method!r}; known: {', '.join(METHODS)}")
    s = sizes("sliced")
    x_train = data.mnist("train").x[:s["n_train"]]
    cfg = SlicedConfig(method=method, hidden=s["hidden"], latent_dim=20, n_projections=s["n_projections"], lr=3e-3)
    model = _seeded(lambda: SlicedAutoencoder(cfg))
    history = train.fit(model, x_train, epochs=s["epochs"], batch_size=64, seed=0, name=f"sliced-{method}")
    return model.eval(), history


def ebm_texture(texture: str = "brick") -> dict[str, Any]:
    """The generative ConvNet of Part 3 synthesising one texture (cache entry ``ebm-texture-<texture>``,
    without the notebook's snapshots).

    Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
    """
    from . import data, ebm, train

    s = sizes("ebm-texture")
    image = data.textures.texture(texture, s["size"])
    observed, _ = ebm.center(image.x)
    cfg = ebm.ConvNetConfig(channels=image.x.shape[1], size=s["size"], layers=s["layers"], sigma=1.0, step_size=1.0,
                            n_steps=10, n_chains=s["chains"], lr=1e-3)
    model = _seeded(lambda: ebm.GenerativeConvNet(cfg))
    history = train.fit(model, observed, epochs=s["iterations"], batch_size=1, name=f"ebm-texture-{texture}")
    return _done(history)


def lowlight(attention: str = "full") -> dict[str, Any]:
    """The EnlightenGAN-style enhancer of Part 4 (``gm.lowlight.train_enhancer``, cache ``lowlight-<attention>``).

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    from . import lowlight as L

    phi = L.feature_extractor()
    _, history = L.train_enhancer(attention, sizes("lowlight"), phi=phi)
    return _done(history)


PIXEL_DENOISERS = {"eps": "diff-ddpm-mnist", "flow": "diff-flow-mnist"}
"""Part 6's two pixel-space U-Nets on MNIST, by objective, and their cache entries."""


def pixel_denoiser(objective: str):
    """Part 6's pixel-space model of ``objective`` (``"eps"``: the DDPM of 02_denoising_diffusion; ``"flow"``:
    the class-conditional flow matching of 03_flow_matching), trained on MNIST pixels mapped to [−1, 1] or
    loaded from its cache entry (:data:`PIXEL_DENOISERS`): (model, history). Every field of the config is set
    here, once, so chapter 04 reuses the weights of 02 and 03 instead of training a near-copy.
    Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb, 04_experiments.ipynb
    """
    from . import data, train
    from .diffusion import Denoiser, DenoiserConfig

    if objective not in PIXEL_DENOISERS:
        raise ValueError(f"no pixel denoiser for objective {objective!r}; known: {', '.join(PIXEL_DENOISERS)}")
    s = sizes("diffusion-mnist")
    digits = data.mnist("train")
    x = digits.x[:s["n_train"]] * 2 - 1
    if objective == "eps":   # β_end scaled with 1000/T so that ᾱ_T stays near 0 for a shorter chain (capped at 0.5)
        cfg = DenoiserConfig(shape=(1, 28, 28), objective="eps", T=s["T"], beta_end=min(0.02 * 1000 / s["T"], 0.5),
                             width=s["width"], lr=2e-3)
        batch = x
    else:                    # class-conditional, labels dropped at rate 0.1 for classifier-free guidance
        cfg = DenoiserConfig(shape=(1, 28, 28), objective="flow", width=s["width"], n_classes=10, p_uncond=0.1,
                             lr=2e-3)
        batch = (x, digits.y[:s["n_train"]])
    model = _seeded(lambda: Denoiser(cfg))
    history = train.fit(model, batch, epochs=s["epochs"], batch_size=128, name=PIXEL_DENOISERS[objective])
    return model, history


def diffusion() -> dict[str, Any]:
    """Part 6's two pixel-space models (:func:`pixel_denoiser`, cache entries ``diff-ddpm-mnist`` and
    ``diff-flow-mnist``).

    Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
    """
    out: dict[str, Any] = {}
    for objective in PIXEL_DENOISERS:
        _, history = pixel_denoiser(objective)
        out[objective] = _done(history, last_loss=history["loss"][-1])
    return out


RECIPES: dict[str, Callable[[], dict[str, Any]]] = {
    "autoencoder": autoencoder, "vae": vae, "gan": gan, "sliced": sliced, "ebm-texture": ebm_texture,
    "lowlight": lowlight, "diffusion": diffusion,
}
"""``python -m genmodels train <name>``: the trainable recipes (Part 5's NMF solvers train in seconds inside
their notebooks)."""


def train(recipe: str) -> dict[str, Any]:
    """Run ``recipe`` at the current budget (cached like the notebook); return what it measured.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if recipe not in RECIPES:
        raise ValueError(f"no training recipe {recipe!r}; known: {', '.join(RECIPES)}")
    return RECIPES[recipe]()
