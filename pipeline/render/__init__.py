"""Rendering: the (localized) DocBook book into print PDF and EPUB editions."""
