"""A publishing pipeline: manuscript → DocBook 5 → repaired → translated drafts → print PDF and EPUB."""

__version__ = "0.1.0"
