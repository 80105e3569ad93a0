r"""Atlas build time and size, and search latency in headless Chromium.

    .venv/bin/python benchmarks/atlas.py [--model interp-tiny] [--no-8b] [--out DIR]
    .venv/bin/python benchmarks/atlas.py --model smollm2-135m-instruct --sides up gate down \
        --study-decode --dose DIR --no-8b       # the real model's atlas of docs/neurons-smollm2.md

Rows: (1) the model, all neurons of `--sides`: decode (map-neurons; --study-decode: cosine
scores, flagged tokens excluded, as the concept search), collect activation records over the
model's default corpus (bundled stories, or the committed python-docs for a real model; all
documents unless --max-docs), render the site (with --dose tables); (2) a synthetic
Llama-3.1-8B-sized map (32 layers x 14,336 neurons = 458,752 neurons, vocabulary 128,256, top 20
/ bottom 10; no model, no records): render the site. For each site: files, total size, largest
file, and the bytes one neuron page loads (HTML + CSS + JS + meta + its shard) against the
budget; then the search latency in the browser (submit -> results drawn, including loading the
index shard) over --queries tokens. The baseline, in the same process: copying the finished site
(the bare cost of writing the same files and bytes); the build time is reported as a multiple of
it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.browser import CHROMIUM

PAGE_BUDGET = 1024 * 1024  # bytes one neuron page may load


def site_sizes(site: Path) -> dict:
    files = [p for p in site.rglob("*") if p.is_file()]
    sizes = {str(p.relative_to(site)): p.stat().st_size for p in files}
    shards = {k: v for k, v in sizes.items() if k.startswith("data/L")}
    search = {k: v for k, v in sizes.items() if k.startswith("data/search/")}
    fixed = sum(sizes[k] for k in ("neuron.html", "assets/atlas.css", "assets/atlas.js",
                                   "data/meta.js"))
    return {"files": len(files), "total": sum(sizes.values()), "largest": max(sizes.values()),
            "largest_shard": max(shards.values()), "largest_search": max(search.values()),
            "page": fixed + max(shards.values()), "search_files": len(search)}


def search_latency(site: Path, queries: list[str]) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        page.goto((site / "index.html").as_uri())
        for q in queries:
            page.evaluate("() => { const r = document.getElementById('results');"
                          " delete r.dataset.ms; delete r.dataset.query; }")
            page.fill("#q", q)
            page.press("#q", "Enter")
            page.wait_for_selector("#results[data-ms]", state="attached")
            times.append(float(page.get_attribute("#results", "data-ms")))
        browser.close()
    return times


def report(name: str, build_s: float, site: Path, queries: list[str]) -> None:
    s = site_sizes(site)
    t0 = time.perf_counter()
    shutil.copytree(site, site.with_name(site.name + "-copy"))
    copy_s = time.perf_counter() - t0
    shutil.rmtree(site.with_name(site.name + "-copy"))
    lat = search_latency(site, queries)
    print(f"\n== {name}")
    print(f"build (render) time      {build_s:8.1f} s  ({build_s / copy_s:.1f} x copying the "
          f"site: {copy_s:.1f} s)")
    print(f"files                    {s['files']:8d}  ({s['search_files']} search shards)")
    print(f"total size               {s['total'] / 2**20:8.1f} MiB")
    print(f"largest file             {s['largest'] / 1024:8.0f} KiB")
    print(f"largest page shard       {s['largest_shard'] / 1024:8.0f} KiB")
    print(f"largest search shard     {s['largest_search'] / 1024:8.0f} KiB")
    print(f"neuron page weight (max) {s['page'] / 1024:8.0f} KiB  (budget "
          f"{PAGE_BUDGET // 1024} KiB: {'ok' if s['page'] <= PAGE_BUDGET else 'OVER'})")
    print(f"search latency           median {statistics.median(lat):.1f} ms, "
          f"max {max(lat):.1f} ms over {len(lat)} queries (first includes a cold shard load)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="interp-tiny")
    p.add_argument("--sides", nargs="+", default=["up"], choices=("up", "gate", "down"))
    p.add_argument("--study-decode", action="store_true",
                   help="decode with score cosine and flagged tokens excluded")
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--dose", default=None, help="a folder of dose-response tables")
    p.add_argument("--no-8b", action="store_true", help="skip the synthetic 8B-sized map")
    p.add_argument("--queries", type=int, default=20)
    p.add_argument("--out", default=None, help="keep the sites here (default: a temp dir)")
    args = p.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="atlas-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)

    from interp import load_model
    from interp.atlas import build_atlas, collect_records
    from interp.atlas.synthetic import synthetic_map
    from interp.neurons import decode_neurons
    from interp.texts.corpora import default_corpus_name, open_corpus

    model = load_model(args.model, device="cpu")
    decode = {"score": "cosine", "flagged_tokens": "exclude"} if args.study_decode else {}
    t0 = time.perf_counter()
    nmaps = [decode_neurons(model, side, **decode) for side in args.sides]
    t_map = time.perf_counter() - t0
    t0 = time.perf_counter()
    corpus = default_corpus_name(model)
    records = collect_records(model, open_corpus(corpus, max_docs=args.max_docs), progress=True)
    t_rec = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = build_atlas(nmaps, root / "model", records=records,
                          dose=[args.dose] if args.dose else (), progress=True)
    t_site = time.perf_counter() - t0
    print(f"{args.model}: {summary.n_neurons} neurons x {len(nmaps)} sides; decode "
          f"{t_map:.1f} s, collect records over {corpus} ({records.header['n_tokens']} tokens, "
          f"{records.header['n_docs']} docs) {t_rec:.1f} s, render {t_site:.1f} s")
    words = [w for w in nmaps[0].vocab if w.strip().isalpha()]
    report(f"{args.model} (all neurons, sides {' '.join(args.sides)}, with records)", t_site,
           root / "model", rng.sample(words, args.queries))

    if not args.no_8b:
        t0 = time.perf_counter()
        big = synthetic_map(32, 14_336, 128_256, top_k=20, bottom_k=10, seed=0,
                            model="synthetic-llama-3.1-8b")
        t_make = time.perf_counter() - t0
        print(f"\nsynthetic 8B-sized map made in {t_make:.1f} s")
        t0 = time.perf_counter()
        summary = build_atlas(big, root / "llama-8b-synthetic", progress=True)
        t_big = time.perf_counter() - t0
        print(summary)
        report("synthetic Llama-3.1-8B-sized map (458,752 neurons, map only)", t_big,
               root / "llama-8b-synthetic", rng.sample(big.vocab, args.queries))
    if args.out is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
