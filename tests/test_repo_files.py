"""Repository hygiene: the docs stay readable pages (an edit script once wrote a 26 MB
decode-neurons.md by replacing the empty string)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_PAGE_BYTES = 200_000


def test_docs_pages_are_page_sized():
    pages = [*ROOT.glob("docs/**/*.md"), *ROOT.glob("*.md")]
    assert pages
    too_big = {str(p.relative_to(ROOT)): p.stat().st_size for p in pages
               if p.stat().st_size > MAX_PAGE_BYTES}
    assert not too_big, too_big
