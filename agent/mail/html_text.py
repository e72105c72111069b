"""HTML to plain text in linear time: lxml (libxml2) parses, one iterative walk writes lines.

html2text (GPL) went quadratic on nested lists (indentation repeated per level); libxml2 bounds the nesting
depth it builds, and the walk visits each element once.
"""

from __future__ import annotations

import re

from lxml import etree

# Elements that start and end a line of their own; everything else runs inline.
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
_CELLS = frozenset({"td", "th"})
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_TAGS = re.compile(r"<[^>]*>")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: paragraphs and list items on their own lines, links as their text."""
    if not html.strip():
        return ""
    try:
        parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True)
        root = etree.fromstring(html, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return _crude(html)
    return _tidy("".join(_walk(root)))


def _walk(root: etree._Element) -> list[str]:
    out: list[str] = []
    hidden = 0
    pre = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _HIDDEN:
                hidden += 1
            if hidden:
                continue
            pre += tag == "pre"
            if tag in _BLOCKS:
                out.append("\n")
                if tag == "li":
                    out.append("- ")
            elif tag in _CELLS:
                out.append(" ")
            if element.text:
                out.append(element.text if pre else _SPACES.sub(" ", element.text))
            continue
        if tag in _HIDDEN:
            hidden -= 1
        elif not hidden:
            pre -= tag == "pre"
            if tag in _BLOCKS:
                out.append("\n")
        if not hidden and element.tail:
            out.append(element.tail if pre else _SPACES.sub(" ", element.tail))
    return out


def _tidy(text: str) -> str:
    lines = (line.strip(" ") for line in text.replace("\xa0", " ").split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _crude(html: str) -> str:
    """What is left when even a forgiving parser gives up: the words between the tags."""
    return _tidy(_SPACES.sub(" ", _TAGS.sub(" ", html)))
