"""The explorers: a static companion for the built book, a live widget for a kernel."""
from unittest import mock

import matplotlib
import numpy as np
import torch

import genmodels as gm


def _decode(z):
    """(N, 3) codes → (N, 1, 4, 4) images whose brightness is sigmoid(z1 + 2 z2), z3 ignored."""
    return torch.sigmoid(z[:, 0] + 2 * z[:, 1])[:, None, None, None].expand(-1, 1, 4, 4)


def _image_arrays(fig):
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def test_latent_sweep_varies_one_coordinate_per_row_over_the_slider_range():
    fig = gm.widgets.latent_sweep(_decode, torch.zeros(3), n=3, limit=2.0, columns=5)
    cells = np.array([float(a.mean()) for a in _image_arrays(fig)]).reshape(3, 5)
    values = np.linspace(-2, 2, 5)
    assert np.allclose(cells[0], 1 / (1 + np.exp(-values)), atol=1e-6)
    assert np.allclose(cells[1], 1 / (1 + np.exp(-2 * values)), atol=1e-6)
    assert np.allclose(cells[2], 0.5)  # the decoder ignores z3: a flat row


def test_explorers_display_their_static_companion_first():
    shown = []
    with mock.patch.object(gm.widgets, "display", side_effect=shown.append):
        widget = gm.widgets.latent_explorer(_decode, 3, limit=1.0, start=torch.tensor([0.5, 0.0, 0.0]))
    assert isinstance(shown[0], matplotlib.figure.Figure) and len(_image_arrays(shown[0])) == 3 * 7
    shown.clear()
    with mock.patch.object(gm.widgets, "display", side_effect=shown.append):
        gm.widgets.interpolation(_decode, torch.zeros(3), torch.tensor([1.0, 0.0, 0.0]), steps=4)
    strip = [float(a.mean()) for a in _image_arrays(shown[0])]
    assert np.allclose(strip, 1 / (1 + np.exp(-np.linspace(0, 1, 4))), atol=1e-6)
    assert widget.children  # still a live widget for a kernel
