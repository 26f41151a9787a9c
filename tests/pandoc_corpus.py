"""Pandoc's DOCX test corpus and the words pandoc reads in each file, for the corpus test and bench.

The corpus (``../shared/corpora/pandoc-docx``, never copied into the project) holds 123 ``.docx``
files: 85 reader tests, most beside pandoc's expected reading ``NAME.native``, and 38 writer
outputs under ``golden/``. What a file "says" is taken, in this order, from:

1. the ``.native`` beside it: pandoc's reviewed expectation, independent of the pandoc installed
   here and free to read (no subprocess). For tracked changes the ``_accept`` reading (press
   accepts insertions and drops deletions), for citation fields the ``_minus`` one (the field's
   printed text, which is what press reads);
2. otherwise the installed pandoc's own reading (``pandoc -f docx -t json``);
3. a file pandoc itself cannot read (pandoc 2.17 refuses ``ns0-reference.docx``) has no word
   expectation: press must still read it, and the feature table says what it must find.

Words are compared as multisets of ``\\w+`` tokens (case kept), so punctuation, spacing, markup
and order do not matter: a word counts as kept when the book has it at least as often as pandoc.
The native's ``Str`` tokens are used (plus the text of ``Code``/``CodeBlock``/``Math``), joined
as pandoc joins them (``Str "U", Str "sing"`` is one word); raw blocks and attribute values are not
text. The book's text is joined the same way: inline elements do not break words, blocks do.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from functools import lru_cache
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "pandoc-docx"
WORD = re.compile(r"\w+")
_NATIVE_TOKEN = re.compile(r'"(?P<string>(?:[^"\\]|\\.)*)"|(?P<name>[A-Z][A-Za-z]*)|(?P<open>\()|(?P<close>\))'
                           r'|(?P<begin>\[)|(?P<end>\])',
                           re.DOTALL)
_TEXT_CONSTRUCTORS = {"Str", "Code", "CodeBlock", "Math"}
_HASKELL_NAMED = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
                  "f": "\f", "v": "\v"}
_HASKELL_ASCII = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN "
                  "EM SUB ESC FS GS RS US SP DEL").split()


def corpus_files() -> list[Path]:
    """Every .docx of the corpus, reader tests first, in a stable order."""
    return sorted(CORPUS.glob("*.docx")) + sorted(CORPUS.glob("golden/*.docx"))


def native_for(docx: Path) -> Path | None:
    """The .native that is pandoc's expected reading of ``docx`` (None for writer outputs)."""
    if docx.parent != CORPUS:
        return None
    for suffix in ("", "_accept", "_minus"):
        candidate = CORPUS / f"{docx.stem}{suffix}.native"
        if candidate.exists():
            return candidate
    return None


