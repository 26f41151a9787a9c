"""Internal links and their targets: every ``linkend`` must meet an ``xml:id``, once.

A DOCX carries bookmarks (``w:bookmarkStart``) that internal links point to; the reader keeps
each as an ``<anchor>``. After the book is built: an anchor repeated (a bookmark copied with
its text) keeps its first place; an anchor no link points to (Word's own ``_Toc``/``_Ref``
bookmarks) is left out; a link to a bookmark the document does not have keeps its words,
loses its link, and is reported. A repair (priority 20, before the URLs): the structuring stage keeps
every anchor and link the reader gave it.
"""

from __future__ import annotations

from lxml import etree

from ..docbook import get_id, q, remove_keeping_tail, source_of, unwrap
from ..findings import Findings
from ..ingest.model import Where


def resolve_internal_links(book: etree._Element, findings: Findings) -> None:
    """Make the book's internal links and anchors consistent (see the module docstring)."""
    ids: set[str] = set()
    for node in book.iter():
        node_id = get_id(node) if isinstance(node.tag, str) and node.tag != q("anchor") else None
        if node_id:
            ids.add(node_id)
    for anchor in list(book.iter(q("anchor"))):
        anchor_id = get_id(anchor)
        if anchor_id in ids:
            remove_keeping_tail(anchor)
        elif anchor_id:
            ids.add(anchor_id)
    wanted = {link.get("linkend") for link in book.iter(q("link")) if link.get("linkend")}
    for anchor in list(book.iter(q("anchor"))):
        if get_id(anchor) not in wanted:
            remove_keeping_tail(anchor)
    for link in list(book.iter(q("link"))):
        target = link.get("linkend")
        if target and target not in ids:
            source = source_of(link)
            findings.flagged("broken-url", "internal link to a bookmark the manuscript does not have; its words "
                             "are kept without the link", before=target,
                             where=Where(paragraph=int(source["paragraph"])) if source.get("paragraph", "").isdigit()
                             else None)
            unwrap(link)
