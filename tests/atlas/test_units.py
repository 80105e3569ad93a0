"""Atlas units without a model: token display, search keys, the streaming top-k, the search
index, dose-response tables and corpus files."""

from __future__ import annotations

import json

import pytest
import torch

from interp.atlas.dose import dose_files, read_dose
from interp.atlas.search import build_search
from interp.atlas.synthetic import synthetic_map
from interp.atlas.text import bucket_of, search_key, visible
from interp.atlas.topk import HIST_EDGES, N_BINS, LayerState
from interp.errors import InterpError
from interp.texts.corpora import open_corpus


@pytest.mark.parametrize(("raw", "shown"), [
    (" the", "\u2423the"), ("a\nb", "a\u21b5b"), ("\t", "\u21e5"), ("\x00", "\\x00"),
    ("x\u202ey", "x\\u202ey"), ("\u200b", "\\u200b"), ("\ud800", "\\ud800"), ("", "\u2205"),
    ("\u2028", "\\u2028"), ("\\x00", "\\\\x00"), ("\xa0", "\\xa0"), ("<script>", "<script>"),
    ("\ufffd", "\ufffd"),
])
def test_visible_shows_whitespace_controls_and_bidi(raw, shown):
    assert visible(raw) == shown


def test_visible_truncates_long_tokens_and_keeps_spaces_in_text():
    long = "a" * 5000
    assert visible(long) == "a" * 48 + "\u2026(+4952)"
    assert visible(" the\ncat", keep_spaces=True) == " the\u21b5cat"


def _fnv1a_utf16(text: str) -> int:
    """FNV-1a 32 over UTF-16 code units, from code points (what JavaScript's charCodeAt
    walks), written independently of interp's byte-level implementation."""
    h = 0x811C9DC5
    for ch in text:
        cp = ord(ch)
        units = [cp] if cp < 0x10000 else [0xD800 + ((cp - 0x10000) >> 10),
                                            0xDC00 + ((cp - 0x10000) & 0x3FF)]
        for unit in units:
            h = ((h ^ unit) * 0x01000193) % 2**32
    return h


def test_search_key_and_bucket():
    assert search_key("  Dog\n") == "dog" and search_key("ÄB") == "Äb"  # ASCII-only lowering
    assert bucket_of("", 7) == 0x811C9DC5 % 7
    # FNV-1a 32 reference value for "a" (0xe40c292c)
    assert bucket_of("a", 2**32) == 0xE40C292C
    # a lone surrogate, a non-ASCII letter and an astral character (a surrogate pair)
    for text in ("\ud800x", "dog", "Äb", "\U0001f415 cat", "\u2028"):
        for n in (13, 97, 2**32):
            assert bucket_of(text, n) == _fnv1a_utf16(text) % n, (text, n)


def _brute_top(acts, valid, k):
    """Per neuron: the k documents with the highest peak (ties: earlier document)."""
    peak = acts.masked_fill(~valid[..., None], -torch.inf).amax(1)  # [docs, units]
    order = torch.sort(-peak.T, dim=1, stable=True).indices[:, :k]
    return peak.T.gather(1, order), order


def test_running_topk_matches_brute_force_over_batches():
    gen = torch.Generator().manual_seed(0)
    docs, pos, units, k = 23, 9, 5, 4
    acts = torch.randn(docs, pos, units, generator=gen)
    tokens = torch.randint(0, 50, (docs, pos), generator=gen)
    lengths = torch.randint(2, pos + 1, (docs,), generator=gen)
    valid = torch.arange(pos) < lengths[:, None]
    valid[:, 0] = False  # the BOS position is never recorded
    state = LayerState.empty(units, k, 3 + 1 + 2)
    for start in range(0, docs, 4):  # uneven last batch
        sl = slice(start, start + 4)
        state.update(acts[sl], tokens[sl], valid[sl], start, 3, 2)
    values, doc = _brute_top(acts, valid, k)
    torch.testing.assert_close(state.values, values)
    assert torch.equal(state.doc, doc)
    flat = acts[valid]
    assert state.n_tokens == flat.shape[0]
    assert torch.equal(state.hist.sum(1), torch.full((units,), flat.shape[0]))
    expect = torch.bucketize(flat[:, 2].contiguous(), torch.tensor(HIST_EDGES), right=True)
    assert torch.equal(state.hist[2], torch.bincount(expect, minlength=N_BINS))
    torch.testing.assert_close(state.max, flat.amax(0))
    # window: the peak token sits at offset `before`, with this neuron's activation
    u, j = 1, 0
    d, p = int(state.doc[u, j]), int(state.pos[u, j])
    assert state.window_ids[u, j, 3] == tokens[d, p]
    assert state.window_acts[u, j, 3] == pytest.approx(float(acts[d, p, u]))
    left = [int(t) for t in state.window_ids[u, j, :3]]
    assert left == [int(tokens[d, q]) if q >= 1 else -1 for q in range(p - 3, p)]
    # memory does not grow with the corpus: the state has the same shapes after any stream
    assert state.window_ids.shape == (units, k, 6)


