"""Mutations of src/genmodels/metrics.py (Fréchet) and metrics_image.py (PSNR, SSIM, NIQE, HOG).
Mardia's mutations are with the sliced autoencoders' (tests/mutations/sliced.py)."""
from tests.mutations import Mutation

M, I = "src/genmodels/metrics.py", "src/genmodels/metrics_image.py"
T = ("tests/test_metrics.py",)
TI = ("tests/test_image_metrics.py",)
TF = ("tests/test_faces.py",)

MUTATIONS = [
    Mutation(M, "return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt)",
             "return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - trace_sqrt)",
             "Fréchet distance without the factor 2 on the cross trace", T),
    Mutation(M, "    lam = np.linalg.eigvalsh(root1 @ cov2 @ root1)", "    lam = np.linalg.eigvalsh(cov1 @ cov2)",
             "Fréchet cross trace from the eigenvalues of the non-symmetric Σ₁Σ₂ via eigvalsh", T),
    Mutation(M, "    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))",
             "    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(a, rowvar=False))",
             "Fréchet distance uses the first set's covariance twice", T),
    Mutation(I, "    return (10 * torch.log10(1.0 / mse)).to(x.dtype)", "    return (20 * torch.log10(1.0 / mse)).to(x.dtype)",
             "PSNR with 20 log10 of the MSE (amplitude formula on a power)", TI),
    Mutation(I, "    c1, c2 = k1**2, k2**2", "    c1, c2 = k1, k2", "SSIM constants k instead of k²", TI),
    Mutation(I, "    var_x = blur(x * x) - mu_x**2", "    var_x = blur(x * x)", "SSIM variance without subtracting the mean²", TI),
    Mutation(I, "    g = torch.exp(-0.5 * (t / sigma) ** 2)", "    g = torch.exp(-(t / sigma) ** 2)",
             "SSIM window of standard deviation σ/√2", TI),
    Mutation(I, "    return (x * w).sum(1, keepdim=True)", "    return x.mean(1, keepdim=True)",
             "luma as the plain channel mean", TI),
    Mutation(I, "    return (img - mu) / (np.sqrt(np.abs(m2 - mu**2)) + 1.0)", "    return (img - mu) / (np.sqrt(np.abs(m2 - mu**2)) + 1e-3)",
             "NIQE's MSCN with a tiny stabiliser instead of 1", TI),
    Mutation(I, "    angle = torch.rad2deg(torch.atan2(g_row, g_col)) % 180.0", "    angle = torch.rad2deg(torch.atan2(g_col, g_row)) % 180.0",
             "HOG orientation measured from the wrong axis", TF),
    Mutation(I, "    hist = hist / (hist.pow(2).sum(1, keepdim=True) + eps**2).sqrt()", "    hist = hist / (hist.sum(1, keepdim=True) + eps)",
             "HOG cells L1- instead of L2-normalised", TF),
    Mutation(M, "        out.append(d2.min(1).values.clamp_min(0).sqrt())", "        out.append(d2.min(1).values.clamp_min(0))",
             "nearest distance returned squared", ("tests/test_latent_diffusion.py",)),
    Mutation(M, "        d2 = (a * a).sum(1, keepdim=True) - 2 * a @ ref.T + ref_sq[None]",
             "        d2 = (a * a).sum(1, keepdim=True) - a @ ref.T + ref_sq[None]",
             "nearest distance without the factor 2 on the cross term", ("tests/test_latent_diffusion.py",)),
    Mutation(M, "    values = replicate_means(a2) - replicate_means(b2)",
             "    values = replicate_means(a2 - a2.mean() + b2.mean()) - replicate_means(b2)",
             "paired bootstrap centred on zero (the interval never excludes it)", T),
    Mutation(M, "    images = rng.integers(0, n, (n_boot, n))\n",
             "    images = rng.integers(0, n, (n_boot, n))\n    images = np.broadcast_to(np.arange(n), (n_boot, n))\n",
             "paired bootstrap that never resamples the test images", T),
    Mutation(M, "        seeds = rng.integers(0, len(x), (n_boot, len(x)))",
             "        seeds = np.broadcast_to(np.arange(len(x)), (n_boot, len(x)))",
             "paired bootstrap that averages the seeds instead of resampling them", T),
    Mutation(M, "        per_seed = x[seeds[:, :, None], images[:, None, :]]",
             "        per_seed = x[seeds[:, :, None], rng.integers(0, x.shape[1], (n_boot, 1, x.shape[1]))]",
             "unpaired bootstrap: each method draws its own images", T),
    Mutation(M, "        return self.low > 0 or self.high < 0", "        return self.low > 0",
             "an interval below zero said not to separate", T),
    Mutation("src/genmodels/metrics.py", "int(y.min()) < 0 or int(y.max()) > 9:", "int(y.min()) < 0 or int(y.max()) > 10:",
             "MNISTClassifier accepts a label 10", ("tests/test_input_checks.py",)),
]
