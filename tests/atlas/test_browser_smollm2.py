"""The atlas of the real SmolLM2-135M-Instruct in headless Chromium from file:// (issue 22's
checks on a real model, not only the tiny random one): a neuron page's first screen shows its
examples and logit tables; an unknown neuron shows no stale data; a neuron page's search finds
a neuron by a word of its examples; browsing a layer reaches its last neuron. No network, no
console error. The atlas is reduced to keep the suite fast: up and down maps of LAYERS (every
one of their 1,536 neurons), records of a few short python-docs documents."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import torch

from interp.atlas import search_key, visible
from interp.models import real
from tools.browser import ROWS_PAGE_DRAWN, wait_until

expect = pytest.importorskip("playwright.sync_api").expect

SMOL = "smollm2-135m-instruct"
LAYERS = (0, 29)
N_LAYERS, D_MLP = 30, 1536
N_DOCS, MAX_LENGTH, TOP_EXAMPLES = 12, 48, 8

if not real.installed(SMOL) and not os.environ.get("CI"):  # CI installs it: fail there
    pytest.skip(f"{SMOL} is not installed ({real.REAL_MODELS[SMOL].install})",
                allow_module_level=True)


@pytest.fixture(scope="session")
def smol_atlas(tmp_path_factory):
    """(site, maps, records) of SmolLM2 built the way `interp map-neurons` + `interp atlas
    --model ... --corpus python-docs --records DIR` do, reduced to LAYERS and N_DOCS documents
    of MAX_LENGTH tokens. Its seconds are printed (pytest -s): 31-53 s, about 30 CPU s, on
    this project's 2 cores shared with other jobs."""
    from interp import load_model
    from interp.atlas import ActivationRecords, build_atlas
    from interp.neurons import NeuronMap, decode_neurons

    t0, cpu = time.perf_counter(), time.process_time()
    root = tmp_path_factory.mktemp("atlas-smollm2")
    model = load_model(SMOL, device="cpu")
    t1 = time.perf_counter()
    for side in ("up", "down"):
        decode_neurons(model, side=side, layers=list(LAYERS), out=root / "maps" / side)
    t2 = time.perf_counter()
    build_atlas([root / "maps" / "up", root / "maps" / "down"], root / "site", model=model,
                corpus="python-docs", max_docs=N_DOCS, max_length=MAX_LENGTH,
                top_k=TOP_EXAMPLES, records=root / "records")
    t3 = time.perf_counter()
    print(f"\nSmolLM2 atlas fixture: load {t1 - t0:.1f} s, maps {t2 - t1:.1f} s, records and "
          f"site {t3 - t2:.1f} s, total {t3 - t0:.1f} s ({time.process_time() - cpu:.1f} CPU s)")
    maps = [NeuronMap.load(root / "maps" / side) for side in ("up", "down")]
    return root / "site", maps, ActivationRecords.load(root / "records")


def open_neuron(page, site: Path, layer: int, neuron: int) -> None:
    page.goto((site / "neuron.html").as_uri() + f"#{layer}:{neuron}")
    page.wait_for_selector("#side-up .top td")
    expect(page.locator("#title")).to_have_text(f"Layer {layer} · neuron {neuron}")


def window_text(vocab: list[str], ids) -> str:
    return "".join(visible(vocab[t], keep_spaces=True) for t in ids.tolist() if t >= 0)