def test_search_index_ranks_by_mass_and_merges_case_variants():
    vocab = ["dog", " Dog", "cat", " ", "x"]
    nmap = synthetic_map(2, 6, vocab, top_k=3, bottom_k=1, seed=1)
    n_buckets, buckets = build_search([nmap], limit=50)
    found = {e[0]: e[2] for bucket in buckets for e in bucket}
    assert "" not in found  # whitespace-only tokens are not searchable
    expect = {}
    for layer, data in nmap.data.items():
        for n in range(6):
            mass = sum(float(p) for t, p in zip(data.top_ids[n].tolist(), data.top_probs[n])
                       if vocab[t] in ("dog", " Dog"))
            if mass:
                expect[(layer, n)] = round(mass * 10_000)
    got = {(e[0], e[1]): e[3] for e in found["dog"]}
    assert got == expect
    masses = [e[3] for e in found["dog"]]
    assert masses == sorted(masses, reverse=True)
    for b, bucket in enumerate(buckets):
        assert all(bucket_of(e[0], n_buckets) == b for e in bucket)


def test_corpus_files(tmp_path):
    text = tmp_path / "c.txt"
    text.write_text("first doc\nline two\n\n\nsecond doc\n")
    assert list(open_corpus(text)) == ["first doc\nline two", "second doc"]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"text": "a b"}) + "\n\n" + json.dumps({"text": "c"}) + "\n")
    assert list(open_corpus(jsonl)) == ["a b", "c"]
    assert len(list(open_corpus("bundled", n_chars=2000))) >= 1
    (tmp_path / "e.txt").write_text("\n \n")
    with pytest.raises(InterpError, match="empty"):
        open_corpus(tmp_path / "e.txt")
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(InterpError, match="line 1"):
        list(open_corpus(tmp_path / "bad.jsonl"))
    with pytest.raises(InterpError, match="does not exist"):
        open_corpus(tmp_path / "missing.txt")


def test_dose_table(tmp_path):
    rows = [{"curve": "baseline", "kind": "baseline", "value": "", "mean": 0.1, "n_prompts": 2}]
    for curve, kind, means in (("1:5 1:6", "target", [0.1, 0.5]), ("1:9 1:2", "control",
                                                                     [0.1, 0.2])):
        rows += [{"curve": curve, "kind": kind, "value": v, "unit": "max", "mean": m,
                  "n_prompts": 2} for v, m in zip([0, 10], means)]
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"meta": {"fingerprint": "abc"}, "rows": rows}))
    out = read_dose(path, "abc")
    assert set(out) == {(1, 5), (1, 6)}
    assert out[(1, 5)]["target"] == [0.1, 0.5] and out[(1, 5)]["controls"] == [0.1, 0.2]
    with pytest.raises(InterpError, match="another model"):
        read_dose(path, "other")
    with pytest.raises(InterpError, match=".json"):
        read_dose(tmp_path / "d.csv", "abc")
    assert out[(1, 5)]["measure"] == "P(concept) at the next token"


def test_dose_folder_and_measure(tmp_path):
    rows = [{"curve": "baseline", "kind": "baseline", "value": "", "mean": 0.0, "n_prompts": 3},
            {"curve": "4:2", "kind": "target", "value": 3, "unit": "max", "mean": 0.6,
             "n_prompts": 3}]
    folder = tmp_path / "tables"
    folder.mkdir()
    for name in ("b", "a"):
        meta = {"fingerprint": "abc", "measure": "share of continuations naming the concept"}
        (folder / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}))
    (folder / "notes.txt").write_text("not a table")
    assert dose_files([folder]) == [folder / "a.json", folder / "b.json"]
    assert read_dose(folder / "a.json", "abc")[(4, 2)]["measure"].startswith("share of")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InterpError, match="no .json"):
        dose_files([empty])


