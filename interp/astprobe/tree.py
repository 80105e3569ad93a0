"""The AST-Probe tree encoding, both ways: n-ary syntax tree -> binary tree -> (d, c, u) ->
tree, and the (label, span) constituents that the F1 score compares.

Binarisation (Hernandez Lopez et al. 2022): a chain of non-terminals that each have one
child is collapsed into one node whose label joins the chain with `CHAIN` ("a > b"); a chain
that ends in a single leaf becomes that leaf's unary label u (else u = `NO_UNARY`); a node
with k > 2 children becomes right-branching, the extra nodes labelled `EMPTY`.

With n leaves, d[i] (i < n - 1) is the height of the lowest common ancestor of leaves i and
i + 1 in the binary tree (leaves have height 0) and c[i] that ancestor's label. Decoding
splits a span at its largest d (the first one on ties), so only the ranking of d matters;
then EMPTY nodes are spliced into their parents, chain labels expanded and unary labels put
back above their leaves. A tuple decoded from a prediction may have an EMPTY root: it stays as
a node labelled EMPTY (it matches no gold constituent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from interp.astprobe.parse import Node

CHAIN = " > "
EMPTY = "<empty>"
NO_UNARY = "<none>"


@dataclass
class Tree:
    """A labelled tree over leaf indices: a leaf has `label` None and span (i, i + 1);
    a constituent spans leaves [start, end)."""

    label: str | None
    start: int
    end: int
    children: list[Tree] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def __str__(self) -> str:
        return to_brackets(self)


@dataclass
class Encoding:
    """(d, c, u) of one snippet: n - 1 distances and ancestor labels, n unary labels."""

    d: list[int]
    c: list[str]
    u: list[str]

    def __len__(self) -> int:
        return len(self.u)


def _chain(node: Node) -> tuple[list[str], Node]:
    labels = [node.type]
    while len(node.children) == 1 and not node.children[0].is_leaf:
        node = node.children[0]
        labels.append(node.type)
    return labels, node


def _encode(node: Node) -> tuple[list[int], list[str], list[str], int]:
    if node.is_leaf:
        return [], [], [NO_UNARY], 0
    labels, node = _chain(node)
    if len(node.children) == 1:  # the chain ends above a single leaf: its unary label
        return [], [], [CHAIN.join(labels)], 0
    parts = [_encode(child) for child in node.children]
    right = parts[-1]
    for part in reversed(parts[1:-1]):
        right = _join(part, right, EMPTY)
    return _join(parts[0], right, CHAIN.join(labels))


def _join(left: tuple, right: tuple, label: str) -> tuple[list[int], list[str], list[str], int]:
    d_l, c_l, u_l, h_l = left
    d_r, c_r, u_r, h_r = right
    h = max(h_l, h_r) + 1
    return d_l + [h] + d_r, c_l + [label] + c_r, u_l + u_r, h


def encode(tree: Node) -> Encoding:
    """(d, c, u) of a syntax tree (see the module docstring)."""
    d, c, u, _ = _encode(tree)
    return Encoding(d, c, u)


def _chain_tree(labels: list[str], start: int, end: int, inner: list[Tree]) -> Tree:
    """Nested nodes labels[0] > labels[1] > ... over `inner` children."""
    node = Tree(labels[-1], start, end, inner)
    for label in reversed(labels[:-1]):
        node = Tree(label, start, end, [node])
    return node


def _decode(d: Sequence[float], c: Sequence[str], u: Sequence[str], lo: int, hi: int) -> Tree:
    """Tree over leaves lo..hi-1; EMPTY nodes are kept here and spliced by the caller."""
    if hi - lo == 1:
        leaf = Tree(None, lo, hi)
        return leaf if u[lo] == NO_UNARY else _chain_tree(u[lo].split(CHAIN), lo, hi, [leaf])
    window = d[lo:hi - 1]
    i = lo + max(range(len(window)), key=lambda k: (window[k], -k))
    kids: list[Tree] = []
    for child in (_decode(d, c, u, lo, i + 1), _decode(d, c, u, i + 1, hi)):
        kids.extend(child.children if child.label == EMPTY else [child])
    if c[i] == EMPTY:
        return Tree(EMPTY, lo, hi, kids)
    return _chain_tree(c[i].split(CHAIN), lo, hi, kids)


def decode(d: Sequence[float], c: Sequence[str], u: Sequence[str]) -> Tree:
    """Rebuild the tree from (d, c, u): split at the largest distance, recursively."""
    n = len(u)
    if n == 0 or len(d) != n - 1 or len(c) != n - 1:
        raise ValueError(f"need len(d) == len(c) == len(u) - 1 >= 0, got {len(d)}, {len(c)}, "
                         f"{len(u)}")
    return _decode(list(d), list(c), list(u), 0, n)


def from_node(node: Node) -> Tree:
    """The n-ary syntax tree itself as a `Tree` over leaf indices (no binarisation)."""
    counter = [0]

    def walk(n: Node) -> Tree:
        if n.is_leaf:
            counter[0] += 1
            return Tree(None, counter[0] - 1, counter[0])
        kids = [walk(k) for k in n.children]
        return Tree(n.type, kids[0].start, kids[-1].end, kids)

    return walk(node)


def constituents(tree: Tree) -> Counter[tuple[str, int, int]]:
    """Multiset of (label, start, end) over the non-terminal nodes (leaves excluded)."""
    out: Counter[tuple[str, int, int]] = Counter()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not node.is_leaf:
            out[(str(node.label), node.start, node.end)] += 1
            stack.extend(node.children)
    return out


def to_brackets(tree: Tree, leaves: Sequence[str] | None = None) -> str:
    """(label child child ...) with leaf texts (or indices)."""
    if tree.is_leaf:
        return leaves[tree.start] if leaves is not None else str(tree.start)
    return f"({tree.label} " + " ".join(to_brackets(k, leaves) for k in tree.children) + ")"
