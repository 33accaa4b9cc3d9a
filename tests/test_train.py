import dataclasses
import re
from pathlib import Path

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


def test_fit_checks_the_data_once_before_the_first_step():
    seen = []

    class Checked(Tiny):
        def check_data(self, data):
            seen.append(tuple(data[0].shape))
            if not torch.isfinite(data[1]).all():
                raise ValueError("targets must be finite")

    torch.manual_seed(0)
    gm.train.fit(Checked(), _data(), epochs=3, batch_size=32, val_data=_data(64), device="cpu", progress=False)
    assert seen == [(256, 3), (64, 3)]          # train, then val: once each, not per step
    x, y = _data()
    y[5] = float("nan")
    model = Checked()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="targets must be finite"):
        gm.train.fit(model, (x, y), epochs=1, batch_size=32, device="cpu", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


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


# ---- the step cap, the caller's RNG, block read-back, the cache key (issues 18 and 19) ----

def test_fit_leaves_the_callers_global_rng_alone(tmp_path):
    for checkpoint in (None, tmp_path / "r.pt", tmp_path / "r.pt"):  # fresh, then a run loaded from its checkpoint
        model = _model()
        torch.manual_seed(1234)
        expected = torch.randn(4)
        torch.manual_seed(1234)
        gm.train.fit(model, _data(), epochs=1, batch_size=64, device="cpu", seed=7, checkpoint=checkpoint)
        assert torch.equal(torch.randn(4), expected)


def test_same_seed_same_run_whatever_ran_before():
    torch.manual_seed(0)
    a = Tiny()
    torch.manual_seed(0)
    b = Tiny()
    ha = gm.train.fit(a, _data(), epochs=2, batch_size=32, device="cpu", seed=3)
    torch.randn(100)  # the caller drew something in between: dropout inside fit must not see it
    hb = gm.train.fit(b, _data(), epochs=2, batch_size=32, device="cpu", seed=3)
    assert ha["loss"].tolist() == hb["loss"].tolist()


def test_step_cap_stops_fit_runs_every_callback_and_is_cached_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    seen = []
    cb = gm.train.every(3, lambda model, epoch: seen.append(epoch) or {"grid": epoch})
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "10")  # 8 steps per epoch: stops 2 steps into epoch 2
    h = gm.train.fit(_model(), _data(), epochs=4, batch_size=32, device="cpu", name="cap", callbacks=[cb])
    assert len(h["loss"]) == 10 and [e["epoch"] for e in h.epochs] == [1, 2] and h.max_steps == 10
    assert seen == [2] and h.epoch("grid").tolist() == [2]  # every(3) still ran on the last epoch the cap allowed
    assert h.epochs[-1]["mean_loss"] == pytest.approx(float(h["loss"][8:].mean()))  # mean over the 2 steps run
    again = gm.train.fit(_model(), _data(), epochs=4, batch_size=32, device="cpu", name="cap", callbacks=[cb])
    assert not again.trained_now and again.checkpoint == h.checkpoint  # a capped run is complete as it stands
    monkeypatch.delenv("GENMODELS_MAX_STEPS")
    full = gm.train.fit(_model(), _data(), epochs=4, batch_size=32, device="cpu", name="cap", callbacks=[cb])
    assert full.trained_now and full.checkpoint != h.checkpoint and len(full["loss"]) == 32
    assert full.max_steps is None and seen[-1:] == [3]
    gm.train.fit(_model(), _data(), epochs=1, batch_size=32, device="cpu", checkpoint=tmp_path / "x.pt")
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "2")
    with pytest.raises(CheckpointMismatchError, match="max_steps"):  # an explicit checkpoint of a whole run
        gm.train.fit(_model(), _data(), epochs=2, batch_size=32, device="cpu", checkpoint=tmp_path / "x.pt")


def test_bad_step_cap_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("GENMODELS_MAX_STEPS", "two")
    with pytest.raises(ValueError, match="GENMODELS_MAX_STEPS='two'.*positive integer"):
        gm.train.fit(_model(), _data(), epochs=1, device="cpu")


class Counting(Tiny):
    """Records the step number next to the loss, to check the order of block read-back."""

    def __init__(self):
        super().__init__()
        self.register_buffer("count", torch.zeros(()))

    def loss(self, batch):
        out = super().loss(batch)
        self.count += 1  # a buffer updated in place: the recorded value must be the one of its own step
        return {**out, "count": self.count, "plain": 1.5}


