r"""Low-light and normal-light photographs for Part 4.

Offline default: eight real colour photographs that ship inside installed packages (scikit-image,
scikit-learn, matplotlib), darkened by a documented physical camera model (:func:`darken`):

1. undo the display gamma, :math:`x_{lin} = x^{2.2}`;
2. multiply by an illumination field :math:`L(u)` (exposure times a smooth, spatially varying field,
   optionally plus a light source, so some regions stay bright or saturate);
3. count photons: :math:`\mathrm{Poisson}(k\,x_{lin}L)/k` with full-well ``peak`` k, add Gaussian read
   noise σ_r, and saturate at 1 (a real sensor cannot record more than full well);
4. re-apply the display gamma :math:`(\cdot)^{1/2.2}`.

Because we darken normal photographs ourselves, the held-out test images have ground truth, so
PSNR/SSIM can be reported beside the no-reference NIQE. Training is unpaired: low-light crops and
normal-light crops come from *different halves* of the training photographs, never the same pixels.
By default both domains' colour channels are shuffled per crop (:func:`shuffle_channels`), so that the
discriminator cannot learn the colour balance of five photographs; a reader's real photographs are not shuffled.

Real data, when the reader has it (``gm.runtime.data_dir()/"lowlight"`` or a path they pass):
EnlightenGAN's unpaired set (``trainA/`` low, ``trainB/`` normal), LOL (``our485/low``, ``our485/high``,
``eval15/...``) and the LIME/NPE/MEF/DICM test folders (plain folders of images): :func:`load_folder`.

Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import runtime
from .base import DataFolderError, Images, centre_crop, check_images, require_folder, resize_short_side

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

TRAIN_PHOTOS = ("chelsea", "coffee", "grace_hopper", "motorcycle", "flower")
TEST_PHOTOS = ("astronaut", "rocket", "china")


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it (importing all three costs seconds)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataFolderError(f"the shipped photographs need the package {name!r}; pip install it")
    return Path(list(spec.submodule_search_locations)[0])


def _photo_files() -> dict[str, Path]:
    sk = _package_dir("skimage") / "data"
    sl = _package_dir("sklearn") / "datasets" / "images"
    return {
        "astronaut": sk / "astronaut.png",
        "chelsea": sk / "chelsea.png",
        "coffee": sk / "coffee.png",
        "rocket": sk / "rocket.jpg",
        "motorcycle": sk / "motorcycle_left.png",
        "china": sl / "china.jpg",
        "flower": sl / "flower.jpg",
        "grace_hopper": _package_dir("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg",
    }


def read_image(path: Path) -> Tensor:
    """An image file as a (3, H, W) float32 tensor in [0, 1] (gray files are repeated to RGB).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    from PIL import Image

    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _read(f: Path, short_side: int | None) -> Tensor:
    """The image file f (3, H, W) in [0, 1], resized to ``short_side`` when given."""
    x = read_image(f)
    return x if short_side is None else resize_short_side(x, short_side)


def photo(name: str, short_side: int | None = None) -> Tensor:
    """One shipped photograph (3, H, W) in [0, 1], optionally resized so its short side is ``short_side``.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    files = _photo_files()
    if name not in files:
        raise ValueError(f"no shipped photograph {name!r}; available: {sorted(files)}")
    return _read(files[name], short_side)


# --------------------------------------------------------------------------------------------------
# The physical darkening model
# --------------------------------------------------------------------------------------------------


def illumination(kind: str, n: int, h: int, w: int, exposure: Tensor | float = 0.1,
                 generator: torch.Generator | None = None) -> Tensor:
    r"""Illumination fields :math:`L` (n, 1, h, w) ≥ 0, scaled by ``exposure`` (a float or (n,) tensor).

    kind: ``"uniform"`` (L = exposure); ``"sky"`` (a vertical ramp 0.25 + 0.75·min(y/0.6, 1), y from 0 at
    the top row to 1 at the bottom: a quarter of the light on the top row, full light from 60 % of the way
    down, like a dark sky over a lit scene); ``"lamp"`` (uniform dim light plus a Gaussian light source of
    peak 1.5, radius h/6, at a random place: bright pixels near it saturate); ``"random"`` (a smooth
    random field: bilinear upsampling of a 4×4 grid of log-uniform gains in [1/4, 2]).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    g = generator
    e = torch.as_tensor(exposure, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(n, 1, 1, 1)
    yy = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xx = torch.linspace(0, 1, w).view(1, 1, 1, w)
    if kind == "uniform":
        field = torch.ones(n, 1, h, w)
    elif kind == "sky":
        field = (0.25 + 0.75 * (yy / 0.6).clamp(max=1.0)).expand(n, 1, h, w)
    elif kind == "lamp":
        cy, cx = runtime.rand(2, n, 1, 1, 1, generator=g, device="cpu") * 0.6 + 0.2
        r = 1 / 6
        blob = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2 * (w / h) ** 2) / (2 * r**2))
        return e + 1.5 * blob
    elif kind == "random":
        grid = torch.exp(torch.empty(n, 1, 4, 4).uniform_(math.log(0.25), math.log(2.0), generator=g))
        field = F.interpolate(grid, size=(h, w), mode="bilinear", align_corners=True)
    else:
        raise ValueError(f"illumination kind must be 'uniform', 'sky', 'lamp' or 'random'; got {kind!r}")
    return e * field


