/* interp neuron atlas: the search box of every page. A query loads one index shard (chosen by
   a hash of its key) that lists, for that key, the neurons that decode to it, the neurons whose
   top examples hold it and the neurons labelled with it as a concept; each hit then shows a
   preview (top tokens, max activation, a snippet of its top example) from the preview shards:
   the first FIRST at once, the rest when scrolled into view. */
(function () {
  "use strict";
  var A = window.ATLAS, U = A.u, el = U.el, add = U.add, fmt = U.fmt;
  var FIRST = 12, ticket = 0, observer = null;

  A.searchBox = function () {
    var form = document.getElementById("search-form"), q = document.getElementById("q");
    if (!form) return;
    form.addEventListener("submit", function (e) { e.preventDefault(); A.search(q.value); });
  };
  function clear() {
    ["results", "results-examples", "results-concepts"].forEach(function (id) {
      var list = document.getElementById(id);
      list.replaceChildren();
      delete list.dataset.ms; delete list.dataset.query; delete list.dataset.previewsMs;
      list.parentNode.hidden = true;
    });
    if (observer) observer.disconnect();
  }
  A.search = function (q) {
    var t0 = performance.now(), M = A.M, status = document.getElementById("search-status");
    var list = document.getElementById("results"), m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(q), mine = ++ticket;
    if (m) {
      var l = +m[1], n = +m[2];
      if (M.layers.indexOf(l) >= 0 && n < M.d_mlp) { location.href = U.neuronHref(l, n); return; }
      status.textContent = "no neuron " + l + ":" + n + " (layers " + M.layers[0] + "–" +
        M.layers[M.layers.length - 1] + ", neurons 0–" + (M.d_mlp - 1) + ")";
      return;
    }
    var key = A.key(q);
    clear();
    if (!key) { status.textContent = "type a token, a word of the examples or a concept, e.g. dog"; return; }
    var b = A.bucket(key, M.n_buckets), name = "S" + U.pad(b, 5);
    status.textContent = "searching…";
    U.load(name, "data/search/" + U.pad(b, 5) + ".js").then(function (bucket) {
      if (mine !== ticket) return;
      var hit = bucket.find(function (e) { return e[0] === key; }) || [key, key, [], [], []];
      var tokens = hit[2], examples = hit[3] || [], concepts = hit[4] || [];
      var lis = group("results", tokens, function (e) {
        return [e[2], M.sides[e[2]] + " · p " + fmt(e[3] / M.mass_scale) + " · rank " + e[4]];
      }).concat(group("results-examples", examples, function (e) {
        return [0, "fires at " + fmt(e[2] / M.mass_scale, 2) + " of its top activation (" + fmt(e[3]) + ") on it in its examples"];
      }), group("results-concepts", concepts, function (e) {
        return [e[2], M.sides[e[2]] + " · at least " + M.concepts.min_words + " of its top tokens are " + hit[1] + " words"];
      }));
      var many = tokens.length >= M.search_limit ? "the best " + tokens.length + " of the neurons (per side) that decode to " : tokens.length + " neurons (per side) decode to ";
      status.replaceChildren(document.createTextNode(tokens.length ? many : "no neuron has among its top tokens "),
        U.tok(hit[1]), document.createTextNode((tokens.length ? " (any case, with or without spaces), best first" : "") +
          "; " + examples.length + " fire on it in their top examples" +
          (concepts.length ? "; " + concepts.length + " are labelled " + hit[1] : "")));
      list.dataset.ms = (performance.now() - t0).toFixed(2);
      list.dataset.query = key;
      var first = lis.slice(0, FIRST).map(fill);
      observer = "IntersectionObserver" in window ? new IntersectionObserver(function (seen) {
        seen.forEach(function (x) { if (x.isIntersecting) { observer.unobserve(x.target); fill(x.target); } });
      }, { rootMargin: "300px" }) : null;
      lis.slice(FIRST).forEach(function (li) { if (observer) observer.observe(li); else fill(li); });
      Promise.all(first).then(function () {
        if (mine === ticket) list.dataset.previewsMs = (performance.now() - t0).toFixed(2);
      });
    }, function (err) { status.textContent = String(err.message); });
  };
  /* one kind of hit: a list item per neuron (its link first), shown when there are any */
  function group(id, entries, describe) {
    var list = document.getElementById(id), out = [];
    entries.forEach(function (e) {
      var d = describe(e), li = add(el("li", "hit"), U.link(e[0], e[1]), document.createTextNode(" " + d[1]));
      li.dataset.layer = e[0]; li.dataset.neuron = e[1]; li.dataset.side = d[0];
      list.appendChild(li);
      out.push(li);
    });
    list.parentNode.hidden = !entries.length;
    return out;
  }
  function fill(li) {
    if (li.dataset.preview) return Promise.resolve();
    li.dataset.preview = "loading";
    return U.preview(+li.dataset.layer, +li.dataset.neuron).then(function (r) {
      li.appendChild(A.previewBox(r[0], r[1], +li.dataset.side));
      li.dataset.preview = "done";
    }, function () { li.dataset.preview = "missing"; });
  }
  /* a neuron side's preview: top tokens, concept labels, max activation, top-example snippet */
  A.previewBox = function (P, row, side, noAct) {
    var s = row[2][side], box = el("div", "preview"), toks = el("span", "toks");
    s[1].forEach(function (i) { add(toks, U.tok(P.strings[i]), document.createTextNode(" ")); });
    add(box, toks, s[2].length ? el("span", "concepts", s[2].join(", ")) : null,
      row[0] !== null && !noAct ? el("span", "act", "max act " + fmt(row[0])) : null);
    if (row[1]) box.appendChild(U.snippet(row[1]));
    return box;
  };
})();
