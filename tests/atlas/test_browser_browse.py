"""The atlas's search box (tokens, example text, concepts; previews) and the per-layer browse
page (paging, sort, filter) in headless Chromium from file://, against brute-force answers
computed here from the map and records; no network, no console error."""

from __future__ import annotations

import re

import pytest
import torch

from interp.atlas import build_atlas, search_key, visible
from interp.atlas.synthetic import synthetic_map, synthetic_records
from interp.neurons import NeuronMap
from interp.texts.wordlists import WEEKDAYS
from tools.browser import ROWS_PAGE_DRAWN, wait_until

expect = pytest.importorskip("playwright.sync_api").expect


def example_ranking(records, vocab: list[str], key: str) -> list[tuple[int, int]]:
    """(layer, neuron) by their highest activation on a token of `key` in their top examples,
    relative to their top example's (float32, clamped to [-1, 1]), then layer and neuron."""
    rows = []
    for layer, rec in sorted(records.layers.items()):
        for n in range(rec["top_values"].shape[0]):
            top = rec["top_values"][n, 0].float()
            scale = top.abs().clamp(min=1e-6) if torch.isfinite(top) else torch.tensor(1.0)
            best = None
            for j in range(rec["top_values"].shape[1]):
                if rec["top_doc"][n, j] < 0:
                    continue
                for t, a in zip(rec["window_ids"][n, j].tolist(), rec["window_acts"][n, j],
                                strict=True):
                    if t >= 0 and search_key(vocab[t]) == key:
                        rel = round(float((a.float() / scale).clamp(-1, 1).double()) * 10_000)
                        best = rel if best is None else max(best, rel)
            if best is not None:
                rows.append((-best, layer, n))
    return [(layer, n) for _, layer, n in sorted(rows)[:50]]


def hits(page, list_id: str) -> list[tuple[int, int]]:
    return [(int(li.get_attribute("data-layer")), int(li.get_attribute("data-neuron")))
            for li in page.query_selector_all(f"#{list_id} li")]


def test_search_finds_a_word_of_the_examples_with_previews(tiny_map, tiny_records, tmp_path,
                                                           watch, artifacts):
    records, _ = tiny_records
    nmap = NeuronMap.load(tiny_map)
    site = tmp_path / "site"
    build_atlas(nmap, site, records=records, shard_size=32)
    before = int(records.header["window"][0])
    # a word in some neuron's examples, not among its decoded tokens, that ranks it in the top 50
    found = None
    for layer, rec in sorted(records.layers.items()):
        for n in range(rec["window_ids"].shape[0]):
            top = {search_key(nmap.vocab[t]) for t in nmap.layer(layer).top_ids[n].tolist()}
            for t in rec["window_ids"][n].flatten().tolist():
                key = search_key(nmap.vocab[t]) if t >= 0 else ""
                if key.isalpha() and len(key) > 2 and key not in top and (
                        (layer, n) in example_ranking(records, nmap.vocab, key)):
                    found = (layer, n, key)
                    break
            if found:
                break
        if found:
            break
    assert found, "no word to search in the tiny records"
    layer, neuron, word = found
    w = watch()
    page = w.page
    page.goto((site / "neuron.html").as_uri() + "#0:0")  # the search box of a neuron page
    page.wait_for_selector("#side-up .top td")
    page.fill("#q", word.upper())
    page.press("#q", "Enter")
    page.wait_for_selector(f'#results[data-query="{word}"]', state="attached")
    assert hits(page, "results-examples") == example_ranking(records, nmap.vocab, word)
    li = page.locator(f'#results-examples li[data-layer="{layer}"][data-neuron="{neuron}"]')
    li.scroll_into_view_if_needed()
    expect(li).to_have_attribute("data-preview", "done")
    assert li.locator("a").first.text_content() == f"{layer}:{neuron}"
    assert li.locator(".preview .tok").all_text_contents() == [
        visible(nmap.vocab[t]) for t in nmap.layer(layer).top_ids[neuron, :5].tolist()]
    rec = records.layers[layer]
    assert li.locator(".preview .act").text_content() == (
        f"max act {round(float(rec['act_max'][neuron]), 3):#.3g}".replace("e+0", "e+"))
    ids = rec["window_ids"][neuron, 0].tolist()
    assert li.locator(".snippet .focus").text_content() == visible(
        nmap.vocab[ids[before]], keep_spaces=True)
    shown = li.locator(".snippet").text_content()
    assert shown.endswith("".join(visible(nmap.vocab[t], keep_spaces=True)
                                  for t in ids[before:before + 4] if t >= 0))
    page.screenshot(path=str(artifacts / "atlas-search-examples.png"), full_page=True)
    li.locator("a").first.click()
    page.wait_for_url(re.compile(rf"neuron\.html#{layer}:{neuron}$"))
    expect(page.locator("#title")).to_have_text(f"Layer {layer} · neuron {neuron}")
    assert w.network() == [] and w.problems == []