def darken(x: Tensor, light: Tensor, peak: float | Tensor = 400.0, read_noise: float | Tensor = 0.004,
           gamma: float = 2.2, generator: torch.Generator | None = None) -> Tensor:
    r"""Render normal-light images x (N, C, H, W) in [0, 1] as taken under illumination ``light`` (N, 1, H, W).

    :math:`y = \min\!\big(1, \mathrm{Poisson}(k\,x^{\gamma} L)/k + \sigma_r\,\varepsilon\big)_+^{1/\gamma}`
    with k = ``peak`` photo-electrons at full well and ε ~ N(0, 1); ``peak`` and ``read_noise`` are numbers or
    one value per image, (N,). The result is in [0, 1]: the lower
    bound is the sensor's black level, the upper its saturation (both part of the model, not a repair).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    check_images(x, "darken: x")
    if light.ndim != 4 or light.shape[1] != 1 or light.shape[0] != x.shape[0] or light.shape[2:] != x.shape[2:]:
        raise ValueError(f"darken: light must have shape {(x.shape[0], 1, *x.shape[2:])}; got {tuple(light.shape)}")
    peak = torch.as_tensor(peak, dtype=torch.float64).reshape(-1, 1, 1, 1)
    read_noise = torch.as_tensor(read_noise, dtype=torch.float32).reshape(-1, 1, 1, 1)
    if (light < 0).any() or (peak <= 0).any() or (read_noise < 0).any():
        raise ValueError("darken: need light ≥ 0, peak > 0 and read_noise ≥ 0")
    signal = x.pow(gamma) * light
    # NumPy's Poisson sampler is ~10× faster than torch's on the CPU; it is seeded from ``generator``. The draws
    # are made on the CPU in float32 whatever x is, so a seed gives the same image on every device and dtype.
    rng = np.random.default_rng(int(runtime.randint(0, 2**62, (1,), generator=generator)))
    lam = (peak * signal.detach().cpu().double()).numpy()
    electrons = torch.from_numpy((rng.poisson(lam) / peak.numpy()).astype(np.float32))
    noisy = electrons + read_noise * runtime.randn(*x.shape, generator=generator, device="cpu")
    return noisy.to(device=x.device, dtype=x.dtype).clamp(0.0, 1.0).pow(1.0 / gamma)


# --------------------------------------------------------------------------------------------------
# Offline data sets
# --------------------------------------------------------------------------------------------------


def _crops_of(img: Tensor, m: int, size: int, g: torch.Generator) -> Tensor:
    """m random size×size crops (m, 3, size, size) of one image (3, H, W), each flipped horizontally with p = ½."""
    h, w = img.shape[1:]
    if h < size or w < size:
        raise ValueError(f"crop size {size} is larger than a source image {tuple(img.shape[1:])}")
    top = runtime.randint(0, h - size + 1, (m,), generator=g, device="cpu")
    left = runtime.randint(0, w - size + 1, (m,), generator=g, device="cpu")
    rows = (top[:, None] + torch.arange(size))[:, :, None]
    cols = (left[:, None] + torch.arange(size))[:, None, :]
    crops = img[:, rows, cols].permute(1, 0, 2, 3)  # (m, 3, size, size)
    flip = runtime.rand(m, generator=g, device="cpu") < 0.5
    crops[flip] = crops[flip].flip(-1)
    return crops


def _random_crops(images: list, n: int, size: int, g: torch.Generator, read=lambda img: img) -> Tensor:
    """n random size×size crops (n, 3, size, size), with random horizontal flips, from a list of images (or of
    files, with ``read`` turning one into a (3, H, W) image): each source is read once, when its crops are cut,
    so a folder of files is never held in memory whole."""
    which = runtime.randint(0, len(images), (n,), generator=g, device="cpu")
    out = torch.empty(n, 3, size, size)
    for k, img in enumerate(images):  # a loop over the source images, not over samples
        idx = (which == k).nonzero().squeeze(1)
        if len(idx):
            out[idx] = _crops_of(read(img), len(idx), size, g)
    return out


def _halves(short_side: int, size: int) -> tuple[list[Tensor], list[Tensor], list[str]]:
    """Each training photograph split down the middle of its long side: one half for each domain.

    A photograph whose halves would be narrower than ``size`` at ``short_side`` is resized so that they are
    exactly ``size`` wide; the names of those enlarged beyond their native resolution are returned too.
    """
    low, normal, enlarged = [], [], []
    for i, name in enumerate(TRAIN_PHOTOS):
        x = photo(name, short_side)
        short, long = sorted(x.shape[1:])
        if min(short, long // 2) < size:  # the half's narrow side must hold a crop
            native = min(photo(name).shape[1:])
            x = photo(name, math.ceil(size * short / min(short, long // 2)))
            if min(x.shape[1:]) > native:
                enlarged.append(f"{name} ×{min(x.shape[1:]) / native:.2f}")
        axis = 2 if x.shape[2] >= x.shape[1] else 1
        a, b = x.chunk(2, dim=axis)
        (low if i % 2 == 0 else normal).append(a)
        (normal if i % 2 == 0 else low).append(b)
    return low, normal, enlarged


FULL_WELL = (1000.0, 10000.0)
"""Range of the training images' full well (electrons), log-uniform; phone sensors hold a few thousand."""
TEST_FULL_WELL = 3000.0
"""Full well of the held-out test images."""
TEST_READ_NOISE = 0.004
"""Read noise of the held-out test images (inside the training range)."""
NOISIER_SENSOR = {"full_well": 500.0, "read_noise": 0.012}
"""A second degradation model for :func:`test_pairs`, outside the training ranges (:data:`FULL_WELL` 1,000–10,000
electrons, read noise 0.002–0.006): a small sensor's full well and twice the largest read noise seen in training."""


