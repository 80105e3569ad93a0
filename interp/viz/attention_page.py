"""The attention page: one self-contained HTML file (inline CSS and plain JS drawing on canvas,
the numbers as a `window.ATTN = {...}` script: file:// cannot fetch JSON), opened from disk
offline. Tokens are set as text only (never parsed as HTML), the data script cannot close its
element (<, >, & escaped), and a Content-Security-Policy lets only these scripts run."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from typing import TYPE_CHECKING, Any

import torch

from interp.atlas.text import visible

if TYPE_CHECKING:
    from interp.viz.attention import AttentionPatterns

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1180px;padding:8px 16px;
color:#222}
h1{font-size:20px;margin:8px 0 2px}h2{font-size:16px;margin:18px 0 6px}
.muted,.hint{color:#666}.hint{font-size:12px;margin:2px 0 6px}
#tokens{line-height:2;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.tok{display:inline-block;white-space:pre;padding:0 2px;margin:1px;border-radius:3px;
border:1px solid #ddd;cursor:pointer;max-width:40ch;overflow:hidden;vertical-align:top}
.tok.query{outline:2px solid #d95f02}.tok.future{color:#bbb;border-style:dashed}
#query-info,#cell-info{min-height:1.4em;font-family:ui-monospace,monospace;font-size:13px}
#controls{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-top:12px}
#heads{display:grid;grid-template-columns:repeat(auto-fill,minmax(124px,1fr));gap:8px}
.head{display:flex;flex-direction:column;align-items:center;background:#fff;padding:4px;
border:1px solid #ccc;border-radius:4px;cursor:pointer;font:inherit;font-size:12px}
.head canvas{width:88px;height:88px;image-rendering:pixelated}
.head.sel{outline:3px solid #d95f02;border-color:#d95f02}
.head .stats{color:#555;font-size:11px;white-space:nowrap}
#big-wrap{overflow:auto;max-width:100%}#big{display:block}
table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;text-align:right}
th{cursor:pointer;user-select:none;border-bottom:1px solid #999}
#table-wrap{max-height:420px;overflow:auto;display:inline-block;border:1px solid #ddd}
tbody tr{cursor:pointer}tbody tr.sel{outline:2px solid #d95f02}
"""

