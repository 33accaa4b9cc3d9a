"""Statements that read well in plain Jupyter: MyST directives and roles turned into plain Markdown.

The book's exercises are written in MyST (```` ```{exercise} ```` blocks, ``{doc}`` and ``{eq}`` roles).
JupyterLab without the ``jupyterlab-myst`` extension shows a directive as a code block and a role as raw
text, so the released notebook carries the same statements in plain Markdown: a bold title line, the
body as ordinary Markdown (its math is rendered by Jupyter's MathJax), references as their text.

Book page: book/for-instructors.md
"""
from __future__ import annotations

import re

_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^\s*:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<text>[^`]*)`")
_TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$")

# directive name -> the word the reader sees before its title
_WORDS = {"exercise": "Exercise", "solution": "Solution", "note": "Note", "warning": "Warning", "tip": "Tip",
          "important": "Important", "hint": "Hint", "admonition": "", "prf:theorem": "Theorem",
          "prf:proposition": "Proposition", "prf:lemma": "Lemma", "prf:definition": "Definition",
          "prf:proof": "Proof", "prf:algorithm": "Algorithm", "prf:remark": "Remark"}


def _role(match: re.Match) -> str:
    name, text = match["name"], match["text"]
    titled = _TITLED.match(text)
    if titled and titled["title"]:
        return titled["title"]  # {doc}`the first chapter <01_x>` -> the first chapter
    target = titled["target"] if titled else text
    if name == "eq":
        return f"({target})"  # the equation's own label is shown after its $$ block
    if name in ("cite", "cite:p", "cite:t"):
        return "[" + ", ".join(k.strip() for k in target.split(",")) + "]"
    if name == "doc":
        return target.rstrip("/").split("/")[-1]
    return target


def plain_roles(text: str) -> str:
    """``{doc}`title <target>``` -> ``title``, ``{eq}`label``` -> ``(label)``, ``{cite}`k``` -> ``[k]``.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    return _ROLE.sub(_role, text)


def _escape_title(title: str) -> str:
    """``title`` safe inside ``**...**``: ``*`` and ``_`` outside ``$...$`` math escaped (``D*`` stays ``D*``)."""
    pieces = title.split("$")
    return "$".join(re.sub(r"([*_])", r"\\\1", p) if i % 2 == 0 else p for i, p in enumerate(pieces))


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def plain_markdown(markdown: str) -> str:
    """``markdown`` with every MyST directive replaced by a bold title line and its body, roles as text.

    Code fences that are not directives (```` ```python ````) are kept as they are.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    lines = markdown.splitlines()
    out: list[str] = []
    stack: list[str] = []  # open directive fences, innermost last
    code_fence: str | None = None  # an ordinary code block: copied verbatim
    i = 0
    while i < len(lines):
        line = lines[i]
        if code_fence is not None:
            out.append(line)
            if _closes(line, code_fence):
                code_fence = None
            i += 1
            continue
        opened = _OPEN.match(line)
        if opened:
            name, arg = opened["name"], plain_roles(opened["arg"])
            i += 1
            label = ""
            while i < len(lines) and _OPTION.match(lines[i]):
                option = _OPTION.match(lines[i])
                label = option["value"] if option["key"] == "label" else label
                i += 1
            word = _WORDS.get(name, name.split(":")[-1].capitalize())
            title = _escape_title(" ".join(x for x in (word, arg) if x) or name)
            out.append(f"**{title}**" + (f" ({label})" if label and name == "exercise" else ""))
            out.append("")
            stack.append(opened["fence"])
            continue
        if stack and _closes(line, stack[-1]):
            stack.pop()
            i += 1
            continue
        if line.strip().startswith("```") or line.strip().startswith("~~~"):
            code_fence = line.strip()[:3] if line.strip()[:3] == "~~~" else re.match(r"`+", line.strip())[0]
            out.append(line)
            i += 1
            continue
        out.append(plain_roles(line))
        i += 1
    if stack:
        raise ValueError(f"unclosed directive fence(s) {stack} in:\n{markdown[:300]}")
    return "\n".join(out).rstrip() + "\n" if markdown.endswith("\n") else "\n".join(out).rstrip()


def plain_notebook(nb) -> int:
    """Rewrite the markdown cells of ``nb`` that have no nbgrader metadata in plain Markdown; return how many.

    Notebook: chapters/00_foundations/exercises.ipynb
    """
    changed = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.get("metadata", {}).get("nbgrader"):
            continue
        plain = plain_markdown(cell.source)
        if plain != cell.source:
            cell.source = plain
            changed += 1
    return changed