def low_light(x: Tensor, generator: torch.Generator, exposure: tuple[float, float] = (0.04, 0.15)) -> Tensor:
    """Darken images x (N, 3, H, W) with random conditions, drawn per image: a quarter each uniform, sky, lamp and
    random fields, exposure log-uniform in ``exposure``, full well log-uniform in :data:`FULL_WELL`, read noise
    uniform in [0.002, 0.006].

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    n, _, h, w = x.shape
    g = generator
    e = torch.exp(torch.empty(n).uniform_(math.log(exposure[0]), math.log(exposure[1]), generator=g))
    kinds = ("uniform", "sky", "lamp", "random")
    which = runtime.randint(0, len(kinds), (n,), generator=g, device="cpu")
    light = torch.empty(n, 1, h, w)
    for k, kind in enumerate(kinds):  # four illumination kinds, each applied to its whole group at once
        idx = (which == k).nonzero().squeeze(1)
        if len(idx):
            light[idx] = illumination(kind, len(idx), h, w, e[idx], generator=g)
    peak = torch.exp(torch.empty(n).uniform_(math.log(FULL_WELL[0]), math.log(FULL_WELL[1]), generator=g))
    read = torch.empty(n).uniform_(0.002, 0.006, generator=g)
    return darken(x, light, peak=peak, read_noise=read, generator=g)


def shuffle_channels(x: Tensor, generator: torch.Generator) -> Tensor:
    """Each image of x (N, 3, H, W) with its colour channels in one of the 6 orders, drawn uniformly.

    Five photographs are a biased sample of colour balance (mostly warm: a ginger cat, coffee, a red motorcycle);
    with shuffled channels every colour cast is as likely as its opposites, so a discriminator cannot learn one.

    Notebook: chapters/04_lowlight_enhancement/02_unpaired_gan.ipynb
    """
    perms = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]], device=x.device)
    order = perms[runtime.randint(0, 6, (x.shape[0],), generator=generator, device=x.device)]   # (N, 3) on x's device
    return torch.gather(x, 1, order[:, :, None, None].expand_as(x))


def unpaired(n: int, size: int = 64, short_side: int | None = None, seed: int = 0, folder: str | Path | None = None,
             shuffle: bool | None = None) -> tuple[Images, Images]:
    """Unpaired training sets (low, normal), each ``n`` crops (n, 3, size, size) in [0, 1].

    With ``folder`` (or an EnlightenGAN-style ``data_dir()/lowlight`` holding ``trainA``/``trainB``) the crops
    come from the reader's real photographs; otherwise low-light crops are darkened (:func:`low_light`) from one
    half of each shipped training photograph and normal-light crops come from the other half. With ``shuffle``
    each crop's colour channels are put in a random order (:func:`shuffle_channels`); by default only the shipped
    photographs' are (chapter 02: five photographs' colour balance is not a target), never a reader's real ones.
    A folder's images are read one at a time while their crops are cut, never all held in memory.

    ``short_side``: the photographs are first resized to this short side (default ``max(192, size)``). A
    shipped photograph whose half cannot hold a ``size`` crop is enlarged until it can, and the source line
    says which were upsampled beyond their native resolution (at ``size=256``: chelsea, 300 pixels high).

    Notebooks: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb, 02_unpaired_gan.ipynb
    """
    short_side = max(192, size) if short_side is None else short_side
    if short_side < size:
        raise ValueError(f"short_side={short_side} cannot hold crops of size={size}; give short_side >= size or None")
    g = torch.Generator().manual_seed(seed)
    root = Path(folder) if folder is not None else runtime.data_dir() / "lowlight"
    real = folder is not None or (root / "trainA").is_dir()
    shuffle = not real if shuffle is None else shuffle
    if real:
        source = f"folder {root}"
        def read(f: Path) -> Tensor:
            return _read(f, short_side)
        low = _random_crops(image_files(root / "trainA"), n, size, g, read)
        normal = _random_crops(image_files(root / "trainB"), n, size, g, read)
        low_source, normal_source = f"low: {source}/trainA", f"normal: {source}/trainB"
    else:
        low_half, normal_imgs, enlarged = _halves(short_side, size)
        low = low_light(_random_crops(low_half, n, size, g), g)
        normal = _random_crops(normal_imgs, n, size, g)
        source = "shipped photographs (scikit-image, scikit-learn, matplotlib)"
        if enlarged:
            source += f"; upsampled beyond native resolution to hold {size}-pixel crops: {', '.join(enlarged)}"
        low_source = f"low: one half of each of the {source}, darkened by the camera model"
        normal_source = f"normal: the other halves of the {source}, as taken"
    if shuffle:
        low, normal = shuffle_channels(low, g), shuffle_channels(normal, g)
        low_source, normal_source = low_source + "; colour channels shuffled", normal_source + "; colour channels shuffled"
    return Images(low, None, low_source), Images(normal, None, normal_source)


@dataclasses.dataclass
class TestPairs:
    """Held-out test images: ``low`` and ground-truth ``normal`` (N, 3, H, W) in [0, 1], one name per image.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """

    __test__ = False   # a library class, not a pytest test class, whatever its name

    low: Tensor
    normal: Tensor
    names: list[str]
    source: str

    def __post_init__(self) -> None:
        check_images(self.low, "TestPairs.low")
        check_images(self.normal, "TestPairs.normal")
        if self.low.shape != self.normal.shape or len(self.names) != self.low.shape[0]:
            raise ValueError(f"TestPairs: low {tuple(self.low.shape)}, normal {tuple(self.normal.shape)} and "
                             f"{len(self.names)} names must agree")

    def __len__(self) -> int:
        return self.low.shape[0]


CONDITIONS = {
    "lamp": ("lamp", 0.06),   # a bright light source in a dark scene
    "sky": ("sky", 0.12),     # a dark sky (flat, little information) above a dim scene
    "dim": ("uniform", 0.08), # globally under-exposed
}


def test_pairs(size: int = 384, photos: tuple[str, ...] = TEST_PHOTOS, conditions: tuple[str, ...] = tuple(CONDITIONS),
               seed: int = 1, full_well: float = TEST_FULL_WELL, read_noise: float = TEST_READ_NOISE) -> TestPairs:
    """Every held-out photograph (centre crop size×size) under every named condition of :data:`CONDITIONS`.

    The sensor of every image: ``full_well`` electrons and read noise ``read_noise`` (defaults :data:`TEST_FULL_WELL`
    and :data:`TEST_READ_NOISE`, inside the training ranges); :data:`NOISIER_SENSOR` is a second degradation model outside the
    training range. The noise is seeded, so the set is reproducible.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    if size % 8:
        raise ValueError(f"test size must be a multiple of 8; got {size}")
    g = torch.Generator().manual_seed(seed)
    clean = []
    for name in photos:
        clean.append(centre_crop(photo(name, short_side=size), size))
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; available: {sorted(CONDITIONS)}")
    normal = torch.stack(clean).repeat(len(conditions), 1, 1, 1)
    lights = [illumination(CONDITIONS[c][0], len(photos), size, size, CONDITIONS[c][1], generator=g) for c in conditions]
    low = darken(normal, torch.cat(lights), peak=full_well, read_noise=read_noise, generator=g)
    names = [f"{p} ({c})" for c in conditions for p in photos]
    usual = (full_well, read_noise) == (TEST_FULL_WELL, TEST_READ_NOISE)
    sensor = "" if usual else f", full well {full_well:g} e⁻, read noise {read_noise:g}"
    return TestPairs(low, normal, names,
                     f"shipped photographs darkened by the camera model (held out from training){sensor}")