JS = r"""
(function () {
  "use strict";
  const D = window.ATTN, n = D.labels.length, H = D.heads, S = D.scale;
  const STOPS = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  const NAMES = ["entropy", "first", "previous", "induction"];
  const st = {li: -1, head: 0, query: null, pinned: false, sortBy: null};
  const $ = (id) => document.getElementById(id);
  const w = (li, h, q, k) => (k > q ? 0 : D.p[li][h][q * (q + 1) / 2 + k] / S);
  const fmt = (v, d) => (v === null || v === undefined ? "\u2013" : v.toFixed(d || 2));
  const stat = (name, li, h) => D.summary[name][li][h];

  function colour(v) {
    const x = Math.max(0, Math.min(1, v)) * (STOPS.length - 1);
    const i = Math.min(Math.floor(x), STOPS.length - 2), f = x - i, a = STOPS[i], b = STOPS[i + 1];
    return "rgb(" + [0, 1, 2].map((j) => Math.round(a[j] + (b[j] - a[j]) * f)).join(",") + ")";
  }
  function make(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function paint(ctx, li, h, cell, x0, y0) {
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        ctx.fillStyle = k > q ? "#e4e4e4" : colour(w(li, h, q, k));
        ctx.fillRect(x0 + k * cell, y0 + q * cell, cell, cell);
      }
    }
  }
  function short(label) { return label.length > 16 ? label.slice(0, 15) + "\u2026" : label; }

  function drawBig() {
    const c = $("big"), ctx = c.getContext("2d");
    const cell = Math.max(4, Math.min(28, Math.floor(640 / n)));
    const font = "12px ui-monospace, monospace";
    ctx.font = font;
    const widest = Math.max(...D.labels.map((t) => ctx.measureText(short(t)).width));
    const m = Math.ceil(Math.min(170, widest) + 12), step = Math.max(1, Math.ceil(13 / cell));
    c.width = m + n * cell + 8;
    c.height = m + n * cell + 8;
    ctx.font = font;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, c.width, c.height);
    paint(ctx, st.li, st.head, cell, m, m);
    ctx.fillStyle = "#222";
    ctx.textBaseline = "middle";
    for (let i = 0; i < n; i += step) {
      ctx.textAlign = "right";
      ctx.fillText(short(D.labels[i]), m - 6, m + (i + 0.5) * cell);
      ctx.save();
      ctx.translate(m + (i + 0.5) * cell, m - 6);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(short(D.labels[i]), 0, 0);
      ctx.restore();
    }
    ctx.textAlign = "left";
    ctx.fillStyle = "#666";
    ctx.fillText("query \u2193  key \u2192", 4, 10);
    if (st.query !== null) {
      ctx.strokeStyle = "#d95f02";
      ctx.lineWidth = 2;
      ctx.strokeRect(m, m + st.query * cell, (st.query + 1) * cell, cell);
    }
    c.dataset.layer = D.layers[st.li];
    c.dataset.head = st.head;
    c.dataset.cell = cell;
    c.dataset.margin = m;
    $("big-title").textContent = "Layer " + D.layers[st.li] + " \u00b7 head " + st.head;
    $("big-summary").textContent = "entropy " + fmt(stat("entropy", st.li, st.head)) +
      " bits \u00b7 first token " + fmt(stat("first", st.li, st.head)) + " \u00b7 previous token " +
      fmt(stat("previous", st.li, st.head)) + " \u00b7 induction " +
      fmt(stat("induction", st.li, st.head));
  }

  function drawHeads() {
    const box = $("heads"), cell = Math.max(1, Math.floor(88 / n));
    box.textContent = "";
    for (let h = 0; h < H; h++) {
      const b = make("button", "head"), c = make("canvas");
      b.type = "button";
      b.dataset.head = h;
      b.title = "layer " + D.layers[st.li] + ", head " + h + ": click to show it large";
      c.width = c.height = cell * n;
      paint(c.getContext("2d"), st.li, h, cell, 0, 0);
      b.append(c, make("span", "name", "head " + h), make("span", "stats", "prev " +
        fmt(stat("previous", st.li, h)) + " \u00b7 first " + fmt(stat("first", st.li, h))));
      b.addEventListener("click", () => select(st.li, h));
      box.appendChild(b);
    }
    $("heads-title").textContent = "Heads of layer " + D.layers[st.li];
  }

  function colourTokens() {
    const spans = $("tokens").children, q = st.query;
    for (let k = 0; k < n; k++) {
      const s = spans[k], v = q === null || k > q ? null : w(st.li, st.head, q, k);
      s.classList.toggle("query", k === q);
      s.classList.toggle("future", q !== null && k > q);
      s.style.background = v === null ? "" : colour(v);
      s.style.color = v !== null && v > 0.55 ? "#fff" : "";
      if (v === null) {
        s.title = "position " + k + ": hover to see what it attends to";
        delete s.dataset.w;
      } else {
        s.title = "position " + k + ": attention from position " + q + " = " + v.toFixed(4);
        s.dataset.w = v.toFixed(4);
      }
    }
    const info = $("query-info");
    if (q === null) {
      info.textContent = "";
      return;
    }
    const keys = [...Array(q + 1).keys()].sort((a, b) => w(st.li, st.head, q, b) -
      w(st.li, st.head, q, a) || a - b).slice(0, 5);
    info.textContent = "query " + q + " " + D.labels[q] + (st.pinned ? " (pinned)" : "") +
      " \u2192 " + keys.map((k) => k + " " + D.labels[k] + " " +
      w(st.li, st.head, q, k).toFixed(4)).join(" \u00b7 ");
  }

  function setQuery(q, pin) {
    if (pin !== undefined) st.pinned = pin;
    st.query = q;
    colourTokens();
    drawBig();
  }

  function select(li, h) {
    const newLayer = li !== st.li;
    st.li = li;
    st.head = h;
    $("layer").value = String(li);
    if (newLayer) drawHeads();
    for (const b of $("heads").children) b.classList.toggle("sel", Number(b.dataset.head) === h);
    for (const r of $("summary").tBodies[0].rows) {
      r.classList.toggle("sel", Number(r.dataset.li) === li && Number(r.dataset.head) === h);
    }
    drawBig();
    colourTokens();
  }

  function buildTokens() {
    const box = $("tokens");
    D.text.forEach((t, i) => {
      const s = make("span", "tok", t);
      s.dataset.pos = i;
      s.addEventListener("mouseenter", () => { if (!st.pinned) setQuery(i); });
      s.addEventListener("click", () => setQuery(i, !(st.pinned && st.query === i)));
      box.appendChild(s);
    });
    box.addEventListener("mouseleave", () => { if (!st.pinned) setQuery(null); });
  }

  function buildBigHover() {
    const c = $("big"), info = $("cell-info");
    const at = (e) => {
      const r = c.getBoundingClientRect(), cell = Number(c.dataset.cell);
      const m = Number(c.dataset.margin);
      const k = Math.floor((e.clientX - r.left - m) / cell);
      const q = Math.floor((e.clientY - r.top - m) / cell);
      return q >= 0 && q < n && k >= 0 && k < n ? [q, k] : null;
    };
    c.addEventListener("mousemove", (e) => {
      const hit = at(e);
      if (!hit) {
        info.textContent = "";
        return;
      }
      const [q, k] = hit;
      info.textContent = "query " + q + " " + D.labels[q] + " \u2192 key " + k + " " + D.labels[k] +
        ": " + (k > q ? "masked (a later token)" : w(st.li, st.head, q, k).toFixed(4));
      if (!st.pinned && st.query !== q) setQuery(q);
    });
    c.addEventListener("click", (e) => {
      const hit = at(e);
      if (hit) setQuery(hit[0], !(st.pinned && st.query === hit[0]));
    });
    c.addEventListener("mouseleave", () => {
      info.textContent = "";
      if (!st.pinned) setQuery(null);
    });
  }

  function buildTable() {
    const head = $("summary").tHead.rows[0], body = $("summary").tBodies[0];
    ["layer", "head", ...NAMES].forEach((name) => {
      const th = make("th", "", name);
      th.dataset.key = name;
      th.title = D.docs[name] || "";
      th.addEventListener("click", () => sortTable(name));
      head.appendChild(th);
    });
    D.layers.forEach((layer, li) => {
      for (let h = 0; h < H; h++) {
        const r = make("tr");
        r.dataset.li = li;
        r.dataset.head = h;
        r.append(make("td", "", String(layer)), make("td", "", String(h)));
        NAMES.forEach((name) => {
          const v = stat(name, li, h), td = make("td", "", fmt(v));
          if (name !== "entropy" && v !== null) {
            td.style.background = colour(v);
            td.style.color = v > 0.55 ? "#fff" : "";
          }
          r.appendChild(td);
        });
        r.addEventListener("click", () => select(li, h));
        body.appendChild(r);
      }
    });
  }

  function sortTable(name) {
    const body = $("summary").tBodies[0], rows = [...body.rows];
    const key = (r) => (name === "layer" ? -Number(r.dataset.li) : name === "head" ?
      -Number(r.dataset.head) : stat(name, Number(r.dataset.li), Number(r.dataset.head)));
    rows.sort((a, b) => (key(b) === null ? -Infinity : key(b)) - (key(a) === null ? -Infinity :
      key(a)) || Number(a.dataset.li) - Number(b.dataset.li) || a.dataset.head - b.dataset.head);
    rows.forEach((r) => body.appendChild(r));
    $("summary").dataset.sort = name;
  }

  function buildControls() {
    const sel = $("layer");
    D.layers.forEach((layer, li) => sel.appendChild(make("option", "", "layer " + layer)));
    [...sel.options].forEach((o, li) => { o.value = String(li); });
    sel.addEventListener("change", () => select(Number(sel.value), Math.min(st.head, H - 1)));
    $("prev-layer").addEventListener("click", () => select(Math.max(0, st.li - 1), st.head));
    $("next-layer").addEventListener("click", () =>
      select(Math.min(D.layers.length - 1, st.li + 1), st.head));
    const scale = $("scale"), ctx = scale.getContext("2d");
    for (let x = 0; x < scale.width; x++) {
      ctx.fillStyle = colour(x / (scale.width - 1));
      ctx.fillRect(x, 0, 1, scale.height);
    }
  }

  document.title = "Attention patterns \u00b7 " + D.model;
  $("meta").textContent = D.model + " \u00b7 " + n + " tokens \u00b7 " + D.layers.length +
    " layers \u00d7 " + H + " heads \u00b7 fingerprint " + D.fingerprint.slice(0, 12);
  buildTokens();
  buildControls();
  buildTable();
  buildBigHover();
  select(0, 0);
  document.body.dataset.ready = "1";
})();
"""