def test_values_are_read_back_in_blocks_in_order(monkeypatch):
    flushes = []
    real = gm.history.Recorder.flush
    monkeypatch.setattr(gm.history.Recorder, "flush", lambda self: flushes.append(len(self.pending)) or real(self))
    h = gm.train.fit(Counting(), _data(), epochs=2, batch_size=2, device="cpu")  # 128 steps per epoch
    assert flushes == [50, 50, 28, 50, 50, 28]
    assert h["count"].tolist() == list(range(1, 257)) and set(h["plain"]) == {1.5}
    assert h.epoch("mean_count").tolist() == [64.5, 192.5]


def test_nan_after_the_first_block_names_its_step():
    x, y = _data()
    order = torch.randperm(256, generator=torch.Generator().manual_seed(0))
    y[order[2 * 59]] = float("inf")  # first example of step 60 with batches of 2
    with pytest.raises(NonFiniteLossError, match=r"loss = inf at epoch 1, step 60 \(batch 60 of 128\)"):
        gm.train.fit(_model(), (x, y), epochs=1, batch_size=2, device="cpu", seed=0)


def test_training_step_must_return_scalars():
    class Wide(Tiny):
        def loss(self, batch):
            return {**super().loss(batch), "per_example": batch[1]}

    with pytest.raises(ValueError, match="scalar tensors; 'per_example' has shape"):
        gm.train.fit(Wide(), _data(), epochs=1, batch_size=32, device="cpu")


