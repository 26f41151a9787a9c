"""How a book's lines are recognised: the small vocabulary of titles, labels and names.

Kept in one place so that the rules a structuring decision rests on can be read (and
extended for another book) without reading the algorithm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The labels press's own editions print (locales/ui/*.po: Khmer and Japanese beside English) are part of
# the vocabulary, so that a Khmer or Japanese edition read back, or an author's Word file in those
# languages, is structured as the English one is (tests/test_pdf_roundtrip.py checks every catalog's labels).
# Numbers may be set in any script's digits (Khmer ១២, full-width １２): ``\d`` matches them and
# ``int`` and ``docbook.ascii_digits`` read them.
CHAPTER_LABEL = re.compile(r"^(?:(?:chapter|chap\.)\s+|(?P<ja>第)\s*|ជំពូក(?:ទី)?\s*)(?P<number>\d{1,3}|[IVXLC]+)"
                           r"(?(ja)\s*章)(?:\s*[:.：៖–—-]\s*(?P<title>.+))?$", re.IGNORECASE)
CHAPTER_LABEL_GLUED = re.compile(r"^(?:chapter)\s+(?P<digits>\d{2,6})$", re.IGNORECASE)
TOC_TITLE = re.compile(r"^(?:(?:table\s+of\s+)?contents|目次|មាតិកា)$", re.IGNORECASE)
# A caption's label and title: "Table 1: …", Japanese "表1　…" (a full-width space, or a space once read
# back), Khmer "តារាងទី១៖ …". An English label needs its punctuation: "Table 3 shows" is a sentence.
_CAPTION_SEPARATOR = r"(?(en)\s*[:.–—-]\s*|(?:\s*[:.：៖–—-]\s*|\s+))"
TABLE_TITLE = re.compile(rf"^(?:(?P<en>table)\s+|表\s*|តារាង(?:ទី)?\s*)(?P<number>\d{{1,3}}){_CAPTION_SEPARATOR}"
                         r"(?P<title>.+)$", re.IGNORECASE)
FIGURE_TITLE = re.compile(rf"^(?:(?P<en>figure|fig\.)\s+|図\s*|រូបភាព(?:ទី)?\s*)(?P<number>\d{{1,3}}){_CAPTION_SEPARATOR}"
                          r"(?P<title>.+)$", re.IGNORECASE)
ATTRIBUTION = re.compile(r"^(?:source|sources|photo|image|credit|photo credit)\s*:\s*\S", re.IGNORECASE)
CREDIT_LINE = re.compile(r"^(?:edited\s+by|editors?\s*:|written\s+by|compiled\s+by|編者|編集|កែសម្រួលដោយ)\s*:?\s*"
                         r"(?P<rest>.*)$", re.IGNORECASE)
PUBLISHED_BY = re.compile(r"^(?:published\s+by|publisher|発行(?:者|所)?|出版社|បោះពុម្ពផ្សាយដោយ)\s*:?\s*(?P<rest>.*)$",
                          re.IGNORECASE)
ISBN_LINE = re.compile(r"\bISBN(?:-1[03])?\s*:?\s*(?P<isbn>[0-9][0-9\- ]{8,20}[0-9Xx])")
COPYRIGHT_LINE = re.compile(r"^(?:copyrights?|©|\(c\)|រក្សាសិទ្ធិ)\s*(?:©\s*)?(?P<year>(?:19|20|១៩|២០)\d\d)?\s*"
                            r"(?P<holder>.*)$", re.IGNORECASE)
RIGHTS_LINE = re.compile(r"^all\s+rights\s+reserved", re.IGNORECASE)
WEBSITE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
NOTE_ENTRY = re.compile(r"^(?P<number>\d{1,3})(?:[.)])?\s+(?=\S)")

# Front matter and back matter parts, by the titles books give them.
PART_ROLES = {
    "foreword": "foreword",
    "preface": "preface",
    "acknowledgements": "acknowledgements",
    "acknowledgments": "acknowledgements",
    "book outline": "outline",
    "outline of the book": "outline",
    "executive summary": "executive-summary",
    "summary": "executive-summary",
    "about the authors": "contributors",
    "about the contributors": "contributors",
    "list of contributors": "contributors",
}
NOTES_TITLES = {"references", "reference", "notes", "endnotes", "bibliography", "works cited", "sources",
                "注", "脚注", "参考文献", "កំណត់សម្គាល់"}
ABBREVIATIONS_TITLES = {"list of abbreviations", "abbreviations", "list of acronyms", "acronyms",
                        "abbreviations and acronyms"}
# Section titles that open or close a chapter's argument sit at the top level of its outline.
TOP_LEVEL_SECTION = re.compile(
    r"^(?:introduction|conclusions?|concluding remarks|policy implications|policy recommendations|"
    r"recommendations|moving forward|the way forward|way forward|forward-looking implications|summary)\b",
    re.IGNORECASE)

HONORIFICS = ("Dr.", "Dr", "Prof.", "Professor", "Assoc.", "Asst.", "H.E.", "Mr.", "Ms.", "Mrs.", "Amb.", "Sir")
LINEAGE = ("Jr.", "Jr", "Sr.", "II", "III", "IV")
NAME_PARTICLES = {"de", "da", "di", "del", "dos", "van", "von", "der", "den", "bin", "binti", "al", "le", "la", "y"}
# Words that make a short capitalised line an institution or a post, not a person.
INSTITUTIONAL = {"institute", "university", "centre", "center", "council", "ministry", "academy", "president",
                 "director", "professor", "chairman", "chair", "fellow", "analyst", "office", "department",
                 "school", "foundation", "association", "agency", "secretariat", "press", "publishing", "bank",
                 "organisation", "organization", "embassy", "government", "committee", "forum", "group"}


def normalized(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: for comparing titles."""
    text = re.sub(r"\s+", " ", text).strip().lower()
    return text.rstrip(" .:;")


