"""Speed of the batched samplers of gm.diffusion against the same sampler run one sample at a time.

Every sampler of ``gm.diffusion`` moves the whole batch with one network call per step. The plain alternative
loops over samples and calls the network on one row at a time. This script times DDIM, ancestral DDPM, Heun
and annealed Langevin both ways with the same small time-conditioned network and prints the ratio
(loop time / batched time), after checking that the deterministic samplers give the same samples both ways.

    OMP_NUM_THREADS=1 python benchmarks/diffusion.py [--n 128] [--dim 784] [--steps 20]

Notebooks: chapters/06_diffusion/02_denoising_diffusion.ipynb, 03_flow_matching.ipynb
"""
from __future__ import annotations

import argparse
import time

import torch

import genmodels as gm

dm = gm.diffusion


def timed(fn) -> tuple[float, torch.Tensor]:
    t0 = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="samples per batch")
    parser.add_argument("--dim", type=int, default=784, help="dimension of one sample (784: a flattened digit)")
    parser.add_argument("--steps", type=int, default=20, help="sampler steps")
    args = parser.parse_args()
    dev = gm.runtime.device()
    torch.manual_seed(0)
    net = dm.TimeMLP(args.dim, 256).to(dev).eval()
    sched = dm.linear_schedule(args.steps, beta_end=min(0.5, 20 / args.steps))
    eps_fn = lambda x, t: net(x, t.float() / sched.T)  # noqa: E731
    v_fn = lambda x, t: net(x, t)  # noqa: E731
    score_fn = lambda x, s: net(x, s.log())  # noqa: E731
    sigmas = dm.geometric_sigmas(1.0, 0.1, 5)
    each = max(1, args.steps // 5)
    samplers = {
        "DDIM (η = 0)": (lambda x, g: dm.ddim_sample(eps_fn, x, sched, args.steps), True),
        "ancestral DDPM": (lambda x, g: dm.ddpm_sample(eps_fn, x, sched, generator=g), False),
        "Heun ODE": (lambda x, g: dm.ode_sample(v_fn, x, args.steps, method="heun"), True),
        "annealed Langevin": (lambda x, g: dm.annealed_langevin(score_fn, x, sigmas, each, 1e-3, generator=g), False),
    }
    x = gm.runtime.randn(args.n, args.dim, generator=torch.Generator().manual_seed(1), device=dev)
    print(f"device {dev}, {args.n} samples of dimension {args.dim}, {args.steps} steps, threads {torch.get_num_threads()}")
    print(f"{'sampler':20} {'batched s':>10} {'loop s':>10} {'ratio':>8}")
    for name, (run, deterministic) in samplers.items():
        run(x[:2], torch.Generator().manual_seed(2))  # warm-up
        t_batch, out_batch = timed(lambda: run(x, torch.Generator().manual_seed(3)))
        t_loop, out_loop = timed(lambda: torch.cat([run(x[i:i + 1], torch.Generator().manual_seed(3))
                                                    for i in range(args.n)]))
        if deterministic and not torch.allclose(out_batch, out_loop, atol=1e-4):
            raise SystemExit(f"{name}: batched and per-sample results differ")
        print(f"{name:20} {t_batch:10.3f} {t_loop:10.3f} {t_loop / t_batch:8.1f}")


if __name__ == "__main__":
    main()
