"""gm.train.fit vs the plain DataLoader loop of pytorch/examples, same model, data, batch size and epochs.

The plain loop keeps MNIST as uint8 images and converts each sample with ``transforms.ToTensor()`` inside a
``Dataset.__getitem__``, then collates batches in a ``DataLoader`` (the pytorch/examples mnist/vae pattern).
``fit`` moves the float tensor to the device once and batches by indexing a permutation.
Two models: the chapter's conv autoencoder (compute-bound on a CPU) and a small MLP autoencoder
(where data handling is a large share of each step). Prints times and the ratio plain / fit.

It also prints ``fit``'s overhead against the bare compute: forward, backward and optimizer step over batches
cut before the clock starts, no history, no shuffling (the goal: under 5%), on the CPU and, where there is one,
on the GPU.

    python benchmarks/train_loop.py [--epochs 3]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

import genmodels as gm
from genmodels.autoencoder import Autoencoder, AutoencoderConfig, reconstruction_loss


@dataclasses.dataclass
class MLPConfig:
    hidden: int = 256
    latent_dim: int = 2
    lr: float = 2e-3


class MLPAutoencoder(gm.train.Model):
    def __init__(self, config: MLPConfig = MLPConfig()):
        super().__init__()
        self.config = config
        self.encoder = gm.nets.mlp([784, config.hidden, config.latent_dim])
        self.decoder = gm.nets.mlp([config.latent_dim, config.hidden, 784])

    def logits(self, x):
        return self.decoder(self.encoder(x.flatten(1))).view_as(x)

    def loss(self, batch):
        return {"loss": reconstruction_loss(self.logits(batch), batch).mean()}


class PlainMNIST(Dataset):
    """uint8 images, converted one sample at a time as torchvision's MNIST + ToTensor do."""

    def __init__(self, images_uint8: np.ndarray):
        self.images = images_uint8
        self.to_tensor = transforms.ToTensor()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.to_tensor(Image.fromarray(self.images[i], mode="L"))


def plain_loop(model: gm.train.Model, images_uint8: np.ndarray, epochs: int, batch_size: int, device) -> float:
    loader = DataLoader(PlainMNIST(images_uint8), batch_size=batch_size, shuffle=True)
    model.to(device).train()
    opt = model.configure_optimizers()["opt"]
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x in loader:
            x = x.to(device)
            loss = model.loss(x)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def bare_loop(model: gm.train.Model, x: torch.Tensor, epochs: int, batch_size: int, device) -> float:
    """The compute alone: pre-batched tensors on the device, forward + backward + step, nothing recorded."""
    model.to(device).train()
    opt = model.configure_optimizers()["opt"]
    chunks = list(x.to(device).split(batch_size))
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for xb in chunks:
            loss = model.loss(xb)["loss"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    _sync(device)
    return time.perf_counter() - t0


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def ours(model: gm.train.Model, x: torch.Tensor, epochs: int, batch_size: int, device) -> float:
    _sync(device)
    t0 = time.perf_counter()
    gm.train.fit(model, x, epochs=epochs, batch_size=batch_size, device=device, progress=False)
    _sync(device)  # fit ends with its block read-back; any queued GPU work is counted too
    return time.perf_counter() - t0


def alternate(make, first, second, rounds: int) -> tuple[float, float]:
    """Medians of ``first(make())`` and ``second(make())`` over alternating rounds, each from seed 0, so that a
    slow spell of the machine hits both sides."""
    a, b = [], []
    for _ in range(rounds):
        torch.manual_seed(0)
        a.append(first(make()))
        torch.manual_seed(0)
        b.append(second(make()))
    return float(np.median(a)), float(np.median(b))


def overhead(models, x: torch.Tensor, args) -> None:
    """fit / bare compute − 1, per model and device (median of alternating rounds)."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"\n{'model':<18}{'device':>8}{'bare compute (s)':>18}{'gm.train.fit (s)':>18}{'fit overhead':>14}")
    for name, make in models:
        for device in devices:
            t_bare, t_fit = alternate(make, lambda m: bare_loop(m, x, args.epochs, args.batch_size, device),
                                      lambda m: ours(m, x, args.epochs, args.batch_size, device), args.rounds)
            print(f"{name:<18}{device:>8}{t_bare:>18.2f}{t_fit:>18.2f}{100 * (t_fit / t_bare - 1):>13.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="alternating repetitions; medians are reported")
    parser.add_argument("--overhead-only", action="store_true", help="only fit against the bare compute")
    args = parser.parse_args()
    device = gm.runtime.device()
    x = gm.data.mnist("train").x
    images = (x[:, 0] * 255).round().to(torch.uint8).numpy()
    print(f"device {device}, {torch.get_num_threads()} threads, {len(x)} images, batch {args.batch_size}, "
          f"{args.epochs} epochs, median of {args.rounds} alternating rounds")
    models = (("conv autoencoder", lambda: Autoencoder(AutoencoderConfig())), ("MLP autoencoder", lambda: MLPAutoencoder()))
    if args.overhead_only:
        return overhead(models, x, args)
    print(f"{'model':<18}{'plain DataLoader (s)':>22}{'gm.train.fit (s)':>18}{'plain / fit':>13}")
    for name, make in models:
        t_plain, t_fit = alternate(make, lambda m: plain_loop(m, images, args.epochs, args.batch_size, device),
                                   lambda m: ours(m, x, args.epochs, args.batch_size, device), args.rounds)
        print(f"{name:<18}{t_plain:>22.2f}{t_fit:>18.2f}{t_plain / t_fit:>12.2f}×")
    overhead(models, x, args)


if __name__ == "__main__":
    main()
