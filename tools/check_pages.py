"""Open built pages in headless Chromium with the network off, and check what a reader would see.

For every page: the math rendered (MathJax made one ``mjx-container`` per math element and no raw ``\\(`` or
``\\[`` is left in the text), every figure loads (its file exists and is a PNG, JPEG, GIF or SVG), no widget area is
empty (each saved widget view became a rendered widget), and on a page built from a notebook the Colab and Binder
links point at that notebook's own path.

    python tools/check_pages.py _build/html                 # every page built from chapters/
    python tools/check_pages.py _build/html intro chapters/01_vae_gan/01_vae

Exit status 0 when every page passes, 1 otherwise (one line per problem). Needs Debian's ``chromium``.
Book page: book/how-to-run.md ("Checking the built pages").
"""
from __future__ import annotations

import argparse
import base64
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MATH = re.compile(r'<(?:span|div) class="math notranslate nohighlight"')
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RENDERED_WIDGET = re.compile(r'class="widget-subarea"[^>]*>\s*<div[^>]*class="[^"]*jupyter-widgets')
IMG = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"')
LAUNCH = re.compile(r'href="(https://(?:colab\.research\.google\.com|mybinder\.org)[^"]*)"')
SCRIPT_OR_STYLE = re.compile(r"<(script|style|head)\b.*?</\1>", re.S)  # <head>: the <title> keeps its TeX
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"<?xml", b"<svg")


def chromium() -> list[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        raise SystemExit("check_pages: no chromium on PATH; install Debian's package: apt-get install -y chromium")
    # a closed local port as proxy: any http(s) request fails at once, so the page shows what it shows offline
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom",
           "--virtual-time-budget=20000", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
    offline = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    return (["unshare", "-n"] if offline else []) + cmd


def rendered(page: Path, browser: list[str]) -> str:
    done = subprocess.run([*browser, page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium could not render {page}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def _image_ok(src: str, page: Path) -> str | None:
    if src.startswith("data:"):
        head, _, data = src.partition(",")
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4)) if ";base64" in head else data.encode()
        return None if raw.lstrip()[:5].startswith(IMAGE_MAGIC) or raw.startswith(IMAGE_MAGIC) else f"bad data URI {head}"
    if re.match(r"^[a-z]+://", src):
        return f"figure {src} is remote: it does not load offline"
    path = (page.parent / src.split("#")[0].split("?")[0]).resolve()
    if not path.is_file() or path.stat().st_size == 0:
        return f"figure {src} is missing ({path})"
    head = path.read_bytes()[:256].lstrip()
    return None if any(head.startswith(m) for m in IMAGE_MAGIC) else f"figure {src} is not an image file"


def check(html_root: Path, page: Path, browser: list[str]) -> list[str]:
    """Problems a reader would see on ``page`` (empty list: none)."""
    source = page.read_text(encoding="utf-8")
    name = page.relative_to(html_root).with_suffix("")
    problems = [f"{name}: {p}" for src in IMG.findall(source) if (p := _image_ok(src, page))]
    dom = rendered(page, browser)
    n_math, n_done = len(MATH.findall(source)), dom.count("<mjx-container")
    text = SCRIPT_OR_STYLE.sub("", dom)
    if n_done < n_math:
        problems.append(f"{name}: {n_math} math elements but MathJax rendered {n_done}")
    if n_math and ("\\(" in text or "\\[" in text):
        problems.append(f"{name}: raw \\( or \\[ left in the page: MathJax did not run")
    if "<mjx-merror" in text:
        problems.append(f"{name}: MathJax reports a TeX error")
    n_views, n_widgets = source.count(WIDGET_VIEW), len(RENDERED_WIDGET.findall(dom))
    if n_widgets < n_views:
        problems.append(f"{name}: {n_views} saved widget views but {n_widgets} rendered (empty widget areas)")
    if (html_root / "_sources" / f"{name}.ipynb").is_file():
        links = LAUNCH.findall(source)
        kinds = {"colab" if "colab" in link else "binder" for link in links}
        if kinds != {"colab", "binder"}:
            problems.append(f"{name}: launch links found {sorted(kinds)}, expected colab and binder")
        problems += [f"{name}: launch link {link} does not point at {name}.ipynb" for link in links
                     if not link.endswith(f"/{name}.ipynb")]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path, help="the built book's html folder, e.g. _build/html")
    parser.add_argument("pages", nargs="*", help="pages without .html (default: every page built from chapters/)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        raise SystemExit(f"check_pages: {args.html} holds no built book (no index.html); run make book first")
    pages = ([args.html / f"{p}.html" for p in args.pages] if args.pages
             else sorted((args.html / "chapters").rglob("*.html")))
    missing = [p for p in pages if not p.is_file()]
    if missing or not pages:
        raise SystemExit(f"check_pages: no such page(s) in {args.html}: {[str(p) for p in missing] or 'none found'}")
    browser = chromium()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda p: check(args.html, p, browser), pages))
    problems = [p for r in results for p in r]
    print("\n".join(problems) if problems else f"check_pages: {len(pages)} pages fine (math, figures, widgets, links)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