@pytest.fixture(scope="module")
def two_sides(tmp_path_factory):
    """A synthetic 2-layer, 230-neuron atlas with up and down sides, records and weekday words
    (layer 1's neurons 0..9 decode to five weekdays on the up side)."""
    vocab = [" " + d for d in WEEKDAYS] + WEEKDAYS + [f"w{i}" for i in range(400)]
    up = synthetic_map(2, 230, vocab, top_k=8, bottom_k=2, side="up", seed=7, fingerprint="f7")
    down = synthetic_map(2, 230, vocab, top_k=8, bottom_k=2, side="down", seed=8,
                         fingerprint="f7")
    up.data[1].top_ids[:10, :5] = torch.arange(5, dtype=torch.int32)
    records = synthetic_records(up, top_k=3, seed=9)
    site = tmp_path_factory.mktemp("atlas-browse") / "site"
    build_atlas([up, down], site, records=records)
    return site, [up, down], records


def brute_rows(maps, records, layer: int) -> list[dict]:
    vocab = maps[0].vocab
    return [{"n": n, "side": m.options.side, "p1": round(float(m.layer(layer).top_probs[n, 0])
                                                         * 10_000),
             "act": round(float(records.layers[layer]["act_max"][n]), 3),
             "toks": [visible(vocab[t]).lower() for t in m.layer(layer).top_ids[n, :5].tolist()]}
            for n in range(maps[0].header.d_mlp) for m in maps]


def shown_rows(page) -> list[tuple[int, str]]:
    return [(int(tr.get_attribute("data-neuron")), tr.get_attribute("data-side"))
            for tr in page.query_selector_all("#b-rows tr")]


def wait_page(page, number: int) -> None:
    """Until the rows of the current hash are drawn, on page `number`."""
    wait_until(page, ROWS_PAGE_DRAWN, str(number))


