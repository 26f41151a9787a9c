"""The block stream as text: what a reader made of a manuscript, before any structuring.

``press extract --dump-blocks`` prints it, and the reader tests compare it with stored expected
dumps (``tests/expected/*.blocks``), as pandoc tests its readers against ``.native`` files. One
block a line::

    HEADING level=1 @paragraph 1 | Some nested lists
    ITEM bullet="1." level=1 list=1 @paragraph 2 | one
    TEXT gap=page @page 3 | a {em|word} and a link {link=https://example.org|here}{note 1}
        NOTE 1:
            TEXT @page 3 | the note's own text
    ROW header @paragraph 7 | cell ‖ cell
    DROPPED running-head @page 2 | The Book's Title
    WARNING tolerant-read @page 1 | the PDF is damaged …

Inline styles are shown as ``{style|text}``; only what the block holds is written, so the dump
changes only when what the reader reads changes.
"""

from __future__ import annotations

from .model import Block, Gap, Manuscript, Span, Where


def dump_blocks(manuscript: Manuscript) -> str:
    """The whole reading: blocks (notes nested under them), then what was dropped, then warnings."""
    lines: list[str] = [f"MANUSCRIPT {manuscript.format}" + (f" | title {manuscript.title}" if manuscript.title else "")]
    for block in manuscript.blocks:
        _block(block, lines, "")
    for dropped in manuscript.dropped:
        lines.append(f"DROPPED {dropped.reason}{_where(dropped.where)} | {dropped.text}")
    for warning in manuscript.warnings:
        lines.append(f"WARNING {warning.kind}{_where(warning.where)} | {warning.message}")
    return "\n".join(lines) + "\n"


def _block(block: Block, lines: list[str], indent: str) -> None:
    attributes = [block.kind.value.upper()]
    if block.gap is not Gap.PARAGRAPH:
        attributes.append(f"gap={block.gap.value}")
    for name in ("level", "bullet", "number", "list_id", "table", "style", "image"):
        value = getattr(block, name, None)
        if value is not None and value != "":
            attributes.append(f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}")
    if getattr(block, "continuation", False):
        attributes.append("continuation")
    if getattr(block, "header", False):
        attributes.append("header")
    for name in ("spans_columns", "spans_rows"):  # only when a cell spans more than one
        spans = getattr(block, name, None)
        if spans and any(count != 1 for count in spans):
            attributes.append(f"{name}={','.join(map(str, spans))}")
    if block.cells is not None:
        text = " ‖ ".join(_spans(cell) for cell in block.cells)
    else:
        text = _spans(block.spans)
    lines.append(f"{indent}{' '.join(attributes)}{_where(block.where)} | {text}")
    for span in block.spans + [span for cell in block.cells or [] for span in cell]:
        if span.note:
            kind = (getattr(span, "note_kind", None) or "note").upper()
            lines.append(f"{indent}    {kind}" + (f" {span.note_label}" if span.note_label else "") + ":")
            for note_block in span.note:
                _block(note_block, lines, indent + "        ")


def _spans(spans: list[Span]) -> str:
    return "".join(_span(span) for span in spans)


def _span(span: Span) -> str:
    styles = [name for name, on in (("em", span.emphasis), ("strong", span.strong),
                                    ("sup", span.superscript), ("exponent", getattr(span, "exponent", False)))
              if on]
    styles += sorted(getattr(span, "marks", ()) or ())
    if span.href:
        styles.append(f"link={span.href}")
    text = span.text.replace("\n", "\\n")
    shown = "{" + ",".join(styles) + "|" + text + "}" if styles else text
    if span.remark:
        shown += "{remark|" + span.remark.replace("\n", "\\n") + "}"
    if span.anchor:
        shown += "{anchor=" + span.anchor + "}"
    if span.note is not None:
        kind = getattr(span, "note_kind", None) or "note"
        shown += "{" + kind + (f" {span.note_label}" if span.note_label else "") + "}"
    return shown


def _where(where: Where | None) -> str:
    return f" @{where.describe()}" if where is not None and where.describe() != "unknown position" else ""
