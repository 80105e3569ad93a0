"""The adjacent-leaf lookup table (a lexical control): predictions checked by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from interp.astprobe.lexical import LookupTable, lexical_class, lookup_table_scores
from interp.astprobe.parse import parse
from interp.astprobe.tree import Encoding, encode, from_node


def _s(texts, d, c, u):
    return SimpleNamespace(leaf_texts=texts, encoding=Encoding(d, c, u))


TRAIN = [_s(["x", "=", "1"], [2, 1], ["A", "E"], ["n", "n", "n"]),
         _s(["x", "=", "foo"], [4, 1], ["B", "E"], ["n", "n", "k"]),
         _s(["(", ")"], [1], ["P"], ["n", "p"])]


def test_lexical_classes():
    assert [lexical_class(t) for t in ["foo", "return", "42", ".5", "'a'", 'f"{x}"', "(", "+="]
            ] == ["<name>", "return", "<number>", "<number>", "<string>", "<string>", "(", "+="]
    assert lexical_class("return", "go") == "<name>"


def test_lookup_by_hand():
    table = LookupTable().fit(TRAIN)
    # seen pairs: (x, =) has d 2 and 4 -> 3, labels A and B tied -> A (sorted first)
    e = table.predict(["x", "=", "1"])
    assert (e.d, e.c, e.u) == ([3.0, 1.0], ["A", "E"], ["n", "n", "n"])
    # unseen texts back off to classes: (<name>, =) and (=, <name>) (only "foo" in training);
    # u of "bar" from the class <name>: x, x -> n, foo -> k: n
    e = table.predict(["z", "=", "bar"])
    assert (e.d, e.c, e.u) == ([3.0, 1.0], ["A", "E"], ["n", "n", "n"])
    # (=, <number>) is seen through "1"; "foo" itself gives u k
    e = table.predict(["y", "=", "7", "foo"])
    assert e.d[:2] == [3.0, 1.0] and e.u == ["n", "n", "n", "k"]
    # a pair unseen even as classes: all training gaps (2 1 4 1 1 -> 1.8; E twice); ")" -> p
    e = table.predict(["(", "1", ")"])
    assert e.d == [pytest.approx(1.8), pytest.approx(1.8)] and e.c == ["E", "E"]
    assert e.u == ["n", "n", "p"]


def test_unique_pairs_give_back_the_tree():
    p = parse("def f(a, b):\n    return a + b\n")
    s = SimpleNamespace(leaf_texts=p.leaf_texts(), encoding=encode(p.tree),
                        gold=from_node(p.tree))
    assert lookup_table_scores([s], [s])["f1"] == 1.0
    with pytest.raises(ValueError, match="not been fitted"):
        LookupTable().predict(["a"])
