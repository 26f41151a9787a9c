"""What two PDFs of the same edition must agree on, read with poppler and pikepdf (not with our code):
the text of every page, the outline, where every link lands, the page labels; and whether a PDF's
structure tree holds together (one Document root, every marked-content id reachable from the
ParentTree and back)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def page_texts(pdf: Path) -> list[str]:
    """pdftotext's text of each page (pages separated by form feeds)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    pages = text.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _page_index(document) -> dict:
    return {page.obj.objgen: number for number, page in enumerate(document.pages)}


def _where(destination, pages: dict) -> tuple:
    """(page index, /XYZ left, top) of an explicit destination, rounded to a tenth of a point."""
    return (pages.get(destination[0].objgen), *(round(float(value), 1) for value in list(destination)[2:4]))


def _named(document) -> dict[str, object]:
    names = document.Root.Names.Dests.Names if "/Names" in document.Root else []
    return {str(names[i]): names[i + 1] for i in range(0, len(names), 2)}


def outline(document) -> list[tuple]:
    """(depth, title, page, left, top) of every outline entry, in order."""
    pages = _page_index(document)
    found: list[tuple] = []

    def walk(item, depth: int) -> None:
        while item is not None:
            found.append((depth, str(item.Title), *_where(item.Dest, pages)))
            if "/First" in item:
                walk(item.First, depth + 1)
            item = item.get("/Next")
    if "/Outlines" in document.Root and "/First" in document.Root.Outlines:
        walk(document.Root.Outlines.First, 0)
    return found


def links(document) -> list[tuple]:
    """(page, rectangle, where it lands) of every link: internal ones resolved to page and position."""
    import pikepdf
    pages = _page_index(document)
    named = _named(document)
    found = []
    for number, page in enumerate(document.pages):
        for annotation in page.obj.get("/Annots", []):
            rect = tuple(round(float(value), 1) for value in annotation.Rect)
            if "/Dest" in annotation:
                destination = annotation.Dest
                if isinstance(destination, pikepdf.String):
                    destination = named[str(destination)]
                target: tuple = ("page", *_where(destination, pages))
            else:
                target = ("uri", str(annotation.A.URI))
            found.append((number, rect, target))
    return found


def page_labels(document) -> list:
    nums = document.Root.PageLabels.Nums
    return [(int(nums[i]), str(nums[i + 1].S)) for i in range(0, len(nums), 2)]


_MCID = re.compile(rb"/MCID\s+(\d+)")


def structure_problems(document) -> list[str]:
    """What is wrong with the structure tree (empty when it holds together)."""
    import pikepdf
    problems: list[str] = []
    tree = document.Root.StructTreeRoot
    roots = list(tree.K) if isinstance(tree.K, pikepdf.Array) else [tree.K]
    if len(roots) != 1 or roots[0].S != "/Document":
        problems.append(f"the tree has {len(roots)} roots ({[str(r.get('/S')) for r in roots]}), not one Document")
    reachable: set = set()
    stack = list(roots)
    while stack:
        element = stack.pop()
        if element.objgen in reachable and element.objgen != (0, 0):
            continue
        reachable.add(element.objgen)
        kids = element.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
        stack += [kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR"
                  and kid.get("/Type") != "/OBJR"]
    nums = tree.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    seen_keys: set[int] = set()
    for number, page in enumerate(document.pages):
        content = b"".join(stream.read_bytes() for stream in
                           ([page.obj.Contents] if isinstance(page.obj.Contents, pikepdf.Stream)
                            else list(page.obj.Contents)))
        mcids = [int(m) for m in _MCID.findall(content)]
        if not mcids:
            continue
        key = page.obj.get("/StructParents")
        if key is None or int(key) not in parents:
            problems.append(f"page {number + 1} has marked content but no ParentTree entry")
            continue
        if int(key) in seen_keys:
            problems.append(f"page {number + 1} shares StructParents {int(key)} with another page")
        seen_keys.add(int(key))
        array = parents[int(key)]
        for mcid in mcids:
            if mcid >= len(array) or not isinstance(array[mcid], pikepdf.Dictionary):
                problems.append(f"page {number + 1}: MCID {mcid} has no structure element")
            elif array[mcid].objgen not in reachable:
                problems.append(f"page {number + 1}: MCID {mcid}'s element is not reachable from the root")
        for annotation in page.obj.get("/Annots", []):
            key = annotation.get("/StructParent")
            if key is None or int(key) not in parents:
                problems.append(f"page {number + 1}: an annotation has no ParentTree entry")
            elif parents[int(key)].objgen not in reachable:
                problems.append(f"page {number + 1}: an annotation's element is not reachable from the root")
            elif int(key) in seen_keys:
                problems.append(f"page {number + 1}: annotation key {int(key)} is used twice")
            else:
                seen_keys.add(int(key))
    return problems


