"""The atlas in real headless Chromium from file://: search, follow a result, check the page
against the map and records, navigate; no network request, no console error, nothing from an
adversarial vocabulary executes or breaks the layout. Screenshots go to the `artifacts` dir."""

from __future__ import annotations

import re

import pytest
import torch

from interp.atlas import build_atlas, search_key, visible
from interp.atlas.synthetic import synthetic_map
from interp.atlas.text import bucket_of
from interp.neurons import NeuronMap

expect = pytest.importorskip("playwright.sync_api").expect


def expected_hits(nmap: NeuronMap, key: str, limit: int = 50) -> list[tuple[int, int]]:
    """(layer, neuron) ranked as the search index ranks them, computed another way."""
    rows = []
    for layer, data in nmap.data.items():
        for n in range(data.n_neurons):
            mass = sum(float(p) for t, p in zip(data.top_ids[n].tolist(), data.top_probs[n])
                       if search_key(nmap.vocab[t]) == key)
            if mass:
                rows.append((-round(mass * 10_000), layer, n))
    return [(layer, n) for _, layer, n in sorted(rows)[:limit]]


def test_search_follow_check_navigate(tiny_map, tiny_records, tmp_path, watch, artifacts):
    records, _ = tiny_records
    nmap = NeuronMap.load(tiny_map)
    site = tmp_path / "site"
    build_atlas(nmap, site, records=records, shard_size=32)
    tops = [nmap.vocab[int(t)] for t in nmap.layer(1).top_ids[:, 0]]
    target = next(n for n, t in enumerate(tops) if t.strip().isascii() and t.strip().isalpha())
    token = tops[target]  # a word that neuron 1:target decodes to
    key = search_key(token)
    w = watch()
    page = w.page
    page.goto((site / "index.html").as_uri())
    page.fill("#q", token.upper() + " ")  # case and spaces do not matter
    page.press("#q", "Enter")
    page.wait_for_selector(f'#results[data-query="{key}"]', state="attached")
    shown = [(int(li.get_attribute("data-layer")), int(li.get_attribute("data-neuron")))
             for li in page.query_selector_all("#results li")]
    assert shown == expected_hits(nmap, key) and ((1, target) in shown or len(shown) == 50)
    page.screenshot(path=str(artifacts / "atlas-index-search.png"))

    page.click("#results li:first-child a")
    layer, neuron = shown[0]
    page.wait_for_url(re.compile(rf"neuron\.html#{layer}:{neuron}$"))
    page.wait_for_selector("#side-up .top td")
    data = nmap.layer(layer)
    assert page.locator("#side-up table.top .tok").all_text_contents() == [
        visible(nmap.vocab[t]) for t in data.top_ids[neuron].tolist()]
    assert page.locator("#side-up table.bottom .tok").all_text_contents() == [
        visible(nmap.vocab[t]) for t in data.bottom_ids[neuron].tolist()]
    rec = records.layers[layer]
    examples = page.locator("#examples .example")
    assert examples.count() == int((rec["top_doc"][neuron] >= 0).sum())
    ids = rec["window_ids"][neuron, 0]
    assert examples.first.locator(".t").all_text_contents() == [
        visible(nmap.vocab[t], keep_spaces=True) for t in ids[ids >= 0].tolist()]
    focus = examples.first.locator(".t.focus").get_attribute("title")
    assert float(focus.split()[-1]) == pytest.approx(float(rec["top_values"][neuron, 0]), rel=0.01)
    assert page.locator("#hist svg rect").count() == len(rec["hist"][neuron])
    ticks = page.locator("#hist text.tick").all_text_contents()  # a histogram with axes
    assert {"activation (signed, log scale)", "count", "0", "-100", "100",
            str(int(max(rec["hist"][neuron])))} <= set(ticks), ticks
    first_screen = page.viewport_size["height"]  # examples first, then the decoded tokens
    assert page.locator("#examples .example").first.bounding_box()["y"] < first_screen
    assert (page.locator("#examples-section").bounding_box()["y"]
            < page.locator("#decoded").bounding_box()["y"])
    page.screenshot(path=str(artifacts / "atlas-neuron.png"), full_page=True)

    page.click("#next")
    nxt = (layer, neuron + 1) if neuron + 1 < 80 else ((layer + 1) % 2, 0)
    expect(page.locator("#title")).to_have_text(f"Layer {nxt[0]} · neuron {nxt[1]}")
    first = nmap.layer(nxt[0]).top_ids[nxt[1], 0]
    expect(page.locator("#side-up table.top .tok").first).to_have_text(
        visible(nmap.vocab[int(first)]), use_inner_text=False)
    page.click("#prev")
    page.wait_for_url(re.compile(rf"#{layer}:{neuron}$"))
    page.click("#random")
    page.wait_for_url(re.compile(r"#[01]:\d+$"))
    page.fill("#jump-layer", "0")
    page.fill("#jump-neuron", "79")
    page.press("#jump-neuron", "Enter")
    expect(page.locator("#title")).to_have_text("Layer 0 · neuron 79")
    page.wait_for_selector("#side-up .top td")
    # an unknown neuron: the message, and none of the previous neuron's data under it
    page.fill("#jump-layer", "7")
    page.press("#jump-neuron", "Enter")
    expect(page.locator("#status")).to_have_text("no neuron 7:79 in this atlas")
    for part in ("#decoded", "#examples-section", "#hist-section", "#related-section"):
        expect(page.locator(part)).to_be_hidden()
    assert page.locator("#sides *, #examples *, #hist *").count() == 0
    page.screenshot(path=str(artifacts / "atlas-no-neuron.png"))
    page.fill("#jump-layer", "1")  # and back: drawn again
    page.press("#jump-neuron", "Enter")
    expect(page.locator("#decoded")).to_be_visible()
    page.wait_for_selector("#side-up .top td")
    assert w.network() == [] and w.problems == []


