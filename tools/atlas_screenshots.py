"""Remake the atlas screenshots of docs/atlas.md (docs/img/atlas/*.png): the atlas of
`interp-tiny` built from its up and down maps, activation records over the bundled corpus and
the dose-response table of neuron 2:377 (weekdays), exactly as the page's commands do, opened
from disk in Debian's headless Chromium.

    .venv/bin/python -m tools.atlas_screenshots     # writes docs/img/atlas/*.png

With --smollm2, the SmolLM2-135M-Instruct shots instead (docs/img/atlas/smollm2-*.png): an
atlas of its up and down maps of SMOL_LAYERS only (the full map of every layer takes minutes)
with records over 16 python-docs documents, as in the README's quick start; the first screen
of neuron 29:807, a search for a concept from that page and layer 29's browse page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tools.browser import CHROMIUM, ROWS_DRAWN, wait_until

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img" / "atlas"
NEURON = (2, 377)
PROMPTS = ["Every", "On", "The party is on", "We met last"]
SMOL = "smollm2-135m-instruct"
SMOL_LAYERS = ("0", "15", "29")
SMOL_NEURON = (29, 807)  # up: " that" (p 1.00); it fires on the word before a "that"
SMOL_QUERY = "colour"  # a token and a concept (29:1455 up: white, black, red, ...)


def build(where: Path) -> Path:
    """The docs' atlas of interp-tiny in `where`, made with the page's commands; returns the
    site folder."""
    from interp_cli.main import main

    layer, neuron = NEURON
    maps, table, site = where / "maps", where / "dose-2-377.json", where / "atlas"
    prompts = [arg for prompt in PROMPTS for arg in ("--prompt", prompt)]
    for argv in (
        ["map-neurons", "--model", "interp-tiny", "--side", "up", "--out", str(maps / "up")],
        ["map-neurons", "--model", "interp-tiny", "--side", "down", "--out",
         str(maps / "down")],
        ["dose-response", "--model", "interp-tiny", "--neuron", f"{layer}:{neuron}",
         "--concept", "weekdays", *prompts, "--values", "0,2,5,10", "--controls", "3",
         "--table", str(table), "--figure", "-"],
        ["atlas", "--map", str(maps / "up"), "--map", str(maps / "down"), "--model",
         "interp-tiny", "--dose", str(table), "--out", str(site)],
    ):
        if main(argv) != 0:
            raise SystemExit(f"failed: interp {' '.join(argv)}")
    return site


def shoot(site: Path) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    layer, neuron = NEURON
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((site / "index.html").as_uri())
        page.wait_for_selector("#layers .layer")
        page.screenshot(path=str(OUT / "index.png"))
        page.fill("#q", "monday")
        page.press("#q", "Enter")
        page.wait_for_selector("#results[data-previews-ms]", state="attached")
        page.screenshot(path=str(OUT / "search.png"))
        page.goto((site / "layer.html").as_uri() + f"#L={layer}&sort=p1&side=all&page=1&q=day")
        wait_until(page, ROWS_DRAWN)
        page.screenshot(path=str(OUT / "layer.png"))
        page.goto((site / "neuron.html").as_uri() + f"#{layer}:{neuron}")
        page.wait_for_selector("#side-up .top td")
        page.screenshot(path=str(OUT / "neuron-examples.png"))  # the first screen
        page.locator("#decoded").screenshot(path=str(OUT / "neuron-decoded.png"))
        page.locator("#dose-section").scroll_into_view_if_needed()
        box = page.locator("#dose-section").bounding_box()
        end = page.locator("#provenance").bounding_box()
        page.screenshot(path=str(OUT / "neuron-dose.png"), full_page=True, clip={
            "x": 0, "y": box["y"] - 8, "width": 1100, "height": end["y"] + end["height"]
            - box["y"] + 16})
        page.evaluate("window.scrollTo(0, 0)")
        page.fill("#q", "friday")  # the search box of a neuron page
        page.press("#q", "Enter")
        page.wait_for_selector("#results[data-previews-ms]", state="attached")
        page.screenshot(path=str(OUT / "neuron-search.png"))
        browser.close()


def build_smollm2(where: Path) -> Path:
    """A SmolLM2 atlas of SMOL_LAYERS (up and down maps, 8 examples per neuron from 16
    python-docs documents) in `where`, made with the CLI; returns the site folder."""
    from interp_cli.main import main

    maps, site = where / "maps", where / "atlas"
    for argv in (
        *(["map-neurons", "--model", SMOL, "--side", side, "--layers", *SMOL_LAYERS, "--out",
           str(maps / side)] for side in ("up", "down")),
        ["atlas", "--map", str(maps / "up"), "--map", str(maps / "down"), "--model", SMOL,
         "--corpus", "python-docs", "--max-docs", "16", "--top-examples", "8", "--out",
         str(site)],
    ):
        if main(argv) != 0:
            raise SystemExit(f"failed: interp {' '.join(argv)}")
    return site


def shoot_smollm2(site: Path) -> list[str]:
    """The SmolLM2 shots: a neuron page's first screen, a search from it, a layer's page."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    layer, neuron = SMOL_NEURON
    names = ["smollm2-neuron.png", "smollm2-search.png", "smollm2-layer.png"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((site / "neuron.html").as_uri() + f"#{layer}:{neuron}")
        page.wait_for_selector("#side-up .top td")
        page.screenshot(path=str(OUT / names[0]))  # the first screen, as it opens
        page.fill("#q", SMOL_QUERY)
        page.press("#q", "Enter")
        page.wait_for_selector("#results[data-previews-ms]", state="attached")
        wait_until(page, "() => [...document.querySelectorAll('#results-concepts li')]"
                         ".slice(0, 12).every(li => li.dataset.preview === 'done')")
        page.screenshot(path=str(OUT / names[1]))
        page.goto((site / "layer.html").as_uri() + f"#L={layer}&sort=p1&side=all&page=1")
        wait_until(page, ROWS_DRAWN)
        page.screenshot(path=str(OUT / names[2]))
        browser.close()
    return names


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--smollm2"]):
        print("usage: python -m tools.atlas_screenshots [--smollm2]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="interp-atlas-shots-") as tmp:
        if argv:
            names = shoot_smollm2(build_smollm2(Path(tmp)))
        else:
            shoot(build(Path(tmp)))
            names = sorted(p.name for p in OUT.glob("*.png") if not p.name.startswith("smollm2"))
    print(f"wrote {', '.join(names)} in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
