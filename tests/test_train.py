import dataclasses

import pytest
import torch
from torch import nn

import genmodels as gm
from genmodels.train import CheckpointMismatchError, NonFiniteLossError


@dataclasses.dataclass
class TinyConfig:
    width: int = 8
    lr: float = 1e-2


class Tiny(gm.train.Model):
    """A small regression model with dropout, so the RNG state matters for exact resumption."""

    def __init__(self, config=TinyConfig()):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(nn.Linear(3, config.width), nn.ReLU(), nn.Dropout(0.2), nn.Linear(config.width, 1))

    def loss(self, batch):
        x, y = batch
        return {"loss": (self.net(x).squeeze(1) - y).pow(2).mean()}


def _data(n=256):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 3, generator=g)
    return x, x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)


def _model(seed=0):
    torch.manual_seed(seed)
    return Tiny()


def test_fit_decreases_loss_and_records_history():
    model = _model()
    h = gm.train.fit(model, _data(), epochs=6, batch_size=32, val_data=_data(64), device="cpu")
    assert len(h["loss"]) == 6 * 8 and len(h.epochs) == 6
    assert h.epoch("mean_loss")[-1] < 0.3 * h.epoch("mean_loss")[0]
    assert h.epoch("val_loss").shape == (6,) and h.seconds > 0 and h.trained_now


def test_resume_equals_uninterrupted_run(tmp_path):
    straight = _model()
    gm.train.fit(straight, _data(), epochs=4, batch_size=32, device="cpu", checkpoint=tmp_path / "a.pt")
    interrupted = _model()
    gm.train.fit(interrupted, _data(), epochs=2, batch_size=32, device="cpu", checkpoint=tmp_path / "b.pt")
    resumed = _model(seed=123)  # different init: everything must come from the checkpoint
    h = gm.train.fit(resumed, _data(), epochs=4, batch_size=32, device="cpu", checkpoint=tmp_path / "b.pt")
    assert [e["epoch"] for e in h.epochs] == [1, 2, 3, 4]
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


def test_cached_run_is_loaded_not_retrained(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    first = _model()
    h1 = gm.train.fit(first, _data(), epochs=2, batch_size=64, device="cpu", name="tiny")
    again = _model(seed=5)
    h2 = gm.train.fit(again, _data(), epochs=2, batch_size=64, device="cpu", name="tiny")
    assert h1.trained_now and not h2.trained_now and h1.checkpoint == h2.checkpoint
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))
    other = Tiny(TinyConfig(width=16))
    h3 = gm.train.fit(other, _data(), epochs=2, batch_size=64, device="cpu", name="tiny")
    assert h3.trained_now and h3.checkpoint != h1.checkpoint  # another config, another cache entry


def test_mismatched_checkpoint_is_refused(tmp_path):
    gm.train.fit(_model(), _data(), epochs=1, batch_size=64, device="cpu", checkpoint=tmp_path / "c.pt")
    with pytest.raises(CheckpointMismatchError, match="config.width: checkpoint has 8, this run has 16"):
        gm.train.fit(Tiny(TinyConfig(width=16)), _data(), epochs=2, batch_size=64, device="cpu", checkpoint=tmp_path / "c.pt")
    with pytest.raises(CheckpointMismatchError, match="batch_size"):
        gm.train.fit(_model(), _data(), epochs=2, batch_size=32, device="cpu", checkpoint=tmp_path / "c.pt")
    with pytest.raises(CheckpointMismatchError, match="width"):
        gm.train.load(Tiny(TinyConfig(width=16)), tmp_path / "c.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatchError, match="not a readable"):
        gm.train.load(_model(), tmp_path / "junk.pt")


def test_load_restores_weights(tmp_path):
    model = _model()
    gm.train.fit(model, _data(), epochs=1, batch_size=64, device="cpu", checkpoint=tmp_path / "w.pt")
    fresh = _model(seed=9)
    h = gm.train.load(fresh, tmp_path / "w.pt")
    assert len(h.epochs) == 1
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), fresh.parameters()))


def test_nan_loss_stops_with_clear_error():
    x, y = _data()
    order = torch.randperm(256, generator=torch.Generator().manual_seed(0))  # the order fit(seed=0) draws
    y[order[32]] = float("nan")  # first example of the second batch of 32
    with pytest.raises(NonFiniteLossError, match=r"loss = nan at epoch 1, step 2 \(batch 2 of 8\)"):
        gm.train.fit(_model(), (x, y), epochs=1, batch_size=32, device="cpu", seed=0)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="share their first dimension"):
        gm.train.fit(_model(), (torch.zeros(4, 3), torch.zeros(5)), epochs=1, device="cpu")
    with pytest.raises(ValueError, match="empty"):
        gm.train.fit(_model(), (torch.zeros(0, 3), torch.zeros(0)), epochs=1, device="cpu")
    with pytest.raises(ValueError, match="positive"):
        gm.train.fit(_model(), _data(), epochs=0, device="cpu")


def test_callbacks_and_every():
    seen = []
    cb = gm.train.every(2, lambda model, epoch: seen.append(epoch) or {"marker": epoch * 10})
    h = gm.train.fit(_model(), _data(), epochs=4, batch_size=128, device="cpu", callbacks=[cb])
    assert seen == [2, 4] and h.epoch("marker").tolist() == [20, 40]


class TwoOptimisers(gm.train.Model):
    """A GAN-shaped step: two parameter groups, each updated only by its own optimiser."""

    def __init__(self):
        super().__init__()
        self.config = TinyConfig()
        self.a, self.b = nn.Linear(3, 1), nn.Linear(3, 1)

    def configure_optimizers(self):
        return {"a": torch.optim.SGD(self.a.parameters(), lr=0.1), "b": torch.optim.SGD(self.b.parameters(), lr=0.1)}

    def training_step(self, batch, optimizers):
        x, y = batch
        out = {}
        for key, net in (("a", self.a), ("b", self.b)):
            loss = (net(x).squeeze(1) - y).pow(2).mean()
            optimizers[key].zero_grad()
            loss.backward()
            optimizers[key].step()
            out[f"loss_{key}"] = loss
        return out


def test_model_supplied_step_with_two_optimisers():
    h = gm.train.fit(TwoOptimisers(), _data(), epochs=3, batch_size=64, device="cpu")
    assert set(h.steps) == {"loss_a", "loss_b"} and h["loss_a"][-1] < h["loss_a"][0]


def test_fit_trains_even_when_called_under_no_grad():
    model = _model()
    with torch.no_grad():
        h = gm.train.fit(model, _data(), epochs=2, batch_size=64, device="cpu")
        assert not torch.is_grad_enabled()  # the caller's mode is restored
    assert h.epoch("mean_loss")[-1] < h.epoch("mean_loss")[0]
