"""Remake the atlas screenshots of docs/atlas.md (docs/img/atlas/*.png): the atlas of
`interp-tiny` built from its up and down maps, activation records over the bundled corpus and
the dose-response table of neuron 2:377 (weekdays), exactly as the page's commands do, opened
from disk in Debian's headless Chromium.

    .venv/bin/python -m tools.atlas_screenshots     # writes docs/img/atlas/*.png
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img" / "atlas"
NEURON = (2, 377)
PROMPTS = ["Every", "On", "The party is on", "We met last"]
CHROMIUM = os.environ.get("INTERP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


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
        page.wait_for_function("(b => b.dataset.hash === location.hash && b.dataset.ms)"
                               "(document.getElementById('b-rows'))")
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


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="interp-atlas-shots-") as tmp:
        shoot(build(Path(tmp)))
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} in {OUT}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
