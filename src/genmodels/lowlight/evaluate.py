"""Running and scoring enhancers side by side: :func:`enhance_all`, :func:`scores`, :func:`score_folder` (NIQE of a
folder without ground truth), :func:`format_table`.

Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
"""
from __future__ import annotations

from typing import Callable, Mapping

from torch import Tensor

from ..data.base import check_images


def enhance_all(methods: Mapping[str, Callable[[Tensor], Tensor]], low: Tensor) -> dict[str, Tensor]:
    """Run every method (name → function on (N, 3, H, W) images) on ``low`` (N, 3, H, W): name → output (N, 3, H, W).

    Each output must have the input's shape and values in [0, 1] (a clear ``ValueError`` names the method).

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    out = {}
    for name, f in methods.items():
        y = f(low)
        if y.shape != low.shape:
            raise ValueError(f"method {name!r} returned shape {tuple(y.shape)}; expected {tuple(low.shape)}")
        check_images(y, f"output of {name!r}")
        out[name] = y
    return out


def scores(results: Mapping[str, Tensor], reference: Tensor | None = None) -> dict[str, dict[str, float]]:
    """Mean NIQE (and PSNR, SSIM against ``reference`` (N, 3, H, W) when given) of each method's images (N, 3, H, W).

    Returns name → metric → value (floats), from :func:`genmodels.metrics.niqe`, ``psnr`` and ``ssim``.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    from .. import metrics

    table = {}
    for name, y in results.items():
        row = {"NIQE": float(metrics.niqe(y).mean())}
        if reference is not None:
            row["PSNR"] = float(metrics.psnr(y, reference).mean())
            row["SSIM"] = float(metrics.ssim(y, reference).mean())
        table[name] = row
    return table


def score_folder(path, methods: Mapping[str, Callable[[Tensor], Tensor]],
                 short_side: int | None = None) -> dict[str, dict[str, float]]:
    """Mean NIQE of each method's output over a folder of low-light images without ground truth (LIME, NPE, MEF,
    DICM, or a reader's own photographs): name → {"NIQE": mean, "images": count}, ready for :func:`format_table`.

    Images are read and enhanced one at a time (:func:`genmodels.data.lowlight.iter_folder`), so they may differ in
    size and the folder never sits in memory whole; ``short_side`` resizes each first. NIQE needs over 192 px a side.

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    from .. import metrics
    from ..data.lowlight import iter_folder

    sums, count = dict.fromkeys(methods, 0.0), 0
    for _, x in iter_folder(path, short_side):
        for name, y in enhance_all(methods, x[None]).items():
            sums[name] += float(metrics.niqe(y)[0])
        count += 1
    return {name: {"NIQE": total / count, "images": float(count)} for name, total in sums.items()}


def format_table(table: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table of :func:`scores` (methods as rows, metrics as columns, arrows for better).

    Notebook: chapters/04_lowlight_enhancement/04_experiments.ipynb
    """
    cols = list(next(iter(table.values())))
    arrow = {"NIQE": "↓", "PSNR": "↑", "SSIM": "↑"}
    head = f"{'method':<22}" + "".join(f"{c + ' ' + arrow.get(c, ''):>10}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, row in table.items():
        lines.append(f"{name:<22}" + "".join(f"{row[c]:>10.3f}" for c in cols))
    return "\n".join(lines)
