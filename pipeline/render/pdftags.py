"""A PDF structure tree that holds up to an accessibility check.

WeasyPrint tags the PDF from the laid-out boxes (PDF/UA-1), but its tree leaves out three things
an outside check (and a screen reader) needs:

* ``/Lang`` on elements: an English note or passage in the Khmer or Japanese edition was tagged
  only with the document's language, so it was read with a Khmer or Japanese voice;
* ``/Scope`` on table header cells (``<th scope="col">`` in the HTML);
* ``LBody`` in list items: a note's paragraph sat in ``LI`` beside its ``Lbl`` instead of in the
  item's body (ISO 32000-1 14.8.4.3.3: LI holds Lbl and LBody).

While an edition is written, each structure element WeasyPrint builds is completed from the
HTML element it came from. The HTML stays the single source of what each element is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_SCOPES = {"col": "/Column", "row": "/Row", "colgroup": "/Column", "rowgroup": "/Row"}


def _name(value) -> str:
    return str(value)


@contextmanager
def complete_structure_tree() -> Iterator[None]:
    """Write PDFs under this context to add /Lang, /Scope and LBody to WeasyPrint's tags."""
    import pydyf
    import weasyprint.pdf.tags as tags_module

    original = tags_module._build_box_tree

    def build(box, parent, pdf, page_number, *args, **kwargs):
        for element in original(box, parent, pdf, page_number, *args, **kwargs):
            _complete(element, box, pdf, page_number, pydyf)
            yield element

    tags_module._build_box_tree = build
    try:
        yield
    finally:
        tags_module._build_box_tree = original


def _complete(element, box, pdf, page_number: int, pydyf) -> None:
    html = getattr(box, "element", None)
    if html is None or getattr(box, "element_tag", None) in ("html", "body"):
        return
    structure = _name(element.get("S", ""))
    lang = html.get("lang")
    if lang and "Lang" not in element and structure not in ("/NonStruct",):
        element["Lang"] = pydyf.String(lang)
    if structure == "/TH":
        attributes = element.get("A")
        if attributes is not None and "Scope" not in attributes:
            attributes["Scope"] = _SCOPES.get(html.get("scope", "col"), "/Column")
    if structure == "/LI":
        _wrap_item_body(element, pdf, page_number, pydyf)


def _referenced(pdf, reference):
    """The object an indirect reference (``b"12 0 R"``) names, or None for anything else (an MCID)."""
    if not isinstance(reference, bytes) or not reference.endswith(b" R"):
        return None
    number = int(reference.split()[0])
    return pdf.objects[number] if 0 < number < len(pdf.objects) else None


def _wrap_item_body(item, pdf, page_number: int, pydyf) -> None:
    """Move an item's children other than its label into one LBody."""
    kids = list(item["K"])
    targets = [_referenced(pdf, kid) for kid in kids]
    if not kids or any(not isinstance(target, pydyf.Dictionary) for target in targets):
        return  # a marked-content id or something unexpected: leave the item as WeasyPrint made it
    loose = [target for target in targets if _name(target.get("S", "")) not in ("/Lbl", "/LBody")]
    if not loose:
        return
    body = pydyf.Dictionary({"Type": "/StructElem", "S": "/LBody", "K": pydyf.Array([]),
                             "Pg": pdf.page_references[page_number], "P": item.reference})
    pdf.add_object(body)
    kept = []
    for kid, target in zip(kids, targets):
        if target in loose:
            body["K"].append(kid)
            target["P"] = body.reference
        else:
            kept.append(kid)
    item["K"] = pydyf.Array([*kept, body.reference])