NASTY = [
    "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "</textarea>", "\x00",
    "\u202eevil", "\ufffd", "\ud800", "A" * 5000, "__proto__", "constructor", "</script>",
    "${alert(1)}", "\\u003c", "\u2028x", " \t\n", "javascript:alert(1)", "{{7*7}}",
]


def test_adversarial_vocabulary_is_inert(tmp_path, watch, artifacts):
    vocab = NASTY + [f"w{i}" for i in range(200)]
    nmap = synthetic_map(2, 8, vocab, top_k=len(NASTY), bottom_k=3, seed=5)
    for data in nmap.data.values():  # every neuron's top tokens are the nasty ones
        data.top_ids[:] = torch.randperm(len(NASTY), generator=torch.Generator().manual_seed(0)
                                         ).to(torch.int32)
    site = tmp_path / "site"
    build_atlas(nmap, site)
    w = watch(width=900)
    page = w.page
    page.goto((site / "index.html").as_uri())
    page.fill("#q", NASTY[0])
    page.press("#q", "Enter")
    page.wait_for_selector("#results li")
    assert page.locator("#results li").count() == 16  # every neuron of both layers
    computed = page.evaluate("xs => xs.map(x => ATLAS.bucket(ATLAS.key(x), 97))",
                             [s for s in NASTY if s != "\ud800"])
    assert computed == [bucket_of(search_key(s), 97) for s in NASTY if s != "\ud800"]
    page.click("#results li:first-child a")
    page.wait_for_selector("#side-up .top td")
    layer, neuron = map(int, re.search(r"#(\d+):(\d+)$", page.url).groups())
    assert page.locator("#side-up table.top .tok").all_text_contents() == [
        visible(vocab[t]) for t in nmap.layer(layer).top_ids[neuron].tolist()]
    page.screenshot(path=str(artifacts / "atlas-adversarial.png"), full_page=True)
    state = page.evaluate("""() => ({
        imgs: document.querySelectorAll('img, iframe, object, embed, textarea').length,
        scripts: [...document.scripts].map(s => s.getAttribute('src')),
        wide: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        title: document.title, alerted: window.__alerted === true})""")
    assert state["imgs"] == 0 and not state["alerted"]
    assert all(s and re.fullmatch(r"(assets/(atlas|search)|data/meta|data/[LP]\d{3}/\d{5}|"
                                  r"data/search/\d{5})\.js", s) for s in state["scripts"]), \
        state["scripts"]
    assert state["wide"] <= 0, "a token widened the page"
    assert w.network() == [] and w.problems == []
