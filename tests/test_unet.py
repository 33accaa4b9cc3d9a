"""gm.nets.UNet (with its attention gate) and gm.nets.PatchDiscriminator: shapes, errors and values by hand."""
import pytest
import torch
import torch.nn.functional as F

import genmodels as gm


@pytest.mark.parametrize("size", [(32, 32), (48, 64), (64, 40)])
@pytest.mark.parametrize("upsample", ["bilinear", "transpose"])
def test_unet_shapes(size, upsample):
    net = gm.nets.UNet(4, 3, width=4, depth=3, upsample=upsample)
    x = torch.rand(2, 4, *size)
    assert net(x).shape == (2, 3, *size)
    assert net(x, gate=torch.rand(2, 1, *size)).shape == (2, 3, *size)


def test_unet_and_patchgan_refuse_bad_sizes():
    net = gm.nets.UNet(3, 3, width=4, depth=3)
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 3, 50, 64))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3"):
        net(torch.rand(1, 4, 64, 64))
    with pytest.raises(ValueError, match="gate must have shape"):
        net(torch.rand(1, 3, 64, 64), gate=torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="upsample must be"):
        gm.nets.UNet(3, 3, upsample="pixelshuffle")
    d = gm.nets.PatchDiscriminator(3, width=8, layers=3)
    assert d(torch.rand(2, 3, 48, 64)).shape == (2, 1, 6, 8)
    with pytest.raises(ValueError, match="multiples of 8"):
        d(torch.rand(2, 3, 44, 64))


def _by_hand(net, x, gate):
    """A depth-2 U-Net's forward pass written out level by level, the gate average-pooled to each level."""
    def g(h):
        k = x.shape[2] // h.shape[2]
        return h * (F.avg_pool2d(gate, k) if k > 1 else gate)

    e0 = g(net.down[0](x))
    e1 = g(net.down[1](F.max_pool2d(e0, 2)))
    b = g(net.bottom(F.max_pool2d(e1, 2)))
    d1 = g(net.merge[0](torch.cat([net.up[0](b), e1], 1)))
    d0 = g(net.merge[1](torch.cat([net.up[1](d1), e0], 1)))
    return net.head(d0)


@pytest.mark.parametrize("upsample", ["bilinear", "nearest", "transpose"])
def test_unet_gate_multiplies_every_level(upsample):
    torch.manual_seed(0)
    net = gm.nets.UNet(3, 2, width=4, depth=2, norm=False, upsample=upsample)
    x = torch.rand(2, 3, 16, 24)
    gate = 0.5 + 0.5 * torch.rand(2, 1, 16, 24)
    with torch.no_grad():
        got = net(x, gate=gate)
        assert torch.allclose(got, _by_hand(net, x, gate), atol=1e-6)
        assert torch.allclose(net(x, gate=torch.ones_like(gate)), net(x), atol=1e-6)   # a gate of ones is no gate
        assert not torch.allclose(net(x, gate=0 * gate), got, atol=1e-3)              # the gate is used
        # a gate of zeros leaves only the biases: the output no longer depends on the image
        assert torch.allclose(net(x, gate=0 * gate), net(torch.rand_like(x), gate=0 * gate), atol=1e-6)


def test_unet_blocks_have_batch_norm_only_when_asked():
    count = lambda net: sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())  # noqa: E731
    assert count(gm.nets.UNet(3, 3, width=4, depth=2, norm=False)) == 0
    assert count(gm.nets.UNet(3, 3, width=4, depth=2, norm=True)) == 2 * (2 + 1 + 2)   # two per block, 5 blocks


def test_patch_discriminator_is_the_stated_stack_of_convolutions():
    torch.manual_seed(0)
    d = gm.nets.PatchDiscriminator(3, width=4, layers=2)
    x = torch.rand(1, 3, 16, 16)
    convs = [m for m in d.body if isinstance(m, torch.nn.Conv2d)]
    h = F.leaky_relu(F.conv2d(x, convs[0].weight, convs[0].bias, stride=2, padding=1), 0.2)
    h = F.leaky_relu(F.conv2d(h, convs[1].weight, convs[1].bias, stride=2, padding=1), 0.2)
    ref = F.conv2d(h, convs[2].weight, convs[2].bias, padding=1)
    assert [c.out_channels for c in convs] == [4, 8, 1]
    assert torch.allclose(d(x), ref, atol=1e-6)
