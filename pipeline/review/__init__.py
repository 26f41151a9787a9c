"""Review: what translators and the publisher need to judge the translations (checks, glossary, reports)."""
