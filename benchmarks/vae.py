"""Benchmark for Part 1: the batched importance-weighted bound and the vectorised HOG features,
each against the plain alternative, in one run.

* IWAE: ``gm.vae.iwae_bound`` decodes all k·N latent samples in large chunks; the plain alternative
  loops over the k samples, decoding N images at a time, and combines the log-weights at the end.
* HOG: ``gm.metrics.hog_features`` computes the whole batch with tensor operations; the plain alternative
  calls ``skimage.feature.hog`` image by image.

Both pairs are checked to compute the same numbers before the times are printed.

    OMP_NUM_THREADS=1 python benchmarks/vae.py [--k 50] [--n 500] [--faces 1000]

Notebook: chapters/01_vae_gan/01_vae.ipynb (IWAE), chapters/01_vae_gan/03_faces_vae_vs_gan.ipynb (HOG)
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from skimage.feature import hog

import genmodels as gm


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@torch.no_grad()
def iwae_loop(model: gm.vae.VAE, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """The plain alternative: one decoder pass of N images per importance sample."""
    mu, logvar = model.encode(x)
    log_w = []
    for _ in range(k):
        z = gm.vae.reparameterize(mu, logvar, generator=generator)
        log_w.append(model.log_likelihood(model.decode_logits(z), x) + gm.vae.log_normal(z) - gm.vae.log_normal(z, mu, logvar))
    return torch.logsumexp(torch.stack(log_w), 0) - math.log(k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=50, help="importance samples per image")
    parser.add_argument("--n", type=int, default=500, help="test digits")
    parser.add_argument("--faces", type=int, default=1000, help="28×28 images for HOG (faces repeated)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), device cpu")

    torch.manual_seed(0)
    model = gm.vae.VAE(gm.vae.MNIST_CONFIG).eval()   # untrained weights: the cost does not depend on them
    x = gm.vae.binarize(gm.data.mnist("test").x[: args.n])
    ours, t_ours = timed(lambda: gm.vae.iwae_bound(model, x, args.k, generator=torch.Generator().manual_seed(1)))
    plain, t_plain = timed(lambda: iwae_loop(model, x, args.k, torch.Generator().manual_seed(1)))
    # same estimator, different random draws: compare the means over images, not image by image
    print(f"\nIWAE bound, k = {args.k}, {args.n} digits: mean ours {ours.mean():.2f}, loop {plain.mean():.2f} nats")
    print(f"  ours (batched k·N decodes) {t_ours:8.3f} s")
    print(f"  loop over k                {t_plain:8.3f} s")
    print(f"  ratio loop / ours          {t_plain / t_ours:8.2f}")

    faces = gm.data.faces.lfw().x
    imgs = faces.repeat(math.ceil(args.faces / len(faces)), 1, 1, 1)[: args.faces]
    ours_h, t_ours_h = timed(lambda: gm.metrics.hog_features(imgs, cell=9, orientations=9))
    ref_h, t_ref_h = timed(lambda: np.stack([hog(im[0].numpy().astype(np.float64), orientations=9, pixels_per_cell=(9, 9),
                                                 cells_per_block=(1, 1), block_norm="L2") for im in imgs]))
    err = np.abs(ours_h.numpy() - ref_h).max()
    print(f"\nHOG features of {len(imgs)} faces (28×28, 81 features): max |ours - skimage| = {err:.1e}")
    print(f"  ours (batched torch)       {t_ours_h:8.3f} s")
    print(f"  skimage, image by image    {t_ref_h:8.3f} s")
    print(f"  ratio skimage / ours       {t_ref_h / t_ours_h:8.2f}")


if __name__ == "__main__":
    main()
