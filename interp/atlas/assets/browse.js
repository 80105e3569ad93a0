/* interp neuron atlas: every neuron of a layer (layer.html#L=3&side=up&sort=p1&q=dog&page=2),
   one row per neuron and side, from the layer's preview shards; sorted (top-1 probability, max
   activation or index), filtered (side, a substring of a top token or a concept) and paged. */
(function () {
  "use strict";
  var A = window.ATLAS, U = A.u, el = U.el, add = U.add, fmt = U.fmt;
  var PER = 100, SORTS = { p1: "specialisation (top-1 p)", act: "max activation", index: "index" };
  var rows = new Map(), ticket = 0;  // layer -> its rows, once its preview shards are in

  function state() {
    var M = A.M, p = new URLSearchParams(location.hash.slice(1)), l = parseInt(p.get("L"), 10);
    var sort = p.get("sort") || "p1", side = p.get("side") || "all";
    return { layer: isNaN(l) ? M.layers[0] : l, sort: SORTS[sort] ? sort : "p1",
      side: side === "all" || M.sides.indexOf(side) >= 0 ? side : "all", q: p.get("q") || "",
      page: Math.max(1, parseInt(p.get("page"), 10) || 1), per: Math.max(1, parseInt(p.get("per"), 10) || PER) };
  }
  function href(st, change) {
    var s = Object.assign({}, st, change), o = { sort: s.sort, side: s.side, page: s.page };
    if (s.q) o.q = s.q;
    if (s.per !== PER) o.per = s.per;
    return U.layerHref(s.layer, o);
  }
  A.browsePage = function () {
    var M = A.M, st = state(), form = document.getElementById("browse-form");
    var layer = document.getElementById("b-layer"), side = document.getElementById("b-side"), sort = document.getElementById("b-sort");
    M.layers.forEach(function (l) { var o = el("option", null, "layer " + l); o.value = l; layer.appendChild(o); });
    ["all"].concat(M.sides).forEach(function (s) { var o = el("option", null, s === "all" ? "all sides" : s); o.value = s; side.appendChild(o); });
    Object.keys(SORTS).forEach(function (k) {
      var o = el("option", null, "sort by " + SORTS[k]); o.value = k;
      if (k === "act" && !M.records) o.disabled = true;
      sort.appendChild(o);
    });
    function apply(e) {
      if (e) e.preventDefault();
      location.hash = href(state(), { layer: +layer.value, side: side.value, sort: sort.value,
        q: document.getElementById("b-q").value.trim(), page: 1 }).split("#")[1];
    }
    form.addEventListener("submit", apply);
    [layer, side, sort].forEach(function (c) { c.addEventListener("change", apply); });
    window.addEventListener("hashchange", show);
    show();
  };
  function layerRows(l) {
    if (rows.has(l)) return Promise.resolve(rows.get(l));
    return U.previewBlocks(l).then(function (blocks) {
      var out = [];
      blocks.forEach(function (P) {
        P.neurons.forEach(function (r, i) {
          r[2].forEach(function (s, si) {
            var toks = s[1].map(function (k) { return P.strings[k]; });
            out.push({ n: P.start + i, si: si, p1: s[0], act: r[0], P: P, row: r,
              text: toks.concat(s[2]).join("\n").toLowerCase() });
          });
        });
      });
      rows.set(l, out);
      return out;
    });
  }
  function pick(all, st) {
    var M = A.M, q = st.q.toLowerCase(), si = M.sides.indexOf(st.side);
    var out = all.filter(function (r) { return (si < 0 || r.si === si) && (!q || r.text.indexOf(q) >= 0); });
    var byIndex = function (a, b) { return a.n - b.n || a.si - b.si; };
    var act = function (r) { return r.act === null ? -Infinity : r.act; };
    out.sort(st.sort === "index" ? byIndex : st.sort === "act" ? function (a, b) { return act(b) - act(a) || byIndex(a, b); }
      : function (a, b) { return b.p1 - a.p1 || byIndex(a, b); });
    return out;
  }
  function show() {
    var M = A.M, st = state(), status = document.getElementById("b-status"), t0 = performance.now();
    var body = document.getElementById("b-rows"), pager = document.getElementById("pager"), mine = ++ticket;
    document.getElementById("b-layer").value = st.layer; document.getElementById("b-side").value = st.side;
    document.getElementById("b-sort").value = st.sort; document.getElementById("b-q").value = st.q;
    document.getElementById("title").textContent = "Layer " + st.layer + ": all " + M.d_mlp + " neurons";
    document.title = "layer " + st.layer + " - " + M.model + " - interp neuron atlas";
    body.replaceChildren(); pager.replaceChildren();
    delete body.dataset.ms; delete body.dataset.page; delete body.dataset.hash;
    if (M.layers.indexOf(st.layer) < 0) { status.textContent = "no layer " + st.layer + " in this atlas"; return; }
    status.textContent = "loading…";
    layerRows(st.layer).then(function (all) {
      if (mine !== ticket) return;  // a later hash is being drawn
      var list = pick(all, st), pages = Math.max(1, Math.ceil(list.length / st.per)), page = Math.min(st.page, pages);
      var from = (page - 1) * st.per, shown = list.slice(from, from + st.per);
      shown.forEach(function (r) {
        var side = M.sides[r.si], tr = add(el("tr"), add(el("td"), U.link(st.layer, r.n, st.layer + ":" + r.n, M.sides.length > 1 ? side : null)),
          el("td", null, side), el("td", "num", fmt(r.p1 / M.p1_scale)), el("td", "num", fmt(r.act)),
          add(el("td"), A.previewBox(r.P, r.row, r.si, true)));
        tr.dataset.neuron = r.n; tr.dataset.side = side;
        body.appendChild(tr);
      });
      status.textContent = list.length ? "rows " + (from + 1) + "–" + (from + shown.length) + " of " + list.length +
        " (neuron × side" + (st.q ? ", top tokens or concepts containing \u201c" + st.q + "\u201d" : "") + ")" : "no row matches";
      var nav = function (text, p, id) {
        var a = el("a", null, text); a.id = id;
        if (p >= 1 && p <= pages && p !== page) a.href = href(st, { page: p }); else a.className = "off";
        return a;
      };
      add(pager, nav("« first", 1, "p-first"), nav("‹ previous", page - 1, "p-prev"),
        el("span", null, "page " + page + " of " + pages), nav("next ›", page + 1, "p-next"), nav("last »", pages, "p-last"));
      body.dataset.ms = (performance.now() - t0).toFixed(2);
      body.dataset.page = page;
      body.dataset.hash = location.hash;  // what is drawn (tests and benchmarks wait for it)
    }, function (err) { status.textContent = String(err.message); });
  }
})();