BODY = """<header><h1>Attention patterns</h1><p id="meta" class="muted"></p></header>
<noscript><p>This page draws with JavaScript; enable it to see the patterns.</p></noscript>
<section><h2>Prompt</h2>
<p class="hint">Hover a token (or a row of the large heatmap) to colour the earlier tokens by how
much it attends to each in the selected head; click to pin it.</p>
<div id="tokens"></div><p id="query-info"></p></section>
<section id="controls"><label>Layer <select id="layer"></select></label>
<button type="button" id="prev-layer">&larr; previous</button>
<button type="button" id="next-layer">next &rarr;</button>
<span class="muted">attention weight 0 <canvas id="scale" width="160" height="12"></canvas> 1</span>
</section>
<section><h2 id="heads-title">Heads</h2>
<p class="hint">Each head's pattern (query down, key across); click one to show it large.</p>
<div id="heads"></div></section>
<section><h2 id="big-title"></h2><p id="big-summary" class="muted"></p>
<div id="big-wrap"><canvas id="big" width="10" height="10"></canvas></div>
<p id="cell-info"></p></section>
<section><h2>Every head</h2>
<p class="hint">Means over queries: entropy in bits; attention to the first token (sink), the
previous token (previous-token heads) and the token after an earlier copy of the query's token
(induction heads). Click a column to sort, a row to show that head.</p>
<div id="table-wrap"><table id="summary"><thead><tr></tr></thead><tbody></tbody></table></div>
</section>"""


