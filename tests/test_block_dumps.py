"""Readers against stored expected readings, as pandoc tests its readers against ``.native`` files.

Each case is a manuscript (pandoc's DOCX corpus beside the project, and our own text manuscript)
and ``tests/expected/<name>.blocks``, the block stream ``press extract --dump-blocks`` prints for it,
reviewed by hand when it was written: lists with their levels and continuations, footnotes and
endnotes, comments as remarks, a table's header rows. A reader change that alters a reading fails
here with the difference; if the new reading is right, regenerate with PRESS_REGENERATE_BLOCKS=1
and review the diff in git.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from conftest import MANUSCRIPT, ROOT, run_press
from pipeline.ingest import read_manuscript
from pipeline.ingest.dump import dump_blocks

CORPUS = ROOT.parent / "shared" / "corpora" / "pandoc-docx"
EXPECTED = Path(__file__).resolve().parent / "expected"
CASES = {
    "lists": CORPUS / "lists.docx",  # nested levels, a continuation paragraph, two adjacent lists
    "notes": CORPUS / "notes.docx",  # a footnote and an endnote, kept apart
    "comments": CORPUS / "comments.docx",  # comments as remarks where they are anchored
    "table_header_rowspan": CORPUS / "table_header_rowspan.docx",  # two header rows, spans
    "manuscript": MANUSCRIPT,  # the text reader on the book it grew up with
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reader_reads_as_it_is_expected_to(name):
    source = CASES[name]
    if not source.exists():
        pytest.skip(f"{source} is not there (pandoc's corpus lives in ../shared/corpora)")
    reading = dump_blocks(read_manuscript(source))
    expected_file = EXPECTED / f"{name}.blocks"
    if os.environ.get("PRESS_REGENERATE_BLOCKS"):
        expected_file.write_text(reading, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    if reading != expected:
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), reading.splitlines(True),
                                                 f"expected/{name}.blocks", "read now"))[:60])
        pytest.fail(f"{source.name} is read differently:\n{diff}")


def test_the_command_line_prints_the_same_dump_and_writes_nothing(tmp_path):
    result = run_press("extract", str(MANUSCRIPT), "--dump-blocks", "-o", str(tmp_path / "book.xml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (EXPECTED / "manuscript.blocks").read_text(encoding="utf-8")
    assert not (tmp_path / "book.xml").exists()