def test_first_screen_shows_examples_and_logit_tables(smol_atlas, watch, artifacts):
    site, (up, _), records = smol_atlas
    layer = LAYERS[-1]
    data = up.layer(layer)
    # a neuron with a long top token among its first five (it must show whole, not cut) and a
    # small probability among its top tokens (its row must stay one line)
    neuron = next(n for n in range(D_MLP) if any(
        12 <= len(visible(up.vocab[t])) <= 14 for t in data.top_ids[n, :5].tolist()) and (
        (data.top_probs[n] >= 5e-6) & (data.top_probs[n] < 1e-4)).any())
    w = watch()
    page = w.page
    open_neuron(page, site, layer, neuron)
    height = page.viewport_size["height"]
    assert page.evaluate("window.scrollY") == 0

    def on_screen(locator) -> bool:
        box = locator.bounding_box()
        return box is not None and box["height"] > 0 and box["y"] >= 0 and (
            box["y"] + box["height"] <= height)

    # every activating example, with the real text of its window, on the first screen
    rec = records.layers[layer]
    examples = page.locator("#examples .example")
    assert examples.count() == int((rec["top_doc"][neuron] >= 0).sum()) == TOP_EXAMPLES
    for j in range(TOP_EXAMPLES):
        row = examples.nth(j)
        assert on_screen(row), f"example {j} is below the first screen"
        assert "".join(row.locator(".t").all_text_contents()) == window_text(
            up.vocab, rec["window_ids"][neuron, j])
    words = re.findall(r"[A-Za-z]{3,}", examples.first.text_content())
    assert len(words) >= 3, f"no real text in the top example: {words}"
    # the first side's logit tables: header and first rows, whole tokens, on the same screen
    for part, ids in (("top", data.top_ids[neuron]), ("bottom", data.bottom_ids[neuron])):
        table = page.locator(f"#side-up table.{part}")
        assert on_screen(table.locator("tr").first), f"the {part} table's header is not shown"
        for k in range(5):
            cell = table.locator("tr").nth(k + 1)
            assert on_screen(cell), f"row {k + 1} of the {part} table is below the first screen"
            assert cell.locator(".tok").text_content() == visible(up.vocab[int(ids[k])])
        cut = table.locator(".tok").evaluate_all(
            "ts => ts.slice(0, 5).filter(t => t.textContent.length <= 14 && "
            "t.scrollWidth > t.clientWidth).map(t => t.textContent)")
        assert cut == [], f"tokens cut short in the {part} table: {cut}"
        heights = table.locator("tr").evaluate_all("rs => rs.slice(1).map(r => r.clientHeight)")
        assert max(heights) - min(heights) <= 1, f"a row of the {part} table wraps: {heights}"
    probs = page.locator("#side-up table.top tr td:nth-child(4)").all_text_contents()
    assert [float(p.lstrip("< ")) for p in probs] == pytest.approx(  # stored to 5 decimals
        [max(round(float(p), 5), 1e-5) for p in data.top_probs[neuron]], rel=0.05)
    # the navigation is one row (prev ... the jump box), not three
    tops = [page.locator(s).bounding_box()["y"] for s in ("#prev", "#browse", "#jump")]
    assert max(tops) - min(tops) < 10, tops
    page.screenshot(path=str(artifacts / "smollm2-first-screen.png"))
    assert w.network() == [] and w.problems == []


def test_no_neuron_shows_no_stale_data(smol_atlas, watch, artifacts):
    site = smol_atlas[0]
    layer, last = LAYERS[-1], D_MLP - 1
    w = watch()
    page = w.page
    open_neuron(page, site, layer, last)
    shown = ([r.inner_text() for r in page.locator("#examples .example").all()]
             + [t for t in page.locator("#sides .tok").all_text_contents()
                if t.startswith("\u2423") and len(t) >= 4])
    assert len(shown) > TOP_EXAMPLES, shown  # examples and spaced top tokens were drawn
    missing = next(n for n in range(N_LAYERS) if n not in LAYERS)
    for layer_to, neuron_to, how in ((layer, D_MLP, "jump"), (missing, 7, "hash")):
        if how == "jump":  # one past the layer's last neuron, from the jump box
            page.fill("#jump-neuron", str(neuron_to))
            page.press("#jump-neuron", "Enter")
        else:  # a layer the atlas does not hold, from the address
            page.evaluate(f"location.hash = '{layer_to}:{neuron_to}'")
        expect(page.locator("#status")).to_have_text(
            f"no neuron {layer_to}:{neuron_to} in this atlas")
        expect(page.locator("#title")).to_have_text(f"Layer {layer_to} · neuron {neuron_to}")
        for part in ("#decoded", "#examples-section", "#hist-section", "#dose-section",
                     "#related-section"):
            expect(page.locator(part)).to_be_hidden()
        assert page.locator("#sides *, #examples *, #hist *, #dose *, #related *").count() == 0
        text = page.locator("body").inner_text()
        stale = [s for s in shown if s in text]
        assert stale == [], f"the previous neuron's data is still shown: {stale}"
        page.screenshot(path=str(artifacts / f"smollm2-no-neuron-{how}.png"))
        # its layer link goes to a layer of the atlas and says which
        browse = page.locator("#browse")
        want = layer_to if layer_to in LAYERS else LAYERS[0]
        expect(browse).to_have_text(f"all neurons of layer {want}")
        expect(browse).to_have_attribute("href", f"layer.html#L={want}")
    open_neuron(page, site, layer, last)  # and back: drawn again
    expect(page.locator("#examples .example")).to_have_count(TOP_EXAMPLES)
    assert w.network() == [] and w.problems == []


def example_ranking(records, vocab: list[str], key: str) -> list[tuple[int, int]]:
    """(layer, neuron) as the search lists the neurons whose top examples hold a token of
    `key`: by their highest activation on one relative to their top example's (float32,
    clamped to [-1, 1], in 1e-4 units), then layer and neuron; the best 50."""
    ids = torch.tensor([i for i, t in enumerate(vocab) if search_key(t) == key])
    rows = []
    for layer, rec in sorted(records.layers.items()):
        hit = torch.isin(rec["window_ids"].long(), ids) & (rec["top_doc"] >= 0)[..., None]
        top = rec["top_values"][:, 0].float().abs().clamp(min=1e-6)
        rel = (rec["window_acts"].float() / top[:, None, None]).clamp(-1, 1)
        best = torch.where(hit, rel, -torch.inf).amax(dim=(1, 2))
        rows += [(-round(float(best[n].double()) * 10_000), layer, n)
                 for n in hit.any(2).any(1).nonzero().flatten().tolist()]
    return [(layer, n) for _, layer, n in sorted(rows)[:50]]


