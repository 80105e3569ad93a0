/* interp neuron atlas: hand-written, no dependencies, no network. Data files are scripts
   that call ATLAS.put(key, data); model strings only ever reach the page via textContent.
   This file: shared helpers (ATLAS.u), the index and neuron pages; search.js: the search box
   of every page; browse.js: a layer's neurons, paged (layer.html). */
(function () {
  "use strict";
  var A = window.ATLAS = { M: null, store: new Map(), pending: new Map(), shown: 0 };
  A.meta = function (m) { A.M = m; };
  A.put = function (key, data) { A.store.set(key, data); };

  function pad(n, w) { var s = String(n); while (s.length < w) s = "0" + s; return s; }
  function load(key, path) {  /* a <script> tag: works from file://, unlike fetch */
    if (A.store.has(key)) return Promise.resolve(A.store.get(key));
    if (A.pending.has(key)) return A.pending.get(key);
    var p = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = path;
      s.onload = function () { A.pending.delete(key); resolve(A.store.get(key)); };
      s.onerror = function () { A.pending.delete(key); reject(new Error("missing " + path)); };
      document.head.appendChild(s);
    });
    A.pending.set(key, p);
    return p;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function fmt(x, d) { return x === null || x === undefined ? "–" : Number(x).toPrecision(d || 3); }
  /* a probability, short enough for its column; stored to 5 decimals, so 0 is < 5e-6 and
     one under 1e-4 has a single significant digit */
  function fmtP(p) {
    if (p === null || p === undefined) return "–";
    if (p === 0) return "< 1e-5";
    return p < 1e-4 ? p.toExponential(0) : p < 1e-3 ? p.toExponential(1) : p.toPrecision(3);
  }
  function tok(text) { var s = el("span", "tok", text); s.title = text; return s; }
  function neuronHref(l, n) { return "neuron.html#" + (l | 0) + ":" + (n | 0); }
  function link(l, n, text, side) {
    var a = el("a", null, text || (l + ":" + n));
    a.href = neuronHref(l, n) + (side ? ":" + side : "");
    return a;
  }
  function layerHref(l, opts) {
    var q = "L=" + (l | 0);
    for (var k in opts || {}) q += "&" + k + "=" + encodeURIComponent(opts[k]);
    return "layer.html#" + q;
  }
  /* the preview of neuron l:n (preview shards of M.preview_block neurons): [shard, row] */
  function preview(l, n) {
    var b = Math.floor(n / A.M.preview_block), key = "P" + pad(l, 3) + "/" + pad(b, 5);
    return load(key, "data/" + key + ".js").then(function (P) { return [P, P.neurons[n - P.start]]; });
  }
  function previewBlocks(l) {
    var M = A.M, out = [];
    for (var b = 0; b * M.preview_block < M.d_mlp; b++) {
      var key = "P" + pad(l, 3) + "/" + pad(b, 5);
      out.push(load(key, "data/" + key + ".js"));
    }
    return Promise.all(out);
  }
  /* [text before, peak token, text after] of a top example, the peak outlined */
  function snippet(parts) {
    return add(el("span", "snippet"), el("span", null, parts[0]), el("span", "focus", parts[1]), el("span", null, parts[2]));
  }
  /* The search key: FNV-1a over UTF-16 units, like interp.atlas.text.bucket_of / search_key. */
  A.key = function (q) {
    return q.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "").replace(/[A-Z]/g, function (c) { return c.toLowerCase(); });
  };
  A.bucket = function (key, n) {
    var h = 0x811c9dc5;
    for (var i = 0; i < key.length; i++) { h ^= key.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return (h >>> 0) % n;
  };
  A.u = { load: load, el: el, add: add, fmt: fmt, tok: tok, link: link, pad: pad, neuronHref: neuronHref,
    layerHref: layerHref, preview: preview, previewBlocks: previewBlocks, snippet: snippet };
  function header() {
    var M = A.M;
    document.getElementById("model").textContent = M.model + " · " + M.n_layers + " layers × " +
      M.d_mlp + " neurons · sides " + M.sides.join(", ") + " · fingerprint " + M.fingerprint;
  }
  function provenance(box) {
    var M = A.M, P = M.provenance, dl = el("dl", "prov");
    function row(k, v, code) { add(dl, el("dt", null, k), add(el("dd"), code ? el("pre", null, v) : document.createTextNode(String(v)))); }
    row("model", M.model); row("fingerprint", M.fingerprint); row("architecture", M.architecture);
    row("shape", M.n_layers + " layers, d_mlp " + M.d_mlp + ", d_model " + M.d_model + ", vocab " + M.d_vocab);
    P.maps.forEach(function (m) { row("decode " + m.side, JSON.stringify(m.options), true); });
    if (M.records) {
      var R = M.records;
      row("examples", R.n_docs + " documents, " + R.n_tokens + " tokens of corpus " + R.corpus.name +
        " (sha256 " + R.corpus.sha256 + "), site " + R.site + ", top " + R.top_k + " documents per neuron");
    } else row("examples", "none: built without activation records");
    if (P.dose_files.length) row("dose-response", P.dose_files.join(", "));
    row("interp", P.interp_version);
    row("rebuild", P.command, true);
    box.replaceChildren(dl);
  }
  function bars(counts, w, h, log) {
    var s = svg("svg", { width: w, height: h + 2, viewBox: "0 0 " + w + " " + (h + 2), role: "img" });
    var f = function (c) { return log ? Math.log1p(c) : c; };
    var top = Math.max.apply(null, counts.map(f)) || 1, bw = w / counts.length;
    counts.forEach(function (c, i) {
      var bh = h * f(c) / top, r = svg("rect", { "class": "bar", x: i * bw + 0.5, y: h - bh, width: Math.max(bw - 1, 1), height: bh });
      add(r, svg("title", {})).lastChild.textContent = String(c);
      s.appendChild(r);
    });
    s.appendChild(svg("line", { "class": "axis", x1: 0, y1: h + 1, x2: w, y2: h + 1 }));
    return s;
  }

  // the activation histogram with axes: x ticks at the decade edges, y the largest count
  function labelledHistogram(counts, edges) {
    var left = 44, w = 460, h = 80, bottom = 30, bw = w / counts.length;
    var s = svg("svg", { width: left + w + 10, height: h + bottom, viewBox: "0 0 " + (left + w + 10) + " " + (h + bottom), role: "img" });
    var g = add(s, svg("g", { transform: "translate(" + left + ",0)" })).lastChild;
    g.appendChild(bars(counts, w, h, true));
    var label = function (v) { return v === 0 ? "0" : Math.abs(v) >= 1 ? String(v) : v.toExponential(0).replace("e-", "e−"); };
    edges.forEach(function (v, i) {
      if (Math.abs(Math.log10(Math.abs(v)) % 1) > 1e-9 || Math.abs(v) < 0.01) return;  // decades; 0 below
      var x = (i + 1) * bw;
      g.appendChild(svg("line", { "class": "axis", x1: x, x2: x, y1: h + 1, y2: h + 5 }));
      add(g, svg("text", { "class": "tick", x: x, y: h + 16, "text-anchor": "middle" })).lastChild.textContent = label(v);
    });
    add(g, svg("text", { "class": "tick", x: (counts.length / 2) * bw, y: h + 16, "text-anchor": "middle" })).lastChild.textContent = "0";
    add(s, svg("text", { "class": "tick", x: left - 4, y: 10, "text-anchor": "end" })).lastChild.textContent = String(Math.max.apply(null, counts));
    add(s, svg("text", { "class": "tick", x: left - 4, y: h, "text-anchor": "end" })).lastChild.textContent = "0";
    add(s, svg("text", { "class": "tick", x: left + w / 2, y: h + bottom - 2, "text-anchor": "middle" })).lastChild.textContent = "activation (signed, log scale)";
    add(s, svg("text", { "class": "tick", x: 0, y: h / 2 + 4 })).lastChild.textContent = "count";
    return s;
  }

  /* ---------------- index page ---------------- */
  function indexPage() {
    var M = A.M, box = document.getElementById("layers");
    if (M.specialised_rule) box.parentNode.insertBefore(el("p", "muted rule",
      "\u201cmost specialised\u201d: the highest top-1 probabilities among neurons whose " + M.specialised_rule), box);
    M.overview.forEach(function (L) {
      var browse = el("a", "browse", "all " + M.d_mlp + " neurons");
      browse.href = layerHref(L.layer);
      var row = add(el("div", "layer"), add(el("div", "name"), link(L.layer, 0, "layer " + L.layer), el("br"), browse));
      L.sides.forEach(function (S, i) {
        var cell = add(el("div", "spec"), el("div", "muted", M.sides[i] + ": median top-1 p " + fmt(S.median_p1) +
          ", " + S.over_half + " > 0.5"), bars(S.hist, 160, 40, true));
        row.appendChild(cell);
        var best = add(el("div", "best"), el("div", "muted", "most specialised (" + M.sides[i] + ")"));
        S.best.forEach(function (b) { add(best, add(link(L.layer, b[0], L.layer + ":" + b[0] + " "), tok(b[1]))); });
        row.appendChild(best);
      });
      box.appendChild(row);
    });
    provenance(document.getElementById("prov"));
  }

  /* ---------------- neuron page ---------------- */
  function current() {  /* #layer:neuron, or #layer:neuron:side (that side's tables in view) */
    var m = /^#(\d+):(\d+)(?::([a-z]+))?$/.exec(location.hash), M = A.M;
    return m ? [+m[1], +m[2], m[3] || null] : [M.layers[0], 0, null];
  }
  function step(l, n, d, side) {
    var M = A.M, i = M.layers.indexOf(l);
    n += d;
    if (n < 0) { i = (i - 1 + M.layers.length) % M.layers.length; n = M.d_mlp - 1; }
    if (n >= M.d_mlp) { i = (i + 1) % M.layers.length; n = 0; }
    return neuronHref(M.layers[i], n) + (side ? ":" + side : "");
  }
  function neuronPage() {
    provenance(document.getElementById("prov"));
    document.getElementById("random").addEventListener("click", function (e) {
      var M = A.M; e.preventDefault();
      location.hash = M.layers[Math.floor(Math.random() * M.layers.length)] + ":" + Math.floor(Math.random() * M.d_mlp);
    });
    document.getElementById("jump").addEventListener("submit", function (e) {
      e.preventDefault();
      location.hash = (+document.getElementById("jump-layer").value | 0) + ":" + (+document.getElementById("jump-neuron").value | 0);
    });
    window.addEventListener("hashchange", show);
    show();
  }
  function show() {
    var M = A.M, c = current(), l = c[0], n = c[1], side = c[2], status = document.getElementById("status");
    document.getElementById("prev").href = step(l, n, -1, side);
    document.getElementById("next").href = step(l, n, 1, side);
    var bl = M.layers.indexOf(l) >= 0 ? l : M.layers[0];  // a layer not in the atlas: the first
    document.getElementById("browse").href = layerHref(bl);
    document.getElementById("browse").textContent = "all neurons of layer " + bl;
    sideLinks(l, n, side);
    document.getElementById("jump-layer").value = l; document.getElementById("jump-neuron").value = n;
    document.getElementById("title").textContent = "Layer " + l + " · neuron " + n;
    document.title = l + ":" + n + " - " + M.model + " - interp neuron atlas";
    var ticket = ++A.shown;  // a later hash wins over a slower earlier load
    clearNeuron();
    if (M.layers.indexOf(l) < 0 || n >= M.d_mlp) { status.textContent = "no neuron " + l + ":" + n + " in this atlas"; return; }
    var chunk = Math.floor(n / M.shard_size), key = "L" + pad(l, 3) + "/" + pad(chunk, 5);
    status.textContent = "loading…";
    load(key, "data/" + key + ".js").then(function (sh) {
      if (ticket !== A.shown) return;
      render(l, n, sh.neurons[n - sh.start], sh.strings);
      NEURON_PARTS.forEach(function (id) { document.getElementById(id).hidden = false; });
      status.textContent = "";
      var box = side && document.getElementById("side-" + side);
      if (box) { box.classList.add("chosen"); box.scrollIntoView(); }
    }, function (err) { if (ticket === A.shown) status.textContent = String(err.message); });
  }
  // the page's neuron sections: emptied and hidden until the next neuron is drawn, so an
  // unknown neuron (or a failed load) never shows the previous one's data
  var NEURON_PARTS = ["decoded", "examples-section", "hist-section", "dose-section", "related-section"];
  function clearNeuron() {
    ["sides", "examples", "hist", "dose", "related"].forEach(function (id) { document.getElementById(id).replaceChildren(); });
    NEURON_PARTS.forEach(function (id) { document.getElementById(id).hidden = true; });
  }
  /* the same neuron index on each side of the atlas (one page holds every side) */
  function sideLinks(l, n, side) {
    var M = A.M, box = document.getElementById("side-links");
    box.replaceChildren();
    if (M.sides.length < 2) return;
    box.appendChild(document.createTextNode("sides: "));
    M.sides.forEach(function (s) {
      var a = link(l, n, s, s);
      if (s === side) a.className = "chosen";
      add(box, a, document.createTextNode(" "));
    });
  }
  function render(l, n, d, S) {
    var M = A.M, sides = el("div", "sides");
    d.sides.forEach(function (s, i) {
      var box = add(el("div", "side"), el("h3", null, M.sides[i]),
        el("p", "muted", "top-1 p " + fmt(s.p1) + " · margin " + fmt(s.margin) + " · entropy " + fmt(s.entropy) + " nats"),
        s.concepts ? el("p", "concepts", "concepts: " + s.concepts.join(", ")) : null);
      box.id = "side-" + M.sides[i];
      var pair = add(box, el("div", "pair")).lastChild;  // top and bottom tokens side by side
      [["top", "top tokens", s.top], ["bottom", "bottom tokens", s.bot]].forEach(function (part) {
        if (!part[2].length) return;
        var t = el("table", part[0]), head = add(el("tr"), el("th", "num", "#"), el("th", null, part[1]), el("th", "num", "logit"));
        if (part[0] === "top") head.appendChild(el("th", "num", "prob"));
        t.appendChild(head);
        part[2].forEach(function (r, k) {
          var tr = add(el("tr"), el("td", "num", k + 1), add(el("td"), tok(S[r[0]])), el("td", "num", fmt(r[1], 4)));
          if (part[0] === "top") tr.appendChild(el("td", "num", fmtP(r[2])));
          t.appendChild(tr);
        });
        pair.appendChild(t);
      });
      sides.appendChild(box);
    });
    document.getElementById("sides").replaceChildren(sides);
    examples(d, S); histogram(d); dose(d);
    var rel = document.getElementById("related");
    rel.replaceChildren();
    if (d.related) d.related.forEach(function (r) {
      add(rel, link(r[0], r[1]), document.createTextNode(" (cos " + fmt(r[2], 2) + ")  "));
    });
    else rel.textContent = "none recorded";
  }
  function examples(d, S) {
    var box = document.getElementById("examples");
    box.replaceChildren();
    if (!d.examples) { box.textContent = "no activation records in this atlas (build it with --model to collect them)"; return; }
    var top = d.examples.length ? Math.max(Math.abs(d.examples[0][0]), 1e-6) : 1;
    d.examples.forEach(function (x) {
      var row = add(el("div", "example"), el("span", "val", fmt(x[0])));
      row.title = "document " + x[1];
      x[3].forEach(function (si, j) {
        var a = x[4][j], t = el("span", "t" + (j === x[2] ? " focus" : ""), S[si]);
        var alpha = Math.min(Math.abs(a) / top, 1).toFixed(3);
        t.style.backgroundColor = a >= 0 ? "rgba(230,120,20," + alpha + ")" : "rgba(40,110,220," + alpha + ")";
        t.title = "activation " + fmt(a);
        row.appendChild(t);
      });
      box.appendChild(row);
    });
  }
  function histogram(d) {
    var box = document.getElementById("hist"), R = A.M.records;
    box.replaceChildren();
    if (!d.hist) { box.textContent = "no activation records"; return; }
    var e = R.hist_edges, st = d.stats;
    add(box, labelledHistogram(d.hist, e), el("div", "muted", "activation on a signed log scale: bins of half a decade " +
      "from < " + e[0] + " to ≥ " + e[e.length - 1] + ", the middle bin [" + e[e.length / 2 - 1] + ", " + e[e.length / 2] +
      "); bar height: log(1 + count), hover a bar for its count"),
      el("p", null, "mean " + fmt(st[0]) + " · std " + fmt(st[1]) + " · min " + fmt(st[2]) + " · max " + fmt(st[3]) +
        " · active (> 0) on " + fmt(100 * st[4]) + " % of " + R.n_tokens + " tokens"));
  }
  function dose(d) {
    var box = document.getElementById("dose");
    box.replaceChildren();
    if (!d.dose) { box.textContent = "not computed for this neuron (interp dose-response --table F.json, then --dose F.json)"; return; }
    d.dose.forEach(function (r) {
      var w = 320, h = 120, ys = r.target.concat(r.controls, [r.baseline]);
      var top = Math.max.apply(null, ys), low = Math.min.apply(null, ys), span = (top - low) || 1e-9;
      var x = function (i) { return 40 + i * (w - 50) / Math.max(r.values.length - 1, 1); };
      var y = function (p) { return h - 15 - (h - 25) * (p - low) / span; };
      var s = svg("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h });
      var path = function (v) { return v.map(function (p, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(p).toFixed(1); }).join(" "); };
      s.appendChild(svg("line", { "class": "base", x1: 30, x2: w - 10, y1: y(r.baseline), y2: y(r.baseline) }));
      if (r.controls.length) s.appendChild(svg("path", { "class": "control", d: path(r.controls) }));
      s.appendChild(svg("path", { "class": "target", d: path(r.target) }));
      r.values.forEach(function (v, i) { add(s, svg("text", { x: x(i) - 6, y: h - 2 })).lastChild.textContent = String(v); });
      add(s, svg("text", { x: 0, y: 12 })).lastChild.textContent = fmt(top, 3);
      add(s, svg("text", { x: 0, y: h - 15 })).lastChild.textContent = fmt(low, 3);
      var t = add(el("table"), add(el("tr"), el("th", "num", "value (" + r.unit + ")"), el("th", "num", "target"), el("th", "num", "controls")));
      r.values.forEach(function (v, i) { add(t, add(el("tr"), el("td", "num", v), el("td", "num", fmt(r.target[i])), el("td", "num", fmt(r.controls[i])))); });
      add(box, el("h3", null, r.file + ": clamp " + r.curve), el("p", "muted", (r.measure || "P(concept) at the next token") + " (axis from lowest to highest) over " + r.n_prompts +
        " prompts; solid: target, dashed: mean of " + r.n_controls + " control neurons, dotted: unclamped " + fmt(r.baseline)), s, t);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!A.M) { document.body.textContent = "data/meta.js is missing: rebuild the atlas"; return; }
    header();
    if (A.searchBox) A.searchBox();
    var page = document.body.dataset.page;
    if (page === "index") indexPage(); else if (page === "layer") A.browsePage(); else neuronPage();
  });
})();
