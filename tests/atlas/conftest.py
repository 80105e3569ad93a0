"""Fixtures for the atlas: a neuron map and activation records of the tiny random Llama, and a
headless Debian Chromium driven by Playwright (skipped only when chromium is absent outside
CI; in CI, env CI set, a missing browser fails the tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.browser import CHROMIUM

CORPUS = [
    "The cat sat on the mat. A dog ran in the park with a red ball.",
    "Paris is the capital of France, and Rome is the capital of Italy.",
    "def add(a, b):\n    return a + b\n",
    "One two three four five six seven eight nine ten.",
    "Mechanistic interpretability studies neurons, heads and circuits.",
    "for i in range(10): print(i * i)",
    "The dog and the cat play in the park.",
]


@pytest.fixture(scope="session")
def llama(loaded):
    return loaded("llama")


@pytest.fixture(scope="session")
def tiny_map(llama, tmp_path_factory) -> Path:
    """The tiny Llama's up-side neuron map, saved (top 10, bottom 5)."""
    from interp.neurons import decode_neurons

    path = tmp_path_factory.mktemp("atlas-map") / "map"
    decode_neurons(llama, top_k=10, bottom_k=5, out=path)
    return path


@pytest.fixture(scope="session")
def tiny_records(llama, tmp_path_factory):
    """Activation records of the tiny Llama over CORPUS, saved; returns (records, folder)."""
    from interp.atlas import collect_records

    records = collect_records(llama, CORPUS, top_k=4, before=3, after=2, batch_size=3)
    path = tmp_path_factory.mktemp("atlas-records") / "records"
    records.save(path)
    return records, path


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where browser tests save screenshots: $INTERP_TEST_ARTIFACTS if set, else pytest's tmp."""
    where = os.environ.get("INTERP_TEST_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("atlas-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (Debian's, never a downloaded one)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}: CI must install Debian's chromium")
        pytest.skip(f"browser tests need Debian's chromium ({CHROMIUM} is missing; "
                    "apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("browser tests need the playwright package (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


class PageWatch:
    """A page that records every request, console message, page error and dialog."""

    def __init__(self, browser, width: int = 1100, height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

        def dialog(d):
            self.problems.append(f"dialog: {d.message}")
            d.dismiss()

        self.page.on("dialog", dialog)

    def network(self) -> list[str]:
        """Requests that did not go to a file:// URL (must stay empty)."""
        return [u for u in self.requests if not u.startswith("file://")]


@pytest.fixture
def watch(browser):
    pages = []

    def make(**kw) -> PageWatch:
        pages.append(PageWatch(browser, **kw))
        return pages[-1]

    yield make
    for w in pages:
        w.page.close()
