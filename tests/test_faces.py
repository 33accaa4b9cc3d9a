"""Tests of gm.data.faces and the HOG feature space of gm.metrics (against scikit-image)."""
import numpy as np
import pytest
import torch
from skimage.data import lfw_subset
from skimage.feature import hog

import genmodels as gm
from genmodels.data.base import DataFolderError


def test_lfw_is_the_first_hundred_crops_resized():
    faces = gm.data.faces.lfw(size=25)
    assert faces.x.shape == (100, 1, 25, 25) and faces.y is None
    assert np.allclose(faces.x[:, 0].numpy(), lfw_subset()[:100], atol=1e-6)
    big = gm.data.faces.lfw()
    assert big.x.shape == (100, 1, 28, 28) and 0 <= big.x.min() and big.x.max() <= 1
    assert gm.data.faces.lfw_nonfaces().x.shape == (100, 1, 28, 28)


def test_celeba_folder_missing_or_empty_says_what_is_expected(tmp_path):
    with pytest.raises(DataFolderError, match="img_align_celeba"):
        gm.data.faces.celeba(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(DataFolderError, match="no .jpg or .png"):
        gm.data.faces.celeba(tmp_path / "empty")


def test_celeba_folder_is_cropped_and_resized(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(folder / f"{i:06d}.png")
    faces = gm.data.faces.celeba(tmp_path / "celeba", size=64, limit=2)
    assert faces.x.shape == (2, 3, 64, 64) and faces.x.dtype == torch.float32
    assert gm.data.faces.celeba(tmp_path / "celeba", size=32, grey=True).x.shape == (3, 1, 32, 32)
    assert gm.data.faces.load("auto", root=tmp_path / "celeba").x.shape[1:] == (3, 64, 64)


@pytest.mark.parametrize("shape, cell, orientations", [((5, 1, 28, 28), 9, 9), ((4, 1, 30, 37), 6, 7)])
def test_hog_features_match_scikit_image(shape, cell, orientations):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    ours = gm.metrics.hog_features(x, cell, orientations).numpy()
    ref = np.stack([hog(im[0].numpy().astype(np.float64), orientations=orientations, pixels_per_cell=(cell, cell),
                        cells_per_block=(1, 1), block_norm="L2") for im in x])
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-5


def test_hog_frechet_tells_faces_from_background():
    faces, other = gm.data.faces.lfw().x, gm.data.faces.lfw_nonfaces().x
    mirrored = gm.metrics.hog_frechet(faces, faces.flip(-1))
    assert gm.metrics.hog_frechet(faces, faces) == pytest.approx(0.0, abs=1e-6)
    assert mirrored < 0.5 * gm.metrics.hog_frechet(faces, other)
    with pytest.raises(ValueError, match="shapes differ"):
        gm.metrics.hog_frechet(faces, gm.data.faces.lfw(size=32).x)


def test_celeba_keeps_the_centre_square(tmp_path, monkeypatch):
    """The kept square is the centre one: a white CELEBA_CROP² centre on black comes out white everywhere."""
    from PIL import Image

    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    h, w, s = 218, 178, gm.data.faces.CELEBA_CROP
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s] = 255
    Image.fromarray(img).save(folder / "000001.png")
    x = gm.data.faces.celeba(tmp_path / "celeba", size=32).x
    assert x.min() > 0.99, f"the crop kept {int((x < 0.99).sum())} dark values: it is not the centre square"
