"""Part 4, gm.lowlight.ablation: the paper's configuration and the book's additions one at a time, and dark_level
against a NumPy reference (chapters/04_lowlight_enhancement/04_experiments.ipynb)."""
import dataclasses

import numpy as np
import pytest
import torch

import genmodels as gm

L = gm.lowlight


def _fields(cfg):
    return {f: getattr(cfg, f) for f in L.ADDITIONS.values()}


def test_paper_row_drops_all_four_additions_and_book_row_keeps_them():
    rows = L.ablation_settings()
    book = L.EnhancerConfig()
    assert list(rows) == ["paper", *(f"paper + {a}" for a in L.ADDITIONS), "book (all four)"]
    paper = L.EnhancerConfig(**rows["paper"])
    assert _fields(paper) == {"a_min": 0.0, "denoise": False, "eta": 0.0, "beta": 0.0}
    assert L.EnhancerConfig(**rows["book (all four)"]) == book
    assert _fields(book) != _fields(paper)     # each addition is on in the book's model
    assert all(getattr(book, f) != getattr(paper, f) for f in L.ADDITIONS.values())


@pytest.mark.parametrize("addition", list(L.ADDITIONS))
def test_each_row_adds_exactly_one_field_at_the_books_value(addition):
    field = L.ADDITIONS[addition]
    cfg = L.EnhancerConfig(**L.ablation_settings()[f"paper + {addition}"])
    paper = L.EnhancerConfig(**L.PAPER_SETTINGS)
    changed = {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(paper, f.name)}
    assert changed == {field}
    assert getattr(cfg, field) == getattr(L.EnhancerConfig(), field)


def test_paper_model_has_no_floor_and_no_blend():
    torch.manual_seed(0)
    model = L.EnhancerGAN(L.EnhancerConfig(width=4, d_width=4, **L.PAPER_SETTINGS), phi=L.OrientedEnergy())
    with torch.no_grad():
        model.G.head.bias[0] = -8.0                      # brightening logit far negative: a → a_min
    parts = model.maps(torch.rand(2, 3, 32, 32))
    assert parts["a"].max() < 0.01                       # the book's floor would keep it ≥ 0.3
    assert torch.equal(parts["w"], torch.zeros_like(parts["w"]))


def _dark_level_reference(low, images, frac, block):
    def blocks(rgb):                                     # BT.601 gray, then the means of whole block×block blocks
        g = np.tensordot([0.299, 0.587, 0.114], rgb, axes=1)
        h, w = g.shape[0] // block, g.shape[1] // block
        return g[:h * block, :w * block].reshape(h, block, w, block).mean((1, 3)).ravel()

    out = []
    for lo, im in zip(low.numpy(), images.numpy()):
        b_lo, b_im = blocks(lo), blocks(im)
        k = max(1, round(frac * b_lo.size))
        out.append(b_im[np.argsort(b_lo)[:k]].mean())
    return np.array(out)


@pytest.mark.parametrize("frac,block", [(0.1, 8), (0.25, 4), (1.0, 8)])
def test_dark_level_matches_a_numpy_reference(frac, block):
    g = torch.Generator().manual_seed(1)
    low = torch.rand(3, 3, 40, 48, generator=g, dtype=torch.float64) * 0.2
    images = torch.rand(3, 3, 40, 48, generator=g, dtype=torch.float64)
    got = L.dark_level(low, images, frac, block)
    np.testing.assert_allclose(got.numpy(), _dark_level_reference(low, images, frac, block), rtol=1e-10)


def test_dark_level_reads_the_blocks_that_were_dark_in_low():
    low = torch.full((1, 3, 16, 16), 0.5)
    low[..., :8, :8] = 0.01                              # one dark block of four
    images = torch.zeros(1, 3, 16, 16)
    images[..., :8, :8] = 0.7
    assert L.dark_level(low, images, frac=0.25).item() == pytest.approx(0.7)
    assert L.dark_level(low, low, frac=0.25).item() == pytest.approx(0.01)


@pytest.mark.parametrize("kwargs,message", [
    ({"images": torch.rand(2, 3, 16, 8)}, "must have the shape"),
    ({"frac": 0.0}, r"in \(0, 1\]"),
    ({"frac": 1.5}, r"in \(0, 1\]"),
    ({"block": 32}, "no 32×32 block"),
])
def test_dark_level_refuses_bad_input(kwargs, message):
    args = {"low": torch.rand(2, 3, 16, 16), "images": torch.rand(2, 3, 16, 16), **kwargs}
    with pytest.raises(ValueError, match=message):
        L.dark_level(**args)
