"""The feature pages open with a figure (issue 22): every page of tools.docs_figures' table shows
its committed PNG near its top, and each PNG is a real PNG of a sensible size. No browser: the
PNGs are drawn by `python -m tools.docs_figures`, and read here as files."""

from __future__ import annotations

import struct

import pytest

from tools.docs_figures import DOCS, FIGURES, OUT, DocFigure

TOP_LINES = 30  # the figure comes right after a page's first paragraph
MAX_BYTES = 400_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PLACED = [e for e in FIGURES if not e.pending]


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG (signature)"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, "not a PNG (no IHDR chunk first)"
    return struct.unpack(">II", data[16:24])


def test_table_is_sane():
    pages = [e.page for e in FIGURES]
    assert len(pages) == len(set(pages))
    assert PLACED
    for entry in FIGURES:
        assert (DOCS / f"{entry.page}.md").exists(), entry.page
        assert entry.command.startswith(".venv/bin/python experiments/"), entry.page


@pytest.mark.parametrize("entry", PLACED, ids=lambda e: e.page)
def test_page_opens_with_its_figure(entry: DocFigure):
    top = (DOCS / f"{entry.page}.md").read_text().splitlines()[:TOP_LINES]
    ref = f"](img/figures/{entry.page}.png)"
    assert any(line.startswith("![") and ref in line for line in top), (
        f"docs/{entry.page}.md should show {ref[2:-1]} within its first {TOP_LINES} lines "
        "(after its first paragraph; `python -m tools.docs_figures --markdown` prints the lines)")
    body = "\n".join(top)
    assert entry.command in body.replace("\n", " "), "the caption names the command"


@pytest.mark.parametrize("entry", PLACED, ids=lambda e: e.page)
def test_png_is_valid_and_small(entry: DocFigure):
    path = OUT / f"{entry.page}.png"
    assert path.exists(), f"{path} is missing: python -m tools.docs_figures --only {entry.page}"
    data = path.read_bytes()
    width, height = png_size(data)
    assert 600 <= width <= 1400, (width, height)
    assert 200 <= height <= 1600, (width, height)
    assert 5_000 < len(data) <= MAX_BYTES, len(data)


def test_no_stray_figures():
    """Every PNG under docs/img/figures/ belongs to an entry (a renamed page leaves none)."""
    names = {f"{e.page}.png" for e in FIGURES}
    assert {p.name for p in OUT.glob("*.png")} <= names


@pytest.mark.parametrize("entry", [e for e in FIGURES if e.pending], ids=lambda e: e.page)
def test_pending_page_refers_only_to_an_existing_png(entry: DocFigure):
    """A pending entry (its study still running) may already be on its page: then its PNG
    exists."""
    text = (DOCS / f"{entry.page}.md").read_text()
    if f"img/figures/{entry.page}.png" in text:
        assert (OUT / f"{entry.page}.png").exists()
