"""Text of a web page when trafilatura finds no main text: an lxml tree, else a flat tag stripper.

The stripper (html.parser events, no tree) reads pages too deeply nested for lxml's parser.
"""
from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

# Elements whose content is never article text.
_SKIP = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
         "select", "svg"}
# Elements that start a new line of text.
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article", "main",
          "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "figcaption", "hr", "body"}


def page_text(data: bytes, decode: Callable[[], str | None]) -> tuple[str, list[str]]:
    """Title and text lines of a page: lxml first, then the flat stripper over `decode()`, the
    page as text (None when its encoding is unclear)."""
    title, lines = _lxml_text(data)
    if lines:
        return title, lines
    decoded = decode()
    if decoded is None:
        return title, lines
    title_fb, lines = _stripped_text(decoded)
    return title or title_fb, lines


def _lxml_text(data: bytes) -> tuple[str, list[str]]:
    """Title and text lines of <body> without scripts, styles and navigation (lxml)."""
    import lxml.html

    try:
        root = lxml.html.fromstring(data)
    except Exception:  # lxml raises several types on junk; the next fallback or "no text" follows
        return "", []
    for el in root.xpath("//script|//style|//noscript|//nav|//header|//footer|//aside|//form"):
        el.drop_tree()
    title = " ".join((root.findtext(".//title") or "").split())
    body = root.find(".//body")
    text = (body if body is not None else root).text_content()
    return title, _lines(text, title)


def _lines(text: str, title: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() != title]


class _Stripper(HTMLParser):
    """Collects text outside skipped elements, a newline per block element; any depth."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skipping = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "title":
            self.in_title = True
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skipping:
            self.parts.append(data)


def _stripped_text(html: str) -> tuple[str, list[str]]:
    """Title and text lines of `html` by flat tag stripping (no tree, so no depth limit)."""
    parser = _Stripper()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; keep whatever was read before a surprise
        pass
    title = " ".join("".join(parser.title).split())
    return title, _lines("".join(parser.parts), title)
