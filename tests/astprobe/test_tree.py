"""The (d, c, u) encoding: hand-worked examples, round trips on real snippets, F1 of gold = 1."""

from __future__ import annotations

import pytest

from interp.astprobe.metrics import prf, tree_scores
from interp.astprobe.parse import Node, ParseError, parse
from interp.astprobe.tree import (
    EMPTY,
    NO_UNARY,
    Tree,
    constituents,
    decode,
    encode,
    from_node,
    to_brackets,
)


def leaf(i: int) -> Node:
    return Node("tok", i, i + 1)


def test_hand_worked_binary_and_nary():
    # (S (A x y) z w): S has 3 children -> S(A, <empty>(z, w)); A has height 1, <empty> 1, S 2
    tree = Node("S", 0, 4, [Node("A", 0, 2, [leaf(0), leaf(1)]), leaf(2), leaf(3)])
    enc = encode(tree)
    assert enc.d == [1, 2, 1]
    assert enc.c == ["A", "S", EMPTY]
    assert enc.u == [NO_UNARY] * 4
    back = decode(enc.d, enc.c, enc.u)
    assert to_brackets(back) == "(S (A 0 1) 2 3)"
    assert back == from_node(tree)


def test_hand_worked_unary_chains():
    # (R (P (Q x)) (E (F y z))): P > Q is a chain over one leaf -> u; E > F collapses into c
    tree = Node("R", 0, 3, [
        Node("P", 0, 1, [Node("Q", 0, 1, [leaf(0)])]),
        Node("E", 1, 3, [Node("F", 1, 3, [leaf(1), leaf(2)])]),
    ])
    enc = encode(tree)
    assert enc.d == [2, 1]
    assert enc.c == ["R", "E > F"]
    assert enc.u == ["P > Q", NO_UNARY, NO_UNARY]
    back = decode(enc.d, enc.c, enc.u)
    assert to_brackets(back) == "(R (P (Q 0)) (E (F 1 2)))"
    assert back == from_node(tree)


def test_real_snippet_encoding():
    p = parse("def f(a):\n    pass\n")
    assert p.leaf_texts() == ["def", "f", "(", "a", ")", ":", "pass"]
    enc = encode(p.tree)
    # the block holds one pass_statement over one leaf: unary label "block > pass_statement"
    assert enc.u[-1] == "block > pass_statement"
    assert enc.c[0] == "module > function_definition"
    assert to_brackets(decode(enc.d, enc.c, enc.u), p.leaf_texts()) == (
        "(module (function_definition def f (parameters ( a )) : (block (pass_statement pass))))")


def test_only_ranking_matters_and_ties_split_left():
    enc = encode(parse("x = f(a, b) + 1").tree)
    scaled = [10.0 * v**2 + 3 for v in enc.d]  # monotone transform: same tree
    assert decode(scaled, enc.c, enc.u) == decode(enc.d, enc.c, enc.u)
    flat = decode([1, 1, 1], ["A", "B", "C"], [NO_UNARY] * 4)  # ties: first maximum
    assert to_brackets(flat) == "(A 0 (B 1 (C 2 3)))"


def test_empty_root_is_kept_and_scores_zero_for_it():
    pred = decode([2, 1], [EMPTY, "X"], [NO_UNARY] * 3)
    assert pred.label == EMPTY and len(pred.children) == 2
    assert constituents(pred)[(EMPTY, 0, 3)] == 1


def test_decode_rejects_bad_lengths():
    with pytest.raises(ValueError):
        decode([1, 2], ["a"], ["x", "y", "z"])


def test_roundtrip_identity_on_many_real_snippets(stdlib_codes):
    n = 0
    for split in stdlib_codes.values():
        for code in split:
            try:
                p = parse(code)
            except ParseError:
                continue
            enc = encode(p.tree)
            assert len(enc.d) == len(enc.c) == len(enc.u) - 1 == len(p.leaves) - 1
            gold = from_node(p.tree)
            back = decode(enc.d, enc.c, enc.u)
            assert back == gold, code
            assert prf(constituents(gold), constituents(back)) == (1.0, 1.0, 1.0)
            n += 1
    assert n >= 120


def test_scores_macro_micro_and_label_recall():
    gold = [Tree("S", 0, 2, [Tree(None, 0, 1), Tree(None, 1, 2)]),
            decode([2, 1], ["R", "A"], [NO_UNARY] * 3)]          # (R 0 (A 1 2))
    pred = [gold[0], decode([1, 2], ["A", "R"], [NO_UNARY] * 3)]  # (R (A 0 1) 2)
    s = tree_scores(gold, pred)
    assert s["f1"] == pytest.approx((1.0 + 0.5) / 2)
    assert s["micro_f1"] == pytest.approx(2 / 3)
    assert s["label_recall"] == {"S": 1.0, "R": 1.0, "A": 0.0}
    assert tree_scores(gold, gold)["f1"] == 1.0
