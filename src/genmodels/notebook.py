"""What the notebooks take from the book's toolchain, usable without it.

The chapters store numbers for the prose with myst-nb's ``glue``; myst-nb belongs to the ``book`` extra, which
Colab, Binder and the plain install do not have. :func:`glue` stores the value where myst-nb is installed (the
book build, ``make test``) and otherwise only shows it, so every notebook runs with the base dependencies.

Notebook: every chapter that writes numbers into its prose, e.g. chapters/02_sliced_autoencoders/02_five_distances.ipynb
"""
from __future__ import annotations


def glue(name: str, value, display: bool = True) -> None:
    """Store ``value`` under ``name`` for the book's ``{glue}`` roles, and show it when ``display`` is true.

    Without myst-nb nothing is stored (only the book build reads stored values) and a ``display=False`` value
    stays hidden, exactly as in the book.

    Notebook: chapters/00_foundations/01_autoencoders.ipynb
    """
    if hasattr(value, "item") and getattr(value, "shape", None) == ():   # a NumPy or torch scalar: its repr
        value = value.item()   # ("np.float64(23.7)") is what myst-nb would try to format, and it cannot
    try:
        from myst_nb import glue as store
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return
    store(name, value, display=display)
