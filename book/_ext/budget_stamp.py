"""Sphinx extension: every page of the built book says which compute budget executed its notebooks.

The budget (``GENMODELS_BUDGET``, read through ``genmodels.runtime.budget``) goes into the footer of every
page and into the MyST substitution ``{{ budget }}`` that book/intro.md shows. Each budget also builds into
its own folder (book/build.sh), so one budget's pages are never served as another's.
"""
from __future__ import annotations


def _stamp(app, config) -> None:
    from genmodels import __version__, runtime

    budget = runtime.budget()
    line = f"Notebooks executed at the <b>{budget}</b> budget (genmodels {__version__})."
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = f"{options.get('extra_footer', '')}<p>{line}</p>"
    config.html_theme_options = options
    substitutions = dict(getattr(config, "myst_substitutions", {}) or {})
    substitutions["budget"] = budget
    config.myst_substitutions = substitutions


def setup(app):
    app.connect("config-inited", _stamp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