def fonts_embedded(document) -> list[str]:
    """The fonts used on pages that are not embedded (empty: every font is)."""
    missing = []
    for page in document.pages:
        for font in page.obj.Resources.get("/Font", {}).values():
            descendants = font.get("/DescendantFonts")
            described = descendants[0] if descendants is not None else font
            descriptor = described.get("/FontDescriptor")
            if descriptor is not None and not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.append(str(font.get("/BaseFont")))
    return missing


def font_names(pdf: Path) -> list[str]:
    """The fonts poppler's pdffonts lists (one line per font dictionary the pages and their forms use)."""
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines()[2:] if line.strip()]


def fonts_by_name(document) -> dict[str, list]:
    """Every distinct font dictionary the pages and the forms drawn on them use, by BaseFont."""
    import pikepdf
    found: dict[str, dict] = {}
    seen: set = set()
    holders = [page.obj for page in document.pages]
    while holders:
        resources = holders.pop().get("/Resources")
        if not isinstance(resources, pikepdf.Dictionary) or (resources.is_indirect and resources.objgen in seen):
            continue
        seen.add(resources.objgen)
        for font in resources.get("/Font", {}).values():
            found.setdefault(str(font.BaseFont), {})[font.objgen] = font
        holders += [form for form in resources.get("/XObject", {}).values()
                    if form.get("/Subtype") == "/Form" and form.objgen not in seen]
        seen.update(form.objgen for form in resources.get("/XObject", {}).values())
    return {name: list(fonts.values()) for name, fonts in found.items()}


def font_program(font):
    """A Type 0 font's embedded program (the stream object)."""
    descriptor = font.DescendantFonts[0].FontDescriptor
    return next(descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in descriptor)


def cid_widths(font) -> dict[int, float]:
    """A Type 0 font's /W: each glyph id's advance, as WeasyPrint writes it (``first [w ...]`` runs)."""
    import pikepdf
    items = list(font.DescendantFonts[0].W)
    widths: dict[int, float] = {}
    index = 0
    while index < len(items):
        if isinstance(items[index + 1], pikepdf.Array):
            widths.update((int(items[index]) + offset, float(width)) for offset, width in enumerate(items[index + 1]))
            index += 2
        else:
            widths.update((cid, float(items[index + 2])) for cid in range(int(items[index]), int(items[index + 1]) + 1))
            index += 3
    return widths


def glyph_drawings(program: bytes, glyph_ids) -> dict[int, tuple]:
    """Each glyph's outline (components drawn in) and advance, read with fontTools from a font program."""
    import io
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.ttLib import TTFont
    font = TTFont(io.BytesIO(program), lazy=True)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    drawings = {}
    for glyph_id in glyph_ids:
        pen = DecomposingRecordingPen(glyphs)
        glyphs[order[glyph_id]].draw(pen)
        drawings[glyph_id] = (tuple(pen.value), glyphs[order[glyph_id]].width)
    return drawings
