"""Langevin sampling speed of the texture model vs a bare forward+backward pass of the same network.

One Langevin step (gm.ebm.langevin) needs f(I) and ∂f/∂I for every chain: one forward and one backward
pass to the input, plus an element-wise update and a noise draw. This script times both on the same batch and
prints steps per second and the ratio (bare time / Langevin time; 1.0 means the sampler adds nothing).

    OMP_NUM_THREADS=1 python benchmarks/langevin.py [--size 64] [--chains 16] [--steps 30]

Notebook: chapters/03_generative_convnet/03_langevin_textures.ipynb
"""
from __future__ import annotations

import argparse
import time

import torch

import genmodels as gm


def bare_forward_backward(model: torch.nn.Module, x: torch.Tensor, n: int) -> None:
    """n forward passes and backward passes to the input, nothing else."""
    for _ in range(n):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(x).sum(), x)


def timed(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()

    dev = gm.runtime.device()
    torch.manual_seed(0)
    model = gm.ebm.GenerativeConvNet(gm.ebm.ConvNetConfig(channels=3, size=args.size, n_chains=args.chains)).to(dev)
    x = 50 * torch.randn(args.chains, 3, args.size, args.size, device=dev)
    cfg = model.config
    print(f"device {dev}, threads {torch.get_num_threads()}, {args.chains} chains of 3×{args.size}×{args.size}, "
          f"layers {cfg.layers}, {gm.nets.count_parameters(model):,} parameters, {args.steps} steps per timing")
    bare_forward_backward(model, x, 2)  # warm-up
    t_bare = timed(lambda: bare_forward_backward(model, x, args.steps))
    t_lang = timed(lambda: gm.ebm.langevin(model, x, args.steps, cfg.step_size, cfg.sigma))
    print(f"{'bare forward+backward':<24}{args.steps / t_bare:10.1f} passes/s   {1000 * t_bare / args.steps:8.2f} ms each")
    print(f"{'gm.ebm.langevin':<24}{args.steps / t_lang:10.1f} steps/s    {1000 * t_lang / args.steps:8.2f} ms each")
    print(f"ratio (bare / Langevin time per step): {t_bare / t_lang:.2f}  (target ≥ 0.5)")


if __name__ == "__main__":
    main()