def test_search_from_a_neuron_page_finds_a_word_of_the_examples(smol_atlas, watch, artifacts):
    site, maps, records = smol_atlas
    vocab = maps[0].vocab
    before = int(records.header["window"][0])
    # a word of a neuron's top example that none of its sides decodes to, and that ranks it
    # among the neurons listed for that word (found here, from the records and maps)
    found, seen = None, {}
    for layer in reversed(LAYERS):
        rec = records.layers[layer]
        for n in range(D_MLP):
            decoded = {search_key(vocab[t]) for m in maps
                       for t in m.layer(layer).top_ids[n].tolist()}
            for t in rec["window_ids"][n, 0].tolist():
                key = search_key(vocab[t]) if t >= 0 else ""
                if not (key.isascii() and key.isalpha() and len(key) >= 5) or key in decoded:
                    continue
                if key not in seen:
                    seen[key] = example_ranking(records, vocab, key)
                if (layer, n) in seen[key]:
                    found = (layer, n, key)
                    break
            if found:
                break
        if found:
            break
    assert found, "no word of the examples to search"
    layer, neuron, word = found
    w = watch()
    page = w.page
    open_neuron(page, site, LAYERS[0], 0)  # the search box of a neuron page
    page.fill("#q", " " + word.capitalize())  # case and spaces do not matter
    page.press("#q", "Enter")
    page.wait_for_selector(f'#results[data-query="{word}"]', state="attached")
    listed = [(int(li.get_attribute("data-layer")), int(li.get_attribute("data-neuron")))
              for li in page.query_selector_all("#results-examples li")]
    assert listed == seen[word]
    decoders = {(int(li.get_attribute("data-layer")), int(li.get_attribute("data-neuron")))
                for li in page.query_selector_all("#results li")}
    assert (layer, neuron) not in decoders  # found by what it reads, not by its weights
    li = page.locator(f'#results-examples li[data-layer="{layer}"][data-neuron="{neuron}"]')
    li.scroll_into_view_if_needed()
    expect(li).to_have_attribute("data-preview", "done")
    assert li.locator("a").first.text_content() == f"{layer}:{neuron}"
    assert li.locator(".preview .tok").all_text_contents() == [
        visible(vocab[t]) for t in maps[0].layer(layer).top_ids[neuron, :5].tolist()]
    rec = records.layers[layer]
    ids = rec["window_ids"][neuron, 0]
    assert li.locator(".snippet .focus").text_content() == visible(
        vocab[int(ids[before])], keep_spaces=True)
    assert li.locator(".snippet").text_content().strip("\u2026") in window_text(vocab, ids)
    page.screenshot(path=str(artifacts / "smollm2-search-examples.png"))
    li.locator("a").first.click()
    page.wait_for_url(re.compile(rf"neuron\.html#{layer}:{neuron}$"))
    page.wait_for_selector("#side-up .top td")
    assert word in page.locator("#examples").text_content().lower()
    assert w.network() == [] and w.problems == []


def test_browsing_a_layer_reaches_its_last_neuron(smol_atlas, watch, artifacts):
    site, (_, down), _ = smol_atlas
    layer = LAYERS[-1]
    w = watch()
    page = w.page
    open_neuron(page, site, layer, 0)
    page.click("#browse")  # "all neurons of layer 29"
    page.wait_for_url(re.compile(rf"layer\.html#L={layer}$"))
    page.select_option("#b-sort", "index")
    rows, number = [], 1
    while True:  # every page, in index order, until "next" is off
        wait_until(page, ROWS_PAGE_DRAWN, str(number))
        rows += page.evaluate("() => [...document.querySelectorAll('#b-rows tr')].map("
                              "tr => [+tr.dataset.neuron, tr.dataset.side])")
        if page.locator("#p-next").get_attribute("class") == "off":
            break
        page.click("#p-next")
        number += 1
    assert rows == [[n, s] for n in range(D_MLP) for s in ("up", "down")]
    assert number == -(-2 * D_MLP // 100)
    expect(page.locator("#b-status")).to_have_text(
        f"rows {100 * (number - 1) + 1}–{2 * D_MLP} of {2 * D_MLP} (neuron × side)")
    page.screenshot(path=str(artifacts / "smollm2-browse-last.png"))
    page.click(f'#b-rows tr[data-neuron="{D_MLP - 1}"][data-side="down"] a')
    page.wait_for_url(re.compile(rf"neuron\.html#{layer}:{D_MLP - 1}:down$"))
    expect(page.locator("#title")).to_have_text(f"Layer {layer} · neuron {D_MLP - 1}")
    expect(page.locator("#side-down")).to_have_class(re.compile("chosen"))
    assert page.locator("#side-down table.top .tok").all_text_contents() == [
        visible(down.vocab[t]) for t in down.layer(layer).top_ids[D_MLP - 1].tolist()]
    assert w.network() == [] and w.problems == []
