"""Tests of gm.nets' shared building blocks (the U-Net gate is tested in tests/test_unet.py): the MLP's layers
against a hand-written forward pass, parameter counts by hand, the conv encoder/decoder geometry."""
import pytest
import torch
from torch import nn

import genmodels as gm


def test_mlp_is_linear_relu_linear_by_hand():
    net = gm.nets.mlp([3, 4, 2], out_activation=nn.Sigmoid())
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    (w1, b1), (w2, b2) = [(m.weight, m.bias) for m in net if isinstance(m, nn.Linear)]
    ref = torch.sigmoid(torch.relu(x @ w1.T + b1) @ w2.T + b2)
    assert torch.allclose(net(x), ref)
    assert sum(isinstance(m, nn.ReLU) for m in gm.nets.mlp([3, 4, 5, 2])) == 2       # between layers, not after
    with pytest.raises(ValueError, match="at least"):
        gm.nets.mlp([3])


def test_count_parameters_by_hand_and_frozen_parameters_excluded():
    net = gm.nets.mlp([3, 4, 2])
    assert gm.nets.count_parameters(net) == (3 * 4 + 4) + (4 * 2 + 2)
    net[0].weight.requires_grad_(False)
    assert gm.nets.count_parameters(net) == 4 + 4 * 2 + 2


@pytest.mark.parametrize("size", [28, 64])
def test_conv_encoder_and_decoder_geometry(size):
    enc, dec = gm.nets.ConvEncoder(5, 3, size, width=4), gm.nets.ConvDecoder(5, 3, size, width=4)
    x = torch.rand(2, 3, size, size)
    assert enc(x).shape == (2, 5)
    assert dec(torch.zeros(2, 5)).shape == (2, 3, size, size)
    sig = gm.nets.ConvDecoder(5, 3, size, width=4, out_activation=nn.Sigmoid())
    sig.load_state_dict(dec.state_dict())
    z = torch.randn(2, 5, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(sig(z), torch.sigmoid(dec(z)))
    with pytest.raises(ValueError, match="latents"):
        dec(torch.zeros(2, 4))
