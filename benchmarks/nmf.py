"""Benchmark: our torch NMF vs scikit-learn's NMF(solver="mu") vs the same updates in plain NumPy.

Same matrix (the magnitude spectrogram of a rendered piano piece, K = 1025 bins, N ≈ 2,000 frames),
same rank R = 88 (one template per piano key), same initial W, H, same number of iterations, one run.
Prints seconds per iteration, the final errors (to show the three compute the same thing) and ratios.

    OMP_NUM_THREADS=1 python benchmarks/nmf.py [--iterations 50] [--dtype float32]

Notebook: chapters/05_nonnegative_decomposition/04_experiments.ipynb
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import NMF

import genmodels as gm
from genmodels import nmf


def numpy_nmf(V: np.ndarray, W: np.ndarray, H: np.ndarray, n_iter: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The plain alternative: Lee–Seung updates (H, then W) written with NumPy matrix products."""
    W, H = W.copy(), H.copy()
    for _ in range(n_iter):
        H *= (W.T @ V) / ((W.T @ W) @ H + eps)
        W *= (V @ H.T) / (W @ (H @ H.T) + eps)
    return W, H


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--piece", default="joplin_maple_leaf_rag")
    parser.add_argument("--seconds", type=float, default=93.0, help="excerpt length: 93 s gives N ≈ 2,000 frames")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()

    dtype = getattr(torch, args.dtype)
    piece = gm.data.piano.load(args.piece, seconds=args.seconds)
    V = gm.data.piano.spectrogram(piece.audio.double()).to(dtype)
    K, N = V.shape
    R, n = 88, args.iterations
    W0, H0 = nmf.random_init(V, R, seed=0)
    eps = float(torch.finfo(dtype).eps)
    print(f"V: {K} × {N} ({args.dtype}) from {piece.source}; R = {R}; {n} iterations; "
          f"torch threads {torch.get_num_threads()}")

    rows = []
    (W, H, _, _), t = timed(lambda: nmf.nmf(V, n_iter=n, W=W0, H=H0, error=None))
    rows.append(("genmodels.nmf (torch, CPU)", t, nmf.columnwise_l1_error(V, W @ H)))

    v, w0, h0 = V.numpy(), W0.numpy(), H0.numpy()
    sk = NMF(n_components=R, init="custom", solver="mu", beta_loss="frobenius", max_iter=n, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "maximum number of iterations reached" is the point here
        # scikit-learn updates W first; on Vᵀ its order is ours (H first), so all three do the same work
        Ht, t = timed(lambda: sk.fit_transform(v.T.copy(), W=h0.T.copy(), H=w0.T.copy()))
    V_sk = torch.from_numpy(sk.components_.T @ Ht.T)
    rows.append(("scikit-learn NMF(solver='mu')", t, nmf.columnwise_l1_error(V, V_sk)))

    (w, h), t = timed(lambda: numpy_nmf(v, w0, h0, n, eps))
    rows.append(("plain NumPy", t, nmf.columnwise_l1_error(V, torch.from_numpy(w @ h))))

    if torch.cuda.is_available():
        Vc, Wc, Hc = V.cuda(), W0.cuda(), H0.cuda()
        nmf.nmf(Vc, n_iter=3, W=Wc, H=Hc, error=None)  # warm-up
        torch.cuda.synchronize()

        def on_gpu():
            out = nmf.nmf(Vc, n_iter=n, W=Wc, H=Hc, error=None)
            torch.cuda.synchronize()
            return out

        (Wg, Hg, _, _), t = timed(on_gpu)
        rows.append((f"genmodels.nmf (torch, {torch.cuda.get_device_name()})", t,
                     nmf.columnwise_l1_error(V, (Wg @ Hg).cpu())))

    ours = rows[0][1]
    print(f"\n{'implementation':<42}{'seconds':>9}{'ms/iter':>9}{'l1 error':>11}{'time / ours':>13}")
    for name, t, err in rows:
        print(f"{name:<42}{t:9.2f}{1000 * t / n:9.1f}{err:11.4f}{t / ours:13.2f}")
    print(f"\nspeed-up of ours: {rows[1][1] / ours:.2f}× scikit-learn, {rows[2][1] / ours:.2f}× NumPy"
          + (f", GPU {ours / rows[3][1]:.1f}× our CPU run" if len(rows) > 3 else " (no GPU here)"))


if __name__ == "__main__":
    main()