def haskell_string(body: str) -> str:
    """The value of a Haskell ``show``n string literal (pandoc's native format)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        following = body[i + 1]
        if following.isdigit():
            digits = re.match(r"\d+", body[i + 1:]).group()
            out.append(chr(int(digits)))
            i += 1 + len(digits)
        elif following == "&":
            i += 2
        elif following == "x":
            digits = re.match(r"[0-9a-fA-F]+", body[i + 2:]).group()
            out.append(chr(int(digits, 16)))
            i += 2 + len(digits)
        elif following in _HASKELL_NAMED:
            out.append(_HASKELL_NAMED[following])
            i += 2
        else:
            name = next((n for n in sorted(_HASKELL_ASCII, key=len, reverse=True) if body.startswith(n, i + 1)), None)
            if name is None:
                raise ValueError(f"unknown escape in native string: {body[i:i + 6]!r}")
            out.append(chr(_HASKELL_ASCII.index(name) if name not in ("SP", "DEL") else (32 if name == "SP" else 127)))
            i += 1 + len(name)
    return "".join(out)


# Inline constructors that do not separate words: "m" Superscript ["2"] is the one word "m2" to pandoc.
_JOINING = {"Str", "Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Span",
            "Link", "Quoted", "DoubleQuote", "SingleQuote", "Cite", "Code", "Math", "InlineMath", "DisplayMath",
            "Image"}


def native_texts(native: str) -> list[str]:
    """The document's text as pandoc reads it, from the ``.native`` source: ``Str`` tokens (and
    ``Code``/``CodeBlock``/``Math`` content) joined as pandoc joins them, any other constructor
    (``Space``, ``LineBreak``, a block) and the end of a list of inlines a word break."""
    texts: list[str] = []
    pending: str | None = None  # the constructor whose text string is still to come
    depth_at_pending = 0
    depth = 0
    lists: list[bool] = []  # open brackets: does their end break a word (a block's inlines, not Emph's)?
    last_name = ""
    tokens = list(_NATIVE_TOKEN.finditer(native))
    for index, match in enumerate(tokens):
        if match.group("open"):
            depth += 1
        elif match.group("close"):
            depth -= 1
        elif match.group("begin"):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            content = following is not None and following.group("name") is not None
            lists.append(content and last_name not in _JOINING)  # Emph [..] is inside a word's run
        elif match.group("end"):
            if lists and lists.pop():
                texts.append(" ")  # the end of a paragraph's, a term's or a cell's inlines ends its last word
        elif match.group("name"):
            name = last_name = match.group("name")
            if name in _TEXT_CONSTRUCTORS:
                pending, depth_at_pending = name, depth
            if name not in _JOINING:
                texts.append(" ")
        elif match.group("string") is not None and pending is not None:
            if depth == depth_at_pending:  # not a string inside the constructor's attributes
                texts.append(haskell_string(match.group("string")))
                pending = None
    return ["".join(texts)]


def _json_texts(node, texts: list[str]) -> None:
    if isinstance(node, dict):
        kind = node.get("t")
        if kind not in _JOINING:
            texts.append(" ")
        if kind == "Str":
            texts.append(node["c"])
            return
        if kind in ("Code", "CodeBlock", "Math"):
            texts.append(node["c"][1])
            return
        if kind in ("RawInline", "RawBlock"):
            return
        for value in node.values():
            _json_texts(value, texts)
    elif isinstance(node, list):
        for value in node:
            _json_texts(value, texts)
        texts.append(" ")  # the end of a list of inlines (a term, a cell) ends its last word


def words(texts) -> Counter:
    counter: Counter = Counter()
    for text in texts:
        counter.update(WORD.findall(text))
    return counter


@lru_cache(maxsize=None)
def expected_words(docx: Path) -> tuple[str, Counter | None]:
    """(where the expectation comes from, pandoc's words) for one corpus file; None if pandoc cannot read it."""
    native = native_for(docx)
    if native is not None:
        return native.name, words(native_texts(native.read_text(encoding="utf-8")))
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        return "pandoc (not installed)", None
    result = subprocess.run([pandoc, "-f", "docx", "-t", "json", str(docx)], capture_output=True, timeout=60)
    if result.returncode != 0:
        return "pandoc (cannot read it)", None
    texts: list[str] = []
    _json_texts(json.loads(result.stdout), texts)
    return "pandoc -t json", words(["".join(texts)])


# DocBook inlines that do not separate words (everything else, a paragraph or a note, does).
_INLINE = {"emphasis", "link", "superscript", "subscript", "code", "literal", "anchor", "inlinemediaobject",
           "phrase", "quote", "abbrev", "citetitle", "firstname", "surname", "personname", "honorific"}


def book_text(element: etree._Element, parts: list[str]) -> None:
    """The book's text in reading order, block boundaries (and notes, remarks) as spaces."""
    inline = isinstance(element.tag, str) and etree.QName(element).localname in _INLINE
    if not inline:
        parts.append(" ")
    if isinstance(element.tag, str):
        parts.append(element.text or "")
        for child in element:
            book_text(child, parts)
    if not inline:
        parts.append(" ")
    parts.append(element.tail or "")


def book_words(root: etree._Element) -> Counter:
    """The words of a DocBook book: every text node, processing instructions and comments aside."""
    parts: list[str] = []
    book_text(root, parts)
    return words(["".join(parts)])


def kept(expected: Counter, got: Counter) -> int:
    """How many of pandoc's words the book has (each at most as often as pandoc has it)."""
    return sum(min(count, got.get(word, 0)) for word, count in expected.items())