def test_bf16_autocast_flag_and_unknown_precision(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    seen = []

    class Probe(Tiny):
        def loss(self, batch):
            seen.append(self.net[0](batch[0]).dtype)
            return super().loss(batch)

    h32 = gm.train.fit(Probe(), _data(), epochs=1, batch_size=128, device="cpu", name="p")
    h16 = gm.train.fit(Probe(), _data(), epochs=1, batch_size=128, device="cpu", name="p", precision="bf16")
    assert seen == [torch.float32] * 2 + [torch.bfloat16] * 2 and h16.checkpoint != h32.checkpoint
    with pytest.raises(ValueError, match="fp32, bf16"):
        gm.train.fit(_model(), _data(), epochs=1, device="cpu", precision="fp16")


def _slope(model):
    return float(model.net(torch.eye(3)).detach().squeeze(1).sub(model.net(torch.zeros(1, 3))[0].detach()).sum())


def test_cache_key_covers_the_datas_content(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    x = torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
    a, b = _model(), _model()
    gm.train.fit(a, (x, x.sum(1) * 3), epochs=30, batch_size=32, device="cpu", name="demo")
    h = gm.train.fit(b, (x, x.sum(1) * -5), epochs=30, batch_size=32, device="cpu", name="demo")
    assert h.trained_now and _slope(b) < -8 < 4 < _slope(a)  # sum of the 3 slopes: -15 and 9
    fp = gm.train.data_fingerprint
    assert fp(x) == fp(x.clone()) and fp(x) != fp(x[torch.randperm(256)]) and fp(x).startswith("float32[256,3]#")
    big = torch.randn(10_000, 3, generator=torch.Generator().manual_seed(1))
    changed = big.clone()
    changed[-1, -1] += 1  # an element the strided sample skips: the sums see it
    assert fp(changed) != fp(big) and fp(x.double()) != fp(x)


def test_cache_key_covers_the_callbacks(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path))
    grid = lambda model, epoch: {"grid": epoch}  # noqa: E731
    other = lambda model, epoch: {"grid": -epoch}  # noqa: E731
    h0 = gm.train.fit(_model(), _data(), epochs=2, batch_size=64, device="cpu", name="cb")
    h1 = gm.train.fit(_model(), _data(), epochs=2, batch_size=64, device="cpu", name="cb", callbacks=[grid])
    assert h1.trained_now and h1.checkpoint != h0.checkpoint and h1.epoch("grid").tolist() == [1, 2]
    h2 = gm.train.fit(_model(), _data(), epochs=2, batch_size=64, device="cpu", name="cb", callbacks=[other])
    assert h2.trained_now and h2.checkpoint != h1.checkpoint  # another body, another run
    h3 = gm.train.fit(_model(), _data(), epochs=2, batch_size=64, device="cpu", name="cb",
                      callbacks=[gm.train.every(2, grid)])
    assert h3.trained_now and len({h0.checkpoint, h1.checkpoint, h2.checkpoint, h3.checkpoint}) == 4
    assert re.fullmatch(r"every\(2, (tests\.)?test_train\.test_cache_key_covers_the_callbacks\.<locals>\.<lambda>#\w{8}\)",
                        gm.train.callback_key(gm.train.every(2, grid)))
    assert gm.train.callback_key(grid) == gm.train.callback_key(lambda model, epoch: {"grid": epoch})


MODEL_SOURCE = '''
import dataclasses, torch
import genmodels as gm

@dataclasses.dataclass
class C:
    lr: float = 1e-2

class Lin(gm.train.Model):
    def __init__(self):
        super().__init__()
        self.config = C()
        self.net = torch.nn.Linear(3, 1)

    def loss(self, batch):
        x, y = batch
        return {"loss": (self.net(x).squeeze(1) - y).pow(2).mean()}
'''


def test_a_checkpoint_of_other_code_is_retrained_or_refused(tmp_path, monkeypatch, capsys):
    import importlib
    import sys

    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "mod_fp.py").write_text(MODEL_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("mod_fp")
    first = gm.train.fit(module.Lin(), _data(), epochs=1, device="cpu", name="lin")
    gm.train.fit(module.Lin(), _data(), epochs=1, device="cpu", checkpoint=tmp_path / "lin.pt")
    old = gm.train.code_fingerprint(module.Lin())
    assert not gm.train.fit(module.Lin(), _data(), epochs=1, device="cpu", name="lin").trained_now
    (tmp_path / "mod_fp.py").write_text(MODEL_SOURCE.replace("- y).pow(2)", "- 2 * y).pow(2)"))
    importlib.invalidate_caches()
    module = importlib.reload(sys.modules["mod_fp"])
    assert gm.train.code_fingerprint(module.Lin()) != old
    capsys.readouterr()
    again = gm.train.fit(module.Lin(), _data(), epochs=1, device="cpu", name="lin")
    assert again.trained_now and again.checkpoint == first.checkpoint
    assert "another version of the code of Lin" in capsys.readouterr().err
    with pytest.raises(CheckpointMismatchError, match="another version of the code.*retrain=True"):
        gm.train.fit(module.Lin(), _data(), epochs=2, device="cpu", checkpoint=tmp_path / "lin.pt")
    with pytest.raises(CheckpointMismatchError, match="check_code=False"):
        gm.train.load(module.Lin(), tmp_path / "lin.pt")
    assert len(gm.train.load(module.Lin(), tmp_path / "lin.pt", check_code=False).epochs) == 1
    holder = module.Lin()  # a model's fingerprint covers the modules of its parts (nets.py here)
    holder.part = gm.nets.ConvEncoder(2)
    assert gm.train.code_fingerprint(holder) != gm.train.code_fingerprint(module.Lin())


def test_evaluate_weights_a_partial_last_batch():
    class Mean(Tiny):
        def validation_step(self, batch):
            return {"m": batch[0].mean()}

    x = torch.arange(10.0).view(5, 2)
    assert gm.train.evaluate(Mean(), (x, x[:, 0]), batch_size=2)["m"] == pytest.approx(4.5)  # not the batch mean 5.33


def test_batches_draw_the_permutation_with_the_generator():
    x = torch.arange(10)
    got = torch.cat(list(gm.train.batches(x, 4, torch.Generator().manual_seed(3))))
    assert torch.equal(got, torch.randperm(10, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(torch.cat(list(gm.train.batches(x, 4))), x)


def test_an_interrupted_save_leaves_the_last_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "a.pt"
    gm.train.fit(_model(), _data(), epochs=1, batch_size=64, device="cpu", checkpoint=path)

    def dies_half_way(obj, f):
        Path(f).write_bytes(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(gm.checkpoint.torch, "save", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        gm.train.fit(_model(), _data(), epochs=1, batch_size=64, device="cpu", checkpoint=path, retrain=True)
    monkeypatch.undo()
    assert len(gm.train.load(_model(), path).epochs) == 1
