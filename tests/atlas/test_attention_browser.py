"""The attention page (interp.viz.attention) in headless Chromium from file://: it renders,
choosing a layer and a head redraws the large heatmap with that head's numbers, hovering a
token colours the earlier tokens with its attention, the summary table sorts and selects; no
network request, no console error (the Content-Security-Policy admits the page's own scripts),
and hostile tokens stay text. Here beside the atlas's browser test to share its one Chromium
(Playwright's sync API cannot run two at once)."""

from __future__ import annotations

import pytest
import torch

from interp.atlas.text import visible
from interp.options import AttentionOptions
from interp.viz.attention import AttentionPatterns, attention_view
from interp.viz.attention_page import attention_page

expect = pytest.importorskip("playwright.sync_api").expect

PROMPT = "the cat sat on the mat. the cat sat on the"
STOPS = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]


def colour(v: float) -> tuple[int, int, int]:
    """The page's sequential scale, written again (0 white-blue .. 1 dark blue)."""
    x = min(1.0, max(0.0, v)) * (len(STOPS) - 1)
    i = min(int(x), len(STOPS) - 2)
    f = x - i
    return tuple(round(a + (b - a) * f) for a, b in zip(STOPS[i], STOPS[i + 1]))


def big_pixel(page, q: int, k: int) -> tuple[int, int, int]:
    """The large heatmap's colour at the centre of cell (query q, key k)."""
    return tuple(page.evaluate("""([q, k]) => {
        const c = document.getElementById('big'), cell = +c.dataset.cell, m = +c.dataset.margin;
        const x = m + (k + 0.5) * cell, y = m + (q + 0.5) * cell;
        const copy = document.createElement('canvas');  // read a copy: one readback each
        copy.width = c.width;
        copy.height = c.height;
        const ctx = copy.getContext('2d', {willReadFrequently: true});
        ctx.drawImage(c, 0, 0);
        return [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]; }""", [q, k]))


def test_layers_heads_hover_and_table(llama, tmp_path, watch, artifacts):
    out = str(tmp_path / "attention.html")
    found, path = attention_view(llama, PROMPT, AttentionOptions(out=out))
    p = torch.round(found.patterns.double() * 1e4) / 1e4  # as the page has them
    n, n_heads = len(found.tokens), found.patterns.shape[1]
    w = watch()
    page = w.page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#tokens .tok").all_text_contents() == [
        visible(t, keep_spaces=True) for t in found.tokens]
    assert page.locator("#layer option").all_text_contents() == ["layer 0", "layer 1"]
    assert page.locator("#heads .head").count() == n_heads
    big = page.locator("#big")
    assert (big.get_attribute("data-layer"), big.get_attribute("data-head")) == ("0", "0")
    assert big_pixel(page, n - 1, 1) == colour(float(p[0, 0, n - 1, 1]))
    before = page.evaluate("document.getElementById('big').toDataURL()")

    page.click("#heads .head:nth-child(3)")  # head 2
    expect(page.locator("#big-title")).to_have_text("Layer 0 · head 2")
    expect(page.locator("#heads .head.sel")).to_have_attribute("data-head", "2")
    assert page.evaluate("document.getElementById('big').toDataURL()") != before
    thumb = page.evaluate("document.querySelector('#heads canvas').toDataURL()")
    page.select_option("#layer", "1")
    expect(page.locator("#big-title")).to_have_text("Layer 1 · head 2")
    assert page.evaluate("document.querySelector('#heads canvas').toDataURL()") != thumb
    for q, k in [(n - 1, 0), (n - 1, n - 2), (5, 3), (n // 2, n // 2)]:
        assert big_pixel(page, q, k) == colour(float(p[1, 2, q, k])), (q, k)

    q = n - 1  # hover the last token: the earlier ones show its attention
    page.hover(f"#tokens .tok:nth-child({q + 1})")
    expect(page.locator("#tokens .tok.query")).to_have_attribute("data-pos", str(q))
    shown = page.locator("#tokens .tok").evaluate_all("xs => xs.map(x => x.dataset.w)")
    assert [float(v) for v in shown] == pytest.approx(p[1, 2, q].tolist(), abs=1e-9)
    top = int(p[1, 2, q].argmax())
    expect(page.locator("#query-info")).to_contain_text(f"query {q} ")
    expect(page.locator("#query-info")).to_contain_text(f"{top} {visible(found.tokens[top])} "
                                                        f"{float(p[1, 2, q, top]):.4f}")
    page.hover("#tokens .tok:nth-child(3)")  # an earlier query: later tokens are masked
    assert page.locator("#tokens .tok.future").count() == n - 3
    page.click("#tokens .tok:nth-child(3)")  # pinned: leaving the tokens keeps it
    page.mouse.move(0, 0)
    expect(page.locator("#query-info")).to_contain_text("query 2 ")
    expect(page.locator("#query-info")).to_contain_text("(pinned)")

    cell, margin = (float(big.get_attribute(a)) for a in ("data-cell", "data-margin"))
    big.hover(position={"x": margin + 1.5 * cell, "y": margin + 4.5 * cell})
    expect(page.locator("#cell-info")).to_have_text(
        f"query 4 {visible(found.tokens[4])} → key 1 {visible(found.tokens[1])}: "
        f"{float(p[1, 2, 4, 1]):.4f}")
    page.screenshot(path=str(artifacts / "attention.png"), full_page=True)

    page.click("#summary th[data-key='previous']")  # the strongest previous-token head first
    prev = found.summary()["previous"]
    best = divmod(int(prev.flatten().argmax()), n_heads)
    first = page.locator("#summary tbody tr").first
    assert (first.get_attribute("data-li"), first.get_attribute("data-head")) == tuple(
        map(str, best))
    first.click()
    expect(page.locator("#big-title")).to_have_text(f"Layer {best[0]} · head {best[1]}")
    assert w.network() == [] and w.problems == []


NASTY = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "</script>", "&lt;",
         "<!--", "\u2028", "\x00", "\u202eevil", "\ud800", " \t\n", "${alert(1)}", "A" * 300]


def test_hostile_tokens_are_inert(tmp_path, watch):
    n = len(NASTY)
    p = torch.rand(1, 2, n, n, generator=torch.Generator().manual_seed(1)).tril()
    found = AttentionPatterns("<img src=x onerror=alert(1)>", "0" * 16, "x", NASTY,
                              list(range(n)), [0], p / p.sum(-1, keepdim=True))
    path = tmp_path / "hostile.html"
    path.write_text(attention_page(found), encoding="utf-8")
    w = watch(width=900)
    page = w.page
    page.add_init_script("window.alert = () => { window.__alerted = true; };")
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#tokens .tok").all_text_contents() == [
        visible(t, keep_spaces=True) for t in NASTY]
    page.hover("#tokens .tok:last-child")
    page.click("#heads .head:nth-child(2)")
    state = page.evaluate("""() => ({n: document.querySelectorAll('img, iframe, object').length,
        scripts: document.scripts.length, alerted: window.__alerted === true,
        wide: document.documentElement.scrollWidth - document.documentElement.clientWidth})""")
    assert state == {"n": 0, "scripts": 2, "alerted": False, "wide": 0}
    assert w.network() == [] and w.problems == []
