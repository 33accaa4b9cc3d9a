#!/usr/bin/env bash
# Build the book at one budget into that budget's own folder, re-executing every notebook:
#   default → _build/html (the published book)      smoke → _build/smoke/_build/html      full → _build/full/_build/html
# Usage: book/build.sh BUDGET [BOOK_FOLDER]   (BIN: folder of jupyter-book, default .venv/bin)
set -euo pipefail
budget="${1:?usage: book/build.sh smoke|default|full [book folder]}"
src="${2:-.}"
bin="${BIN:-.venv/bin}"
case "$budget" in
  default) out="$src" ;;
  smoke | full) out="$src/_build/$budget" ;;
  *) echo "book/build.sh: unknown budget '$budget'; expected smoke, default or full" >&2; exit 2 ;;
esac
# --all: Sphinx's own staleness check knows nothing of src/ or the budget, so every page is rebuilt.
GENMODELS_BUDGET="$budget" "$bin/jupyter-book" build "$src" --path-output "$out" --all -W -n --keep-going
echo "built the $budget book: $out/_build/html/index.html"
