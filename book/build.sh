#!/usr/bin/env bash
# Build the book at one budget into that budget's own folder, re-executing every notebook (JOBS at a time):
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
# The ipywidgets JavaScript, served from the book so that explorers render offline (book/_ext/offline_widgets.py):
# fetched once from the npm registry where npm exists; without it the pages load it from CDNs.
export GENMODELS_WIDGET_JS="${GENMODELS_WIDGET_JS:-$HOME/.cache/genmodels/widget-js}"
if [ ! -f "$GENMODELS_WIDGET_JS/html-manager/embed-amd.js" ] && command -v npm > /dev/null; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8 > /dev/null 2>&1); then
    mkdir -p "$GENMODELS_WIDGET_JS/html-manager"
    tar xzf "$tmp"/jupyter-widgets-html-manager-1.0.15.tgz -C "$tmp" && cp -r "$tmp/package/dist/." "$GENMODELS_WIDGET_JS/html-manager/"
    tar xzf "$tmp"/requirejs-2.3.8.tgz -C "$tmp" package/require.js && cp "$tmp/package/require.js" "$GENMODELS_WIDGET_JS/"
  else
    echo "book/build.sh: npm could not fetch the widget JavaScript; the explorers will load it from CDNs" >&2
  fi
  rm -rf "$tmp"
fi
# Progress bars of fit print plain text into the pages, not ipywidgets that would need a kernel (gm.runtime.progress_bar).
export GENMODELS_PROGRESS=text
# Every notebook is executed afresh, JOBS at a time (tools/execute_book.py), into this budget's own jupyter-cache;
# the build then reads it through a copy of _config.yml with execute_notebooks: cache (a notebook that failed there
# is executed again by the build, which reports its traceback).
export GENMODELS_BUDGET="$budget"
mkdir -p "$out/_build"
"$bin/python" "$(dirname "$0")/../tools/execute_book.py" "$src" --jobs "${JOBS:-2}" \
  --cache "$out/_build/.jupyter_cache" --config "$out/_build/_config.executed.yml"
# --all: Sphinx's own staleness check knows nothing of src/ or the budget, so every page is rebuilt.
"$bin/jupyter-book" build "$src" --config "$out/_build/_config.executed.yml" --path-output "$out" --all -W -n --keep-going
echo "built the $budget book: $out/_build/html/index.html"
