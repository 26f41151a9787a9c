"""Inline structure in plain-text manuscripts: note markers, emphasis leftovers, links, escapes.

A PDF-to-text extraction carries a little markup from the tools it passed through: Unicode
superscript digits for note markers, markdown ``*italic*`` and ``\\$``, HTML ``<i>…</i>`` and
``<https://…>`` autolinks. Only this known, harmless vocabulary is interpreted; any other
text that looks like markup (``<img src=…>``) stays text, so a manuscript can never inject
markup into the editions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from .model import Span

SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")

# One alternation, scanned left to right; each group is one kind of token.
_TOKEN = re.compile(
    r"(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)"
    r"|(?P<autolink><(?P<autourl>(?:https?|ftp)://[^<>\n]{1,2000})>)"
    r"|(?P<tag></?(?P<tagname>i|em|b|strong)\s*>)"
    r"|(?P<strong>\*\*(?=\S)(?P<strongtext>[^*\n]{1,500}?)(?<=\S)\*\*)"
    r"|(?P<emph>(?<![\w*])\*(?=[^\s*])(?P<emphtext>[^*\n]{1,500}?)(?<=[^\s*])\*(?![*]|(?![⁰¹²³⁴⁵⁶⁷⁸⁹])\w))"
    r"|(?P<escape>\\(?P<escaped>[\\`*_{}\[\]()#+\-.!$<>|~\"']))"
    r"|(?P<url>(?:https?|ftp)://[^\s<>\"]{2,2000})",
    re.IGNORECASE,
)

_URL_TRAILING = ".,;:!?'\"”’)]}>"


@dataclass
class InlineReport:
    """What the inline parser had to interpret, so the repair report can say so."""

    markup: list[str] = field(default_factory=list)  # markup leftovers turned into structure
    escapes: list[str] = field(default_factory=list)  # backslash escapes resolved
    broken_urls: list[str] = field(default_factory=list)  # URLs too damaged to link (spaces inside)


_URI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def link_target(url: str) -> str | None:
    """The href for a URL as printed, or None when it is too damaged to link safely."""
    if any(char.isspace() for char in url):
        return None
    return quote(url, safe=_URI_SAFE)


def trim_url(url: str) -> tuple[str, str]:
    """Split sentence punctuation off the end of a bare URL, keeping balanced brackets."""
    trailing = ""
    while url and url[-1] in _URL_TRAILING:
        char = url[-1]
        if char == ")" and url.count("(") >= url.count(")"):
            break
        trailing = char + trailing
        url = url[:-1]
    return url, trailing


def parse_inline(text: str, report: InlineReport | None = None) -> list[Span]:
    """Turn one line of manuscript text into spans; unknown markup stays literal text."""
    spans: list[Span] = []
    emphasis = strong = False
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            spans.append(Span("".join(buffer), emphasis=emphasis, strong=strong))
            buffer.clear()

    position = 0
    for match in _TOKEN.finditer(text):
        buffer.append(text[position:match.start()])
        position = match.end()
        kind = match.lastgroup
        if match.group("sup"):
            flush()
            spans.append(Span(match.group("sup").translate(SUPERSCRIPT_DIGITS), superscript=True,
                              emphasis=emphasis, strong=strong))
        elif match.group("autolink"):
            flush()
            url = match.group("autourl")
            href = link_target(url)
            spans.append(Span(url, href=href, emphasis=emphasis, strong=strong))
            if report is not None:
                report.markup.append(match.group("autolink"))
                if href is None:
                    report.broken_urls.append(url)
        elif match.group("tag"):
            flush()
            name = match.group("tagname").lower()
            closing = match.group("tag").startswith("</")
            if name in ("i", "em"):
                emphasis = not closing
            else:
                strong = not closing
            if report is not None:
                report.markup.append(match.group("tag"))
        elif match.group("strong"):
            flush()
            spans.append(Span(match.group("strongtext"), emphasis=emphasis, strong=True))
            if report is not None:
                report.markup.append(match.group("strong"))
        elif match.group("emph"):
            flush()
            spans.append(Span(match.group("emphtext"), emphasis=True, strong=strong))
            if report is not None:
                report.markup.append(match.group("emph"))
        elif match.group("escape"):
            buffer.append(match.group("escaped"))
            if report is not None:
                report.escapes.append(match.group("escape"))
        elif match.group("url") and match.start() > 0 and text[match.start() - 1] == "<":
            buffer.append(match.group("url"))  # an autolink whose closing bracket is on another line
        elif match.group("url"):
            url, trailing = trim_url(match.group("url"))
            flush()
            spans.append(Span(url, href=link_target(url), emphasis=emphasis, strong=strong))
            buffer.append(trailing)
        else:  # pragma: no cover - every group is handled above
            raise AssertionError(kind)
    buffer.append(text[position:])
    flush()
    return merge_spans(spans)


_BARE_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"]{2,2000}", re.IGNORECASE)


def linkify(spans: list[Span]) -> list[Span]:
    """Turn bare URLs inside plain spans into link spans (for formats whose links are just text)."""
    out: list[Span] = []
    for span in spans:
        if span.href or span.superscript or span.note is not None:
            out.append(span)
            continue
        position = 0
        for match in _BARE_URL.finditer(span.text):
            url, trailing = trim_url(match.group())
            out.append(Span(span.text[position:match.start()], span.emphasis, span.strong))
            out.append(Span(url, span.emphasis, span.strong, href=link_target(url)))
            position = match.start() + len(url)
        out.append(Span(span.text[position:], span.emphasis, span.strong))
    return [span for span in out if span.text or span.note is not None]


def merge_spans(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans of the same style and drop empty ones."""
    merged: list[Span] = []
    for span in spans:
        if not span.text and not span.note and not span.special:
            continue
        if merged and merged[-1].same_style(span) and not span.superscript and not span.href:
            merged[-1] = merged[-1].with_text(merged[-1].text + span.text)
        else:
            merged.append(span)
    return merged
