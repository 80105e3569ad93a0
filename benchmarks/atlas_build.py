r"""Atlas at SmolLM2-135M scale without the model: build time, size, and search / browse speed
in headless Chromium from file://.

    .venv/bin/python benchmarks/atlas_build.py [--layers 30] [--d-mlp 1536] [--json FILE]

Builds the atlas of synthetic maps shaped like SmolLM2-135M's (30 layers x 1,536 neurons, 3
sides up/gate/down = 138,240 neuron-side rows; vocabulary 49,152; top 20 / bottom 10 tokens)
with synthetic activation records (16 examples per neuron, windows of 12 + 1 + 4 tokens), so
the search index holds decoded tokens, example words and concept labels as a real build does.
Baseline, in the same process: copying the finished site (the bare cost of writing the same
files and bytes). Then in Chromium: the median (and max) over --queries searches of the time
from Enter to the drawn hit lists (one index shard loaded) and to the first 12 previews drawn
(their preview shards loaded), the first search cold; and a layer's browse page (all its
preview shards loaded, sorted, the first 100 rows drawn) and a re-sort. Prints a table and
writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.browser import CHROMIUM, ROWS_DRAWN, wait_until


def sizes(site: Path) -> dict:
    files = {str(p.relative_to(site)): p.stat().st_size for p in site.rglob("*") if p.is_file()}

    def part(prefix: str) -> list[int]:
        return [v for k, v in files.items() if k.startswith(prefix)]

    return {"files": len(files), "total_bytes": sum(files.values()),
            "search_files": len(part("data/search/")),
            "search_bytes": sum(part("data/search/")),
            "largest_search_bytes": max(part("data/search/")),
            "preview_files": len(part("data/P")), "preview_bytes": sum(part("data/P")),
            "largest_preview_bytes": max(part("data/P")),
            "page_files": len(part("data/L")), "page_bytes": sum(part("data/L")),
            "largest_page_bytes": max(part("data/L"))}


def browser_times(site: Path, queries: list[str], layer: int) -> dict:
    """Search: Enter -> lists drawn, and -> first previews drawn (ms); browse: the layer page,
    then a re-sort (ms)."""
    from playwright.sync_api import sync_playwright

    lists, previews = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((site / "index.html").as_uri())
        for q in queries:
            page.fill("#q", q)
            page.press("#q", "Enter")
            page.wait_for_selector("#results[data-previews-ms]", state="attached")
            lists.append(float(page.get_attribute("#results", "data-ms")))
            previews.append(float(page.get_attribute("#results", "data-previews-ms")))
        t0 = time.perf_counter()
        page.goto((site / "layer.html").as_uri() + f"#L={layer}")
        wait_until(page, ROWS_DRAWN)
        browse_open = (time.perf_counter() - t0) * 1000
        page.select_option("#b-sort", "act")
        wait_until(page, ROWS_DRAWN)
        resort = float(page.get_attribute("#b-rows", "data-ms"))
        rows = page.locator("#b-rows tr").count()
        browser.close()
    return {"queries": len(queries), "search_lists_ms": lists, "search_previews_ms": previews,
            "search_lists_median_ms": statistics.median(lists),
            "search_lists_max_ms": max(lists),
            "search_previews_median_ms": statistics.median(previews),
            "search_previews_max_ms": max(previews),
            "browse_open_ms": browse_open, "browse_resort_ms": resort, "browse_rows": rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--d-mlp", type=int, default=1536)
    p.add_argument("--vocab", type=int, default=49_152)
    p.add_argument("--queries", type=int, default=15)
    p.add_argument("--json", default="benchmarks/atlas_build.json",
                   help="where to write the numbers")
    p.add_argument("--out", default=None, help="keep the site here (default: a temp dir)")
    args = p.parse_args()

    from interp.atlas import build_atlas
    from interp.atlas.search import token_keys
    from interp.atlas.synthetic import synthetic_map, synthetic_records, synthetic_vocab
    from interp.texts.wordlists import CONCEPTS

    root = Path(args.out or tempfile.mkdtemp(prefix="atlas-build-"))
    root.mkdir(parents=True, exist_ok=True)
    site = root / "site"
    t0 = time.perf_counter()
    words = sorted({" " + w for ws in CONCEPTS.values() for w in ws if " " not in w})
    vocab = words + [w for w in synthetic_vocab(args.vocab, seed=0) if w not in words]
    vocab = vocab[:args.vocab]
    maps = [synthetic_map(args.layers, args.d_mlp, vocab, top_k=20, bottom_k=10, side=side,
                          seed=s, model="synthetic-smollm2-135m", fingerprint="smollm2shape",
                          d_model=576) for s, side in enumerate(("up", "gate", "down"))]
    records = synthetic_records(maps[0], top_k=16, window=(12, 4), seed=3)
    t_inputs = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = build_atlas(maps, site, records=records, progress=True)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    shutil.copytree(site, root / "copy")
    t_copy = time.perf_counter() - t0
    shutil.rmtree(root / "copy")
    s = sizes(site)
    rng = random.Random(0)
    keys, _ = token_keys(vocab)
    queries = [k for k in rng.sample(keys, args.queries - 1) if k] + ["monday"]
    b = browser_times(site, queries, layer=args.layers // 2)
    result = {"shape": {"layers": args.layers, "d_mlp": args.d_mlp, "sides": 3,
                        "vocab": len(vocab), "top_k": 20, "examples": 16},
              "neurons": summary.n_neurons, "rows": summary.n_neurons * 3,
              "inputs_s": round(t_inputs, 1), "build_s": round(t_build, 1),
              "copy_s": round(t_copy, 2), **s, **b}
    print(f"\nsynthetic SmolLM2-135M-shaped atlas: {summary.n_neurons:,} neurons x 3 sides "
          f"(inputs made in {t_inputs:.1f} s)")
    print(f"build                  {t_build:8.1f} s  ({t_build / t_copy:.0f} x copying the site: "
          f"{t_copy:.1f} s)")
    print(f"files, total size      {s['files']:8d}  {s['total_bytes'] / 2**20:8.1f} MiB")
    for name in ("search", "preview", "page"):
        print(f"{name + ' shards':22s} {s[name + '_files']:8d}  {s[name + '_bytes'] / 2**20:8.1f}"
              f" MiB (largest {s['largest_' + name + '_bytes'] / 1024:.0f} KiB)")
    print(f"search, lists drawn    median {b['search_lists_median_ms']:.1f} ms, max "
          f"{b['search_lists_max_ms']:.1f} ms over {len(queries)} queries (first cold)")
    print(f"search, previews drawn median {b['search_previews_median_ms']:.1f} ms, max "
          f"{b['search_previews_max_ms']:.1f} ms")
    print(f"browse a layer         open {b['browse_open_ms']:.0f} ms ({b['browse_rows']} rows "
          f"drawn), re-sort {b['browse_resort_ms']:.1f} ms")
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    if args.out is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
