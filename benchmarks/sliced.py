"""Benchmark: the vectorised sliced normality index vs a loop over projections, and vs POT for SWAE.

For codes z of shape (n, D) and k directions, `gm.sliced.normality_index` computes all k projected
1-D distances in one batched call. The plain alternative loops over the k directions in Python and
calls the same 1-D distance on one row at a time. For SWAE, POT's `ot.sliced_wasserstein_distance`
(torch backend, same directions) is timed too; it returns the square root of our value.

Run:  OMP_NUM_THREADS=1 python benchmarks/sliced.py   (add --quick for a short run)
Notebook: chapters/02_sliced_autoencoders/02_five_distances.ipynb
"""
from __future__ import annotations

import argparse
import time

import ot
import torch

from genmodels import sliced

ONE_D = {"scfwae": sliced.scfw_1d, "scwae": sliced.cw_1d, "scvmae": sliced.cvm_1d, "sksae": sliced.ks_1d}


def loop_index(z: torch.Tensor, method: str, v: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """The straightforward version: one projection at a time."""
    total = z.new_zeros(())
    for j in range(v.shape[0]):
        y = (z @ v[j]).unsqueeze(0)  # (1, n)
        if method == "swae":
            total = total + sliced.sw_1d(y, (prior @ v[j]).unsqueeze(0))[0]
        else:
            total = total + ONE_D[method](y)[0]
    return total / v.shape[0]


def best_time(f, repeats: int) -> float:
    """Fastest of ``repeats`` runs (after one warm-up), in seconds."""
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    args = parser.parse_args()
    n = 256
    dims = (20,) if args.quick else (20, 64)
    ks = (50, 200) if args.quick else (50, 200, 1000)
    repeats = 2 if args.quick else 5
    g = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, POT {ot.__version__}, {torch.get_num_threads()} thread(s), n = {n}, "
          f"best of {repeats}; times in ms")
    print(f"{'method':>7} {'D':>3} {'k':>5} | {'ours':>8} {'loop':>9} {'POT':>8} | {'loop/ours':>9} {'POT/ours':>8}")
    for dim in dims:
        z = torch.randn(n, dim, generator=g) * 1.1 + 0.1
        prior = torch.randn(n, dim, generator=g)
        for k in ks:
            v = sliced.random_directions(k, dim, generator=g)
            for method in sliced.METHODS:
                extra = {"prior_sample": prior} if method == "swae" else {}
                ours_value = sliced.normality_index(z, method, directions=v, **extra)
                loop_value = loop_index(z, method, v, prior)
                torch.testing.assert_close(ours_value, loop_value, rtol=1e-4, atol=1e-7)
                t_ours = best_time(lambda: sliced.normality_index(z, method, directions=v, **extra), repeats)
                t_loop = best_time(lambda: loop_index(z, method, v, prior), max(1, repeats // 2))
                pot = ""
                if method == "swae":
                    pot_value = ot.sliced_wasserstein_distance(z, prior, projections=v.T, p=2) ** 2
                    torch.testing.assert_close(ours_value, pot_value, rtol=1e-4, atol=1e-7)
                    t_pot = best_time(lambda: ot.sliced_wasserstein_distance(z, prior, projections=v.T, p=2), repeats)
                    pot = f"{1e3 * t_pot:8.2f}"
                ratio_pot = f"{t_pot / t_ours:8.1f}" if method == "swae" else f"{'':>8}"
                print(f"{method:>7} {dim:>3} {k:>5} | {1e3 * t_ours:8.2f} {1e3 * t_loop:9.2f} {pot:>8} | "
                      f"{t_loop / t_ours:9.1f} {ratio_pot}")


if __name__ == "__main__":
    main()
