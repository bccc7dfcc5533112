"""Text out of markup: HTML pages and the `<p>`-marked cells of progress tables."""
from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser

DROPPED_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "head")
BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead "
    "tfoot tr td th title ul".split()
)
CELL_TAGS = frozenset({"td", "th"})

_CELL_END = "\x1f"  # marks a cell end until spaces are collapsed, then becomes a tab
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_MANY_BREAKS = re.compile(r"\n{3,}")
_P_MARKUP = re.compile(r"</?p\s*/?>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page; block elements become line breaks, table cells tabs."""
    tree = HTMLParser(html)
    title = tree.css_first("title")
    title_text = title.text(strip=True) if title is not None else ""
    tree.strip_tags(list(DROPPED_TAGS))
    root = tree.body or tree.root
    parts: list = [title_text, "\n"] if title_text else []

    def walk(node) -> None:
        tag = node.tag
        if tag == "-text":
            parts.append(node.text_content or "")
            return
        if tag in ("-comment", "!doctype"):
            return
        block = tag in BLOCK_TAGS
        if block and tag not in CELL_TAGS:
            parts.append("\n")
        child = node.child
        while child is not None:
            walk(child)
            child = child.next
        if tag in CELL_TAGS:
            parts.append(_CELL_END)
        elif block:
            parts.append("\n")

    if root is not None:
        walk(root)
    lines = [
        _SPACES.sub(" ", line).strip().replace(_CELL_END + " ", _CELL_END).strip(_CELL_END).replace(_CELL_END, "\t")
        for line in "".join(parts).split("\n")
    ]
    text = "\n".join(lines)
    return _MANY_BREAKS.sub("\n\n", text).strip()


def strip_cell_markup(cell: str) -> str:
    """`<p>1. 3月6日…</p> <p>2. …</p>` -> `1. 3月6日… 2. …` (paragraphs kept apart by a space)."""
    text = _P_MARKUP.sub(" ", cell)
    return _SPACES.sub(" ", text).strip()