_TOC_LINE = re.compile(r"^(?P<label>.*?\S)(?:\s*(?:\.{2,}|…+)\s*|\s+)(?P<page>\d{1,4}|[ivxlcdm]{1,7})$", re.IGNORECASE)


def split_toc_line(text: str) -> tuple[str, str | None]:
    """``Acknowledgements.....\t6`` -> ("Acknowledgements", "6"); a bare chapter label has no page."""
    text = text.strip()
    if CHAPTER_LABEL_GLUED.match(text):
        return text, None
    if CHAPTER_LABEL.match(text) and not re.search(r"(?:\.{2,}|\s{2,}|\t)\d+$", text):
        return text, None
    match = _TOC_LINE.match(text)
    if not match:
        return text.rstrip(" .\t"), None
    return match.group("label").rstrip(" .\t"), match.group("page")


# What press's own editions print where an image was not supplied (pipeline/render/html.py).
MISSING_IMAGE_TEXTS = {"image not supplied with the manuscript", "原稿に画像が含まれていません",
                       "មិនមានរូបភាពភ្ជាប់មកជាមួយសាត្រាស្លឹករឹត"}


def is_missing_image_text(text: str) -> bool:
    return normalized(text) in MISSING_IMAGE_TEXTS


def part_role(text: str) -> str | None:
    return PART_ROLES.get(normalized(text))


def is_notes_title(text: str) -> bool:
    return normalized(text) in NOTES_TITLES


def is_abbreviations_title(text: str) -> bool:
    return normalized(text) in ABBREVIATIONS_TITLES


def is_upper_token(token: str) -> bool:
    letters = [char for char in token if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


@dataclass
class PersonName:
    """A name split the way the book prints it: family names in capitals."""

    text: str
    honorific: str | None = None
    given: str | None = None
    family: str | None = None
    lineage: str | None = None
    family_first: bool = False

    @property
    def known_parts(self) -> bool:
        return self.family is not None


def parse_person(text: str) -> PersonName:
    """Split ``Dr. CHHENG Kimlong`` into honorific, family (the capitalised token) and given name.

    Without a capitalised token the order of given and family name cannot be known (Khmer
    names put the family name first, Western names last), so the name stays whole.
    """
    tokens = text.split()
    honorific = None
    while tokens and tokens[0] in HONORIFICS:
        honorific = (honorific + " " if honorific else "") + tokens.pop(0)
    lineage = tokens.pop() if len(tokens) > 2 and tokens[-1] in LINEAGE else None
    upper = [i for i, token in enumerate(tokens) if is_upper_token(token.strip(",."))]
    if len(upper) != 1 or len(tokens) < 2:
        return PersonName(text=text, honorific=honorific, lineage=lineage)
    index = upper[0]
    family = tokens[index]
    given = " ".join(tokens[:index] + tokens[index + 1:])
    return PersonName(text=text, honorific=honorific, given=given or None, family=family,
                      lineage=lineage, family_first=index == 0)


def looks_like_person(text: str) -> bool:
    """A short line that reads as a personal name: capitalised words, perhaps a title."""
    tokens = text.strip().split()
    if not 1 <= len(tokens) <= 6:
        return False
    core = [token for token in tokens if token not in HONORIFICS and token not in LINEAGE]
    if not core or len(core) > 5:
        return False
    initials = any(re.fullmatch(r"[A-Z]\.", token) for token in tokens)
    if not any(char.islower() for char in text) and not initials and not any(token in HONORIFICS for token in tokens):
        return False  # an all-capitals line is a heading or a logo, not a byline (unless it has initials)
    for token in core:
        bare = token.strip(",.;")
        if bare.lower() in INSTITUTIONAL:
            return False
        if not bare or not (bare[0].isupper() or bare.lower() in NAME_PARTICLES):
            return False
        if any(char.isdigit() for char in bare):
            return False
    return True
