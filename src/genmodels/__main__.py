"""``python -m genmodels``: see :mod:`genmodels.cli`."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