def page_data(patterns: AttentionPatterns) -> dict[str, Any]:
    """What the page draws: token labels, each head's lower triangle (row by row, in units of
    10^-DIGITS), the per-head summaries (rounded; null where undefined)."""
    from interp.viz.attention import DIGITS, SUMMARIES

    scale = 10 ** DIGITS
    n = len(patterns.tokens)
    rows, cols = torch.tril_indices(n, n)
    tri = torch.round(patterns.patterns[..., rows, cols].double() * scale).long()
    summary = {name: [[None if math.isnan(v) else round(v, DIGITS) for v in heads]
                      for heads in values.tolist()]
               for name, values in patterns.summary().items()}
    return {
        "model": visible(patterns.model, limit=None), "fingerprint": patterns.fingerprint,
        "labels": [visible(t) for t in patterns.tokens],
        "text": [visible(t, keep_spaces=True) for t in patterns.tokens],
        "layers": list(patterns.layers), "heads": int(patterns.patterns.shape[1]),
        "scale": scale, "p": tri.tolist(), "summary": summary, "docs": SUMMARIES,
    }


def script_json(obj: Any) -> str:
    """JSON that is safe inside <script>: ASCII only, and <, >, & as \\u escapes (so no
    "</script>" or "<!--" can appear), sorted keys (the same bytes each time)."""
    text = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def attention_page(patterns: AttentionPatterns) -> str:
    """The page's HTML (deterministic: the same patterns give the same bytes)."""
    data = f"window.ATTN={script_json(page_data(patterns))};"
    csp = (f"default-src 'none'; script-src {_sha(data)} {_sha(JS)}; style-src {_sha(CSS)}; "
           "img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")
    title = html.escape(f"Attention patterns - {visible(patterns.model, limit=None)}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{BODY}\n"
            f"<script>{data}</script>\n<script>{JS}</script>\n</body>\n</html>\n")
