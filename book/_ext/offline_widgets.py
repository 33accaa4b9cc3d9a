"""Sphinx extension: serve the ipywidgets JavaScript from the book itself, so saved widget state renders offline.

myst-nb loads RequireJS and @jupyter-widgets/html-manager from CDNs by default; in a classroom without network
every explorer's area stays empty. book/build.sh fetches the two npm packages once (the npm registry, cached in
``GENMODELS_WIDGET_JS``, default ``~/.cache/genmodels/widget-js``); when that folder holds them, this extension
copies it into ``_static/`` and points myst-nb there. Without the folder the CDN defaults stay (and a warning-free
note is logged), so a build never fails for want of npm.
"""
from __future__ import annotations

import os
from pathlib import Path

from sphinx.util import logging

REQUIRE = "require.js"  # paths inside _static/, where Sphinx copies the folder's contents
EMBED = "html-manager/embed-amd.js"


def folder() -> Path:
    return Path(os.environ.get("GENMODELS_WIDGET_JS", Path.home() / ".cache" / "genmodels" / "widget-js")).expanduser()


def _configure(app, config) -> None:
    js = folder()
    if not ((js / "require.js").is_file() and (js / "html-manager" / "embed-amd.js").is_file()):
        logging.getLogger(__name__).info(f"offline_widgets: no widget JavaScript in {js}; pages load it from CDNs")
        return
    config.html_static_path = [*config.html_static_path, str(js.resolve())]
    config.nb_ipywidgets_js = {REQUIRE: {}, EMBED: {"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/"}}


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
