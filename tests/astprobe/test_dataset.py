"""Leaf-to-token alignment and the skip counts of bad input."""

from __future__ import annotations

import pytest

from interp.astprobe.dataset import align_leaves, build_samples
from interp.errors import InterpError


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer):
    return tiny_tokenizer


def test_every_leaf_gets_the_tokens_that_overlap_it(tokenizer):
    samples, skipped = build_samples(["def f(a):\n    return a+1\n"], tokenizer, bos_id=0)
    assert sum(skipped.values()) == 0
    s = samples[0]
    assert s.token_ids[0] == 0  # BOS, not duplicated though the tokenizer adds one itself
    assert s.token_ids.count(0) == 1
    enc = tokenizer(s.code, return_offsets_mapping=True)
    offsets = [(0, 0)] * (len(s.token_ids) - len(enc["input_ids"])) + list(enc["offset_mapping"])
    for (start, end), toks in zip(s.leaf_spans, s.leaf_tokens):
        covered = set()
        for t in toks:
            a, b = offsets[t]
            assert a < end and b > start  # overlaps the leaf
            covered.update(range(max(a, start), min(b, end)))
        assert covered == set(range(start, end))  # and covers all of it
    # ')' and ':' share the token '):' in this tokenizer
    i, j = s.leaf_texts.index(")"), s.leaf_texts.index(":")
    assert s.leaf_tokens[i] == s.leaf_tokens[j]


def test_skips_are_counted(tokenizer):
    long_code = "def f():\n" + "".join(f"    x{i} = {i}\n" for i in range(200))
    codes = ["def f(:", "x", "def g(a):\n    return a\n", "def g(a):\n    return a  # same\n",
             long_code]
    samples, skipped = build_samples(codes, tokenizer, n_ctx=256, min_leaves=3)
    assert len(samples) == 1
    assert skipped == {"parse_error": 1, "too_few_leaves": 1, "duplicate": 1, "too_long": 1}


def test_dedup_across_splits_with_shared_seen(tokenizer):
    seen: set[str] = set()
    a, _ = build_samples(["def h(): return 1"], tokenizer, seen=seen)
    b, skipped = build_samples(["def h():  return 1  # again"], tokenizer, seen=seen)
    assert len(a) == 1 and not b and skipped["duplicate"] == 1


def test_slow_tokenizer_without_offsets_is_refused():
    class Slow:
        def __call__(self, text, return_offsets_mapping=False):
            raise NotImplementedError("return_offset_mapping is not available")

    with pytest.raises(InterpError, match="fast"):
        align_leaves("x = 1", [(0, 1)], Slow())


def test_codesearchnet_jsonl_loader(tmp_path):
    import gzip
    import json

    from interp.astprobe.data import read_jsonl, split_of

    rows = [{"original_string": "def a(): pass", "language": "python"},
            {"original_string": "func a() {}", "language": "go"},
            {"code": "def b(): pass"}]
    path = tmp_path / "train.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert read_jsonl(path, language="python") == ["def a(): pass", "def b(): pass"]
    assert read_jsonl(path, limit=1) == ["def a(): pass"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\n')
    with pytest.raises(InterpError, match="no 'original_string/code' field"):
        read_jsonl(bad)
    with pytest.raises(InterpError, match="does not exist"):
        read_jsonl(tmp_path / "missing.jsonl")
    assert split_of("json/decoder.py") == split_of("json/decoder.py")
    assert {split_of(f"m{i}.py") for i in range(100)} == {"train", "val", "test"}
