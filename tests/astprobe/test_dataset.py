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

    from interp.astprobe.data import read_jsonl

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


def test_split_of_is_the_documented_hash_rule():
    """80/10/10 by sha256 of the stdlib-relative path: its first byte < 205 is train, < 230 val,
    else test. Pinned values (computed once, hard-coded) catch any change of the hash or cuts."""
    import hashlib
    from collections import Counter

    from interp.astprobe.data import split_of

    pinned = {"json/decoder.py": "train", "__future__.py": "train", "asyncio/tasks.py": "train",
              "os.py": "val", "asyncio/locks.py": "val", "_threading_local.py": "val",
              "unittest/mock.py": "test", "asyncio/__init__.py": "test",
              "_weakrefset.py": "test"}
    assert {name: split_of(name) for name in pinned} == pinned
    assert hashlib.sha256(b"os.py").digest()[0] in range(205, 230)  # val: the rule, by hand
    names = [f"pkg/m{i}.py" for i in range(20000)]
    share = Counter(split_of(n) for n in names)
    assert share["train"] / len(names) == pytest.approx(0.8, abs=0.01)
    assert share["val"] / len(names) == pytest.approx(0.1, abs=0.01)
    assert share["test"] / len(names) == pytest.approx(0.1, abs=0.01)
    first = [hashlib.sha256(n.encode()).digest()[0] for n in names[:2000]]
    assert [split_of(n) for n in names[:2000]] == [
        "train" if b < 205 else "val" if b < 230 else "test" for b in first]