test_pairs.__test__ = False   # a library function, not a pytest test, when a test module imports it by name


def image_files(path: str | Path) -> list[Path]:
    """The image files under ``path`` (recursively, sorted); :class:`~genmodels.data.base.DataFolderError` when the
    folder is missing or holds none.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    layout = "a folder of .png/.jpg/.bmp images (e.g. EnlightenGAN trainA/ or trainB/, LOL our485/low, LIME/)"
    files = [p for p in require_folder(Path(path), layout) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DataFolderError(f"data folder {path} has no image files ({', '.join(IMAGE_SUFFIXES)}); expected {layout}")
    return files


def iter_folder(path: str | Path, short_side: int | None = None) -> Iterator[tuple[str, Tensor]]:
    """(file name, image (3, H, W) in [0, 1]) for every image file under ``path`` (recursively, sorted), read one
    at a time, so a large folder is never held in memory.

    The folder is checked before the first image: :class:`~genmodels.data.base.DataFolderError` when it is
    missing or holds no images. Layouts understood: EnlightenGAN (``trainA``, ``trainB``), LOL (``our485/low``,
    ``eval15/high``, …; :mod:`genmodels.data.lol` pairs them), LIME / NPE / MEF / DICM (a folder of images each).

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    files = image_files(path)

    def read() -> Iterator[tuple[str, Tensor]]:
        for f in files:
            yield f.name, _read(f, short_side)
    return read()


def load_folder(path: str | Path, short_side: int | None = None) -> list[Tensor]:
    """Every image of :func:`iter_folder` in one list of (3, H, W) tensors in [0, 1].

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    return [x for _, x in iter_folder(path, short_side)]


def sources() -> dict[str, str]:
    """Where the low-light data would come from now.

    Notebook: chapters/04_lowlight_enhancement/01_classic_enhancement.ipynb
    """
    root = runtime.data_dir() / "lowlight"
    real = (root / "trainA").is_dir() and (root / "trainB").is_dir()
    return {"lowlight-unpaired": f"folder {root}" if real else "shipped photographs darkened by a camera model",
            "lowlight-test": "shipped photographs darkened by a camera model"}
