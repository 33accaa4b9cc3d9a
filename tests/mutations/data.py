"""Mutations of the data modules (digits, faces, textures, base, __init__); their tests must kill each."""
from tests.mutations import Mutation

_I, _B, _F, _X = ("src/genmodels/data/__init__.py", "src/genmodels/data/base.py", "src/genmodels/data/faces.py",
                  "src/genmodels/data/textures.py")
T = ("tests/test_data.py",)
TF = ("tests/test_faces.py",)
TX = ("tests/test_ebm.py", "tests/test_data.py")

MUTATIONS = [
    # the code audit's, section 1a
    Mutation(_X, 'out = {f"texture:{name}": f"embedded: skimage.data.{fn}() (scikit-image wheel)" for name, (fn, _, _) in TEXTURES.items()}',
             "out = {}", "M7: sources() loses the texture entries", TX),
    Mutation(_I, 'return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base" and not m.name.startswith("_"))',
             'return ["digits"]', "M13: families() finds only digits", T),
    Mutation(_F, "                left, top = (w - s) // 2, (h - s) // 2\n", "                left, top = 0, 0\n",
             "M20: CelebA crop at the top-left corner, not the centre", TF),
    # ours
    Mutation(_B, "    if lo < 0.0 or hi > 1.0:", "    if lo < 0.0 or hi > 1.5:", "check_images lets values up to 1.5 through", T),
    Mutation(_B, "    if lo != lo or hi != hi:", "    if False:", "check_images lets NaN through", T),
    Mutation(_B, "    top, left = (h - height) // 2, (w - width) // 2", "    top, left = 0, 0",
             "centre_crop (resize_square, test pairs, LOL) crops at the top-left corner, not the centre", TX),
    Mutation(_B, "    width = height if width is None else width", "    width = height",
             "centre_crop ignores the width it is given", ("tests/test_api.py",)),
    Mutation(_B, "    out = _resample(batch, round(h * s), round(w * s))", "    out = _resample(batch, int(h * s), int(w * s))",
             "resize_short_side truncates instead of rounding the long side", T),
]