def test_most_specialised_lists_skip_punctuation_and_flagged_tokens(llama, tmp_path):
    """The index page's lists rank neurons by top-1 probability among those whose top-1 token
    holds a letter or digit and is not flagged; recounted here by brute force, on a map whose
    vocabulary is edited so that the layer's most specialised neurons decode to punctuation."""
    from interp.atlas.render import TOP_NEURONS, overview
    from interp.neurons import decode_neurons

    nmap = decode_neurons(llama, layers=[0], top_k=5, bottom_k=2, flagged_tokens="mark")
    data = nmap.layer(0)
    p1 = data.top_probs[:, 0].float()
    order = torch.sort(-p1, stable=True).indices.tolist()
    junk = {int(data.top_ids[n, 0]) for n in order[:3]}  # the three most specialised
    for t in junk:
        nmap.vocab[t] = ".,"
    flagged = {int(data.top_ids[order[3], 0])} - junk
    flags = nmap.header.extras.setdefault("token_flags", {"special": [], "unreachable": [],
                                                          "undertrained": [], "method": {}})
    flags["special"] = sorted(set(flags["special"]) | flagged)
    bad = junk | set(flags["special"]) | set(flags["unreachable"]) | set(flags["undertrained"])
    bad |= {t for t, s in enumerate(nmap.vocab) if not any(c.isalnum() for c in s)}
    want = [n for n in order if int(data.top_ids[n, 0]) not in bad][:TOP_NEURONS]
    (side,) = overview([nmap])[0]["sides"]
    assert [b[0] for b in side["best"]] == want and not set(order[:4]) & set(want)
    assert sum(side["hist"]) == len(p1)  # the histogram still counts every neuron


def test_concept_labels_and_example_index():
    from interp.atlas.labels import concept_labels
    from interp.atlas.search import DEFAULT_SEARCH_LIMIT
    from interp.atlas.synthetic import synthetic_records

    vocab = [" Monday", "monday", "Tuesday", " friday", "red", " Blue", "green", "x", "y"]
    nmap = synthetic_map(1, 4, vocab, top_k=4, bottom_k=1, seed=3)
    top = nmap.layer(0).top_ids
    top[0] = torch.tensor([0, 1, 2, 7])  # two distinct weekdays (Monday twice): no label
    top[1] = torch.tensor([0, 2, 3, 7])  # three: weekday
    top[2] = torch.tensor([4, 5, 6, 2])  # three colours
    top[3] = torch.tensor([7, 8, 7, 8])
    labels = concept_labels([nmap])
    assert labels == {(0, 0): {1: ["weekday"], 2: ["colour"]}}
    records = synthetic_records(nmap, top_k=2, window=(1, 1), seed=4)
    rec = records.layers[0]
    rec["window_ids"][:] = 7
    rec["window_ids"][2, 1, 0] = 1  # "monday" before neuron 2's second example
    rec["window_acts"][2, 1, 0] = rec["top_values"][2, 0] / 2
    rec["window_ids"][3, 0, 2] = 0  # " Monday" after neuron 3's top example
    rec["window_acts"][3, 0, 2] = -rec["top_values"][3, 0] * 3  # clamped to -1
    _, buckets = build_search([nmap], records=records, labels=labels)
    found = {e[0]: e for bucket in buckets for e in bucket}
    assert [e[:3] for e in found["monday"][3]] == [[0, 2, 5000], [0, 3, -10000]]
    assert found["monday"][3][0][3] == pytest.approx(float(rec["top_values"][2, 0]) / 2, abs=1e-3)
    assert found["weekday"][4] == [[0, 1, 0]] and found["colour"][2:] == [[], [], [[0, 2, 0]]]
    assert len(found["x"][3]) == min(4, DEFAULT_SEARCH_LIMIT)  # every neuron's examples hold x


def test_norm_bias_tokens_are_recorded_and_set_aside(llama, tmp_path):
    """A map records the 1 % of tokens with the largest folded-unembedding norm (recomputed
    here), keeps them through a save and load, and the "most specialised" rule leaves them out
    (a damaged record is refused when the map is read)."""
    import json
    import math

    from interp.atlas.render import listable_tokens
    from interp.neurons import NeuronMap, decode_neurons

    nmap = decode_neurons(llama, layers=[0], top_k=3, bottom_k=1)
    norms = llama.folded_unembedding(torch.float32)[0].norm(dim=0)
    n = math.ceil(0.01 * norms.shape[0])
    want = sorted(torch.sort(-norms, stable=True).indices[:n].tolist())
    assert nmap.header.extras["norm_bias"] == {"share": 0.01, "ids": want}
    ok = listable_tokens(nmap)
    assert not ok[want].any()
    nmap.save(tmp_path / "m")
    assert NeuronMap.load(tmp_path / "m").header.extras["norm_bias"]["ids"] == want
    cfg = json.loads((tmp_path / "m" / "cfg.json").read_text())
    cfg["norm_bias"]["ids"] = [-1]
    (tmp_path / "m" / "cfg.json").write_text(json.dumps(cfg))
    with pytest.raises(InterpError, match="norm_bias"):
        NeuronMap.load(tmp_path / "m")
