"""Mutations of the ``lowlight`` package (Part 4), of its data module and of the U-Net gate it relies on.

See tests/mutations/__init__.py. The audit's four (code-audit.md §1a: M5, M8, M15, M21) come first.
"""
from tests.mutations import Mutation

_P = "src/genmodels/lowlight/"
_CL, _FE, _AT, _LO, _MO = (_P + f for f in ("classic.py", "features.py", "attention.py", "losses.py", "model.py"))
_DATA = "src/genmodels/data/lowlight.py"
_AB = _P + "ablation.py"
_T = ("tests/test_lowlight.py",)
_TM = ("tests/test_lowlight_model.py",)
_TD = ("tests/test_lowlight_data.py",)
_TA = ("tests/test_lowlight_ablation.py",)

MUTATIONS = [
    # the code audit's (section 1a)
    Mutation("src/genmodels/nets.py", "            return h * nn.functional.adaptive_avg_pool2d(gate, h.shape[2:])",
             "            return h", "M5: the U-Net's attention gate silently ignored", ("tests/test_unet.py",)),
    Mutation(_MO, 'F.pad(xb, (0, pw, 0, ph), mode="reflect")', 'F.pad(xb, (pw, 0, ph, 0), mode="reflect")',
             "M8: enhance pads on the wrong side, then crops the top-left corner", _TM),
    Mutation(_DATA, "        (normal if i % 2 == 0 else low).append(b)", "        (normal if i % 2 == 0 else low).append(a)",
             "M15: both domains cut from the same photo halves (a pairing leak)", _TD),
    Mutation(_DATA, "        clean.append(centre_crop(photo(name, short_side=size), size))",
             "        clean.append(photo(name, short_side=size)[:, :size, :size])",
             "M21: test pairs cut from the top-left corner, not the centre", _TD),
    Mutation("src/genmodels/data/lol.py", "centre_crop(resize_short_side(t, size), size)",
             "resize_short_side(t, size)[..., :size, :size]", "LOL pairs cut from the top-left corner, not the centre", _TD),
    # the GAN's losses and targets
    Mutation(_MO, "gan.lsgan_d_loss(r, f) for r, f in", "gan.lsgan_d_loss(f, r) for r, f in",
             "LSGAN discriminator targets swapped: real scored 0, fake 1", _TM),
    Mutation(_MO, "        loss_d.backward()", "        (-loss_d).backward()",
             "the discriminators ascend their loss", _TM),
    Mutation(_MO, "c.alpha * per + c.beta * col", "c.alpha * per - c.beta * col",
             "sign of the colour-consistency term flipped", _TM),
    Mutation(_MO, "c.alpha * per + c.beta", "per + c.beta", "α, the perceptual weight, ignored", _TM),
    Mutation(_MO, "per = perceptual_loss(self.phi.to(x.device), x, fake)", "per = perceptual_loss(self.phi.to(x.device), y, fake)",
             "self-feature-preserving loss compares the output with the normal-light image, not its own input", _TM),
    Mutation(_MO, "self.D[1](F.avg_pool2d(y, 2))", "self.D[1](y)",
             "the second discriminator sees full resolution (no multi-scale)", _TM),
    Mutation(_MO, "+ c.tau * t.pow(2).mean()", "+ c.tau * t.abs().mean()",
             "the raw-output penalty is L1, not the stated mean square", _TM),
    # eq. (lowlight-output)
    Mutation(_MO, "z = on_value(x, lambda v: v + xa * a * (1 - v))", "z = on_value(x, lambda v: v + a * (1 - v))",
             "the attention map is not multiplied into the brightening", _TM),
    Mutation(_MO, "c.a_min + (1 - c.a_min) * torch.sigmoid(", "c.a_min + torch.sigmoid(",
             "brightening map not rescaled into (a_min, 1)", _TM),
    Mutation(_MO, "- (-r).clamp(min=0) * z)", "- (-r).clamp(min=0) * (1 - z))",
             "negative correction scaled by 1 − z̃ instead of z̃", _TM),
    Mutation(_MO, "t = self.G(torch.cat([x, xa], 1), gate=xa)", "t = self.G(torch.cat([x, xa], 1))",
             "the generator's levels are not gated by the attention map", _TM),
    Mutation(_MO, 'use_gray=mode != "no_gray"', "use_gray=True", 'the "no_gray" ablation keeps the gray map', _TM),
    Mutation(_MO, "    with torch.random.fork_rng(devices=[]):\n        torch.manual_seed(seed)",
             "    if True:\n        torch.manual_seed(seed)",
             "train_enhancer re-seeds the caller's global RNG", _TM),
    # attention, φ, loss terms
    Mutation(_AT, "dark = 1 - gray(x) if use_gray", "dark = gray(x) if use_gray",
             "attention from the gray map Y instead of 1 − Y", _T),
    Mutation(_AT, "    f = (f - mu) / (sd + 1e-6)\n", "    f = f - mu\n", "saliency not standardised per image", _T),
    Mutation(_FE, "/ (F.avg_pool2d(g, 8) + 0.02)", "/ 1.02", "OrientedEnergy without Weber normalisation", _T),
    Mutation(_FE, "self.body((x.to(self.mean.dtype) - self.mean) / self.std)", "self.body(x.to(self.mean.dtype))",
             "VGG features without the ImageNet normalisation", _T),
    Mutation(_FE, 'widths[7:10] + ["M"] + widths[10:]', "widths[7:10] + widths[10:]",
             "φ cut after the third pooling (stride 8), not VGG-16's relu5_1", _T),
    Mutation(_LO, "fx, fy = F.instance_norm(fx, eps=1e-5), F.instance_norm(fy, eps=1e-5)",
             "fx, fy = F.instance_norm(fx, eps=1e-5), fy", "perceptual loss normalises only one side", _T),
    Mutation(_LO, "return sliced.sw_1d(u, v)[0].add(1e-12).sqrt()", "return sliced.sw_1d(u, v)[0]",
             "brightness loss is W₂², not W₂", _T),
    Mutation(_LO, "count_include_pad=False", "count_include_pad=True", "tent mean darkens the border", _T),
    # the classics
    Mutation(_CL, "t = lime_illumination(x.amax(1, keepdim=True), alpha=alpha)",
             "t = lime_illumination(x.mean(1, keepdim=True), alpha=alpha)",
             "LIME's initial illumination from the channel mean, not max(R, G, B)", _T),
    Mutation(_CL, "wt = np.concatenate([alpha / (np.abs(p[2]).ravel() + eps)", "wt = np.concatenate([alpha / (p[2].ravel() ** 2 + eps)",
             "LIME weights from the squared gradient", _T),
    Mutation(_CL, "    return v.pow(1.0 / gamma)", "    return v.pow(gamma)", "gamma correction darkens (v^γ, not v^(1/γ))", _T),
    Mutation(_CL, "+ fv * (v <= eps)", "+ 0 * fv * (v <= eps)", "black pixels stay black instead of gray f(0)", _T),
    Mutation(_CL, "pos = ((flat - lo) / width - 0.5)", "pos = ((flat - lo) / width)",
             "histogram equalisation interpolates at bin edges, not centres", _T),
    # the camera model
    Mutation(_DATA, "    signal = x.pow(gamma) * light", "    signal = x * light",
             "darken forgets to undo the display gamma (photon counts in display space)", _T + _TD),
    Mutation(_MO, "        _check_rgb(data[1], \"EnhancerGAN: y (normal-light)\")\n", "",
             "EnhancerGAN trains on a normal-light domain outside [0, 1]", ("tests/test_input_checks.py",)),
    Mutation(_DATA, "    return x if short_side is None else resize_short_side(x, short_side)",
             "    return x if short_side is None else x", "reading an image ignores short_side (photo, the folders)", _TD),
    Mutation("src/genmodels/data/lol.py", "    names = sorted(low)\n", "    names = sorted(low)[::-1]\n",
             "LOL pairs not in sorted name order", _TD),
    Mutation("src/genmodels/data/lol.py", "        x, y = read_image(low[name]), read_image(high[name])",
             "        x, y = read_image(low[name]), read_image(high[names[0]])", "LOL: every low image paired with the first high one", _TD),
    Mutation(_DATA, "    low = darken(normal, torch.cat(lights), peak=full_well, read_noise=read_noise, generator=g)",
             "    low = darken(normal, torch.cat(lights), peak=full_well, generator=g)",
             "test_pairs ignores the second sensor's read noise", _TD),
    Mutation(_DATA, "    low = darken(normal, torch.cat(lights), peak=full_well, read_noise=read_noise, generator=g)",
             "    low = darken(normal, torch.cat(lights), peak=TEST_FULL_WELL, read_noise=read_noise, generator=g)",
             "test_pairs ignores the second sensor's full well", _TD),
    Mutation(_MO, "        torch.manual_seed(seed)\n        model = EnhancerGAN(cfg, phi=phi)",
             "        torch.manual_seed(0)\n        model = EnhancerGAN(cfg, phi=phi)",
             "every seed of train_enhancer starts from seed 0's weights", _TM),
    Mutation(_MO, "batch_size=sizes[\"batch_size\"], seed=seed,", "batch_size=sizes[\"batch_size\"], seed=0,",
             "every seed of train_enhancer draws seed 0's batches", _TM),
    Mutation("src/genmodels/lowlight/evaluate.py", "            sums[name] += float(metrics.niqe(y)[0])",
             "            sums[name] = float(metrics.niqe(y)[0])", "score_folder keeps the last image's NIQE, not the sum", _TD),
    # the ablation of 04_experiments (tests/test_lowlight_ablation.py)
    Mutation(_AB, 'PAPER_SETTINGS = {"a_min": 0.0,', 'PAPER_SETTINGS = {"a_min": 0.3,',
             "the paper's model keeps the book's floor", _TA),
    Mutation(_AB, "rows[f\"paper + {label}\"] = {**PAPER_SETTINGS, field: book[field]}",
             "rows[f\"paper + {label}\"] = {**PAPER_SETTINGS}", "an ablation row never switches its addition on", _TA),
    Mutation(_AB, 'rows["book (all four)"] = {}', 'rows["book (all four)"] = dict(PAPER_SETTINGS)',
             "the book's row is the paper's model", _TA),
    Mutation(_AB, "ranked.topk(k, dim=1, largest=False)", "ranked.topk(k, dim=1, largest=True)",
             "dark_level reads the brightest blocks", _TA),
    Mutation(_AB, "level.gather(1, darkest)", "ranked.gather(1, darkest)",
             "dark_level measures the input, not the images", _TA),
    Mutation(_AB, "level = F.avg_pool2d(gray(images), block)", "level = F.max_pool2d(gray(images), block)",
             "dark_level takes each block's brightest pixel, not its mean", _TA),
    # a real folder: not shuffled by default, read one image at a time
    Mutation(_DATA, "    shuffle = not real if shuffle is None else shuffle", "    shuffle = True if shuffle is None else shuffle",
             "a reader's real photographs get their colour channels shuffled by default", _TD),
    Mutation(_DATA, "            out[idx] = _crops_of(read(img), len(idx), size, g)",
             "            out[idx] = _crops_of(read(images[0]), len(idx), size, g)", "every crop cut from the first source", _TD),
    Mutation(_DATA, '        low = _random_crops(image_files(root / "trainA"), n, size, g, read)',
             '        low = _random_crops(load_folder(root / "trainA", short_side=short_side), n, size, g)',
             "the low-light folder held in memory whole", _TD),
]