def test_browse_pages_sorts_and_filters_a_layer(two_sides, watch, artifacts):
    site, maps, records = two_sides
    rows = brute_rows(maps, records, 1)
    w = watch()
    page = w.page
    page.goto((site / "index.html").as_uri())
    page.click("#layers .layer:nth-child(2) a.browse")  # layer 1's "all 230 neurons"
    page.wait_for_url(re.compile(r"layer\.html#L=1$"))
    wait_page(page, 1)
    # default: every side, by top-1 probability, 100 a page
    by_p1 = sorted(rows, key=lambda r: (-r["p1"], r["n"], r["side"] != "up"))
    assert shown_rows(page) == [(r["n"], r["side"]) for r in by_p1[:100]]
    expect(page.locator("#b-status")).to_have_text("rows 1–100 of 460 (neuron × side)")
    # index order, one side: the last page ends with the layer's last neuron
    page.select_option("#b-sort", "index")
    page.select_option("#b-side", "down")
    wait_page(page, 1)
    assert shown_rows(page) == [(n, "down") for n in range(100)]
    page.click("#p-next")
    wait_page(page, 2)
    assert shown_rows(page)[0] == (100, "down")
    page.click("#p-last")
    wait_page(page, 3)
    assert shown_rows(page) == [(n, "down") for n in range(200, 230)]
    expect(page.locator("#p-next")).to_have_class("off")
    page.screenshot(path=str(artifacts / "atlas-browse-last.png"), full_page=True)
    # by max activation (both sides of a neuron share it), then a token filter
    page.select_option("#b-sort", "act")
    page.select_option("#b-side", "all")
    wait_page(page, 1)
    by_act = sorted(rows, key=lambda r: (-r["act"], r["n"], r["side"] != "up"))
    assert shown_rows(page) == [(r["n"], r["side"]) for r in by_act[:100]]
    page.fill("#b-q", "TUESDAY")
    page.press("#b-q", "Enter")
    page.wait_for_url(re.compile(r"q=TUESDAY"))
    wait_page(page, 1)
    want = [(r["n"], r["side"]) for r in by_act if any("tuesday" in t for t in r["toks"])]
    assert shown_rows(page) == want[:100] and len(want) >= 10
    page.fill("#b-q", "weekday")  # a concept label (3 weekdays among the top tokens)
    page.press("#b-q", "Enter")
    wait_page(page, 1)
    days = {d.lower() for d in WEEKDAYS}
    labelled = [(r["n"], r["side"]) for r in by_act if len(days & {
        search_key(maps[0].vocab[t]) for t in next(m for m in maps if m.options.side == r[
            "side"]).layer(1).top_ids[r["n"]].tolist()}) >= 3]
    assert shown_rows(page) == labelled[:100] and {(n, "up") for n in range(10)} <= set(labelled)
    # a row opens its neuron with that side in view; the other side is a link away
    page.click('#b-rows tr[data-neuron="3"][data-side="up"] a')
    page.wait_for_url(re.compile(r"neuron\.html#1:3:up$"))
    expect(page.locator("#side-up")).to_have_class(re.compile("chosen"))
    expect(page.locator("#side-up .concepts")).to_have_text("concepts: weekday")
    page.click("#side-links a:text('down')")
    page.wait_for_url(re.compile(r"#1:3:down$"))
    expect(page.locator("#side-down")).to_have_class(re.compile("chosen"))
    page.click("#browse")
    page.wait_for_url(re.compile(r"layer\.html#L=1$"))
    wait_page(page, 1)
    assert w.network() == [] and w.problems == []


def test_search_concepts_from_the_browse_page(two_sides, watch, artifacts):
    site, maps, _ = two_sides
    vocab = maps[0].vocab
    days = {d.lower() for d in WEEKDAYS}
    want = sorted((layer, n, s) for s, m in enumerate(maps) for layer in m.layers
                  for n in range(230) if len({search_key(vocab[t]) for t in
                                              m.layer(layer).top_ids[n].tolist()} & days) >= 3)
    w = watch()
    page = w.page
    page.goto((site / "layer.html").as_uri() + "#L=0")
    wait_page(page, 1)
    page.fill("#q", "Weekday")
    page.press("#q", "Enter")
    page.wait_for_selector('#results[data-query="weekday"]', state="attached")
    got = [(int(li.get_attribute("data-layer")), int(li.get_attribute("data-neuron")),
            int(li.get_attribute("data-side")))
           for li in page.query_selector_all("#results-concepts li")]
    assert got == want[:50] and {(1, n, 0) for n in range(10)} <= set(want)
    first = page.locator("#results-concepts li").first
    expect(first).to_have_attribute("data-preview", "done")
    expect(first.locator(".preview .concepts")).to_have_text("weekday")
    page.screenshot(path=str(artifacts / "atlas-search-concepts.png"))
    assert w.network() == [] and w.problems == []
