"""Parse code with tree-sitter (PyPI grammar wheels) into a plain `Node` tree, after the
AST-Probe preprocessing: comments and docstrings removed, blank lines dropped, and every
string literal kept as one leaf (its inner nodes discarded). A backslash line continuation
is not a leaf (`DROPPED_TYPES`).

Offsets in `Node` are character offsets into the preprocessed code (tree-sitter counts
bytes; they are converted), so they line up with a fast tokenizer's offset mapping.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from interp.errors import InterpError, choices_error

#: language -> (grammar wheel module, its language function). Install the wheel to enable one.
LANGUAGES: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
}


class ParseError(InterpError):
    """The code does not parse (tree-sitter reports an ERROR or MISSING node)."""


@dataclass
class Node:
    """A syntax-tree node: grammar `type`, [start, end) character span, ordered children.

    A node without children is a leaf (a token of the code)."""

    type: str
    start: int
    end: int
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> list[Node]:
        """Leaves left to right."""
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass
class Parsed:
    """A parsed snippet: the preprocessed `code`, its `tree` and the `leaves` in order."""

    code: str
    tree: Node
    language: str

    @property
    def leaves(self) -> list[Node]:
        return self.tree.leaves()

    def leaf_texts(self) -> list[str]:
        return [self.code[leaf.start:leaf.end] for leaf in self.leaves]

    def tree_signature(self) -> str:
        """The tree's shape and node types, without offsets (for deduplication)."""
        def sig(n: Node) -> str:
            return n.type if n.is_leaf else f"({n.type} {' '.join(sig(k) for k in n.children)})"

        return sig(self.tree)


@cache
def get_parser(language: str) -> Any:
    """A tree_sitter.Parser for `language` (raises InterpError if unknown or not installed)."""
    if language not in LANGUAGES:
        raise choices_error("language", language, sorted(LANGUAGES))
    module_name, func = LANGUAGES[language]
    try:
        import tree_sitter
        grammar = importlib.import_module(module_name)
    except ImportError:
        wheel = module_name.replace("_", "-")
        raise InterpError(f"language {language!r} needs the grammar wheel {wheel!r}; install it "
                          f"with pip install tree-sitter {wheel}") from None
    return tree_sitter.Parser(tree_sitter.Language(getattr(grammar, func)()))


def is_string_literal(node_type: str) -> bool:
    """String literal node types kept as one leaf (as the paper: 'string' or '*string_literal')."""
    return node_type in ("string", "template_string") or "string_literal" in node_type


def _is_docstring(node: Any, language: str) -> bool:
    """A Python statement that is only a string (docstring or string used as a comment)."""
    if language != "python" or node.type != "expression_statement":
        return False
    kids = node.named_children
    return len(kids) == 1 and kids[0].type in ("string", "concatenated_string")


def _removed_ranges(root: Any, language: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if "comment" in node.type or _is_docstring(node, language):
            out.append((node.start_byte, node.end_byte))
        else:
            stack.extend(node.children)
    return sorted(out)


def preprocess(code: str, language: str = "python") -> str:
    """Remove comments (and, for Python, string-only statements such as docstrings), strip
    trailing spaces and drop blank lines. Raises ParseError if the input does not parse."""
    parser = get_parser(language)
    data = code.encode("utf-8")
    tree = parser.parse(data)
    if tree.root_node.has_error:
        raise ParseError(f"{language} code does not parse: {_error_where(tree.root_node, data)}")
    kept, pos = [], 0
    for start, end in _removed_ranges(tree.root_node, language):
        kept.append(data[pos:start])
        pos = max(pos, end)
    kept.append(data[pos:])
    text = b"".join(kept).decode("utf-8")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def _error_where(root: Any, data: bytes) -> str:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            line = node.start_point[0] + 1
            snippet = data[node.start_byte:node.end_byte][:30].decode("utf-8", "replace")
            kind = "missing" if node.is_missing else "syntax error at"
            return f"{kind} {snippet!r} (line {line})".replace("\n", " ")
        stack.extend(reversed(node.children))
    return "syntax error"


#: Node types that are layout, not syntax: never a leaf. A backslash line continuation is an
#: "extra" node of the Python grammar that tree-sitter hangs inside whatever expression it
#: interrupts; kept, it would be a leaf the same code without it does not have.
DROPPED_TYPES = frozenset({"line_continuation"})


def _convert(node: Any, char_at: list[int] | None) -> Node | None:
    """tree-sitter node -> Node; zero-width leaves, line continuations and nodes left without
    leaves are dropped."""
    if node.type in DROPPED_TYPES:
        return None
    start, end = node.start_byte, node.end_byte
    if char_at is not None:
        start, end = char_at[start], char_at[end]
    if is_string_literal(node.type) or node.child_count == 0:
        return Node(node.type, start, end) if end > start else None
    kids = [k for k in (_convert(c, char_at) for c in node.children) if k is not None]
    return Node(node.type, start, end, kids) if kids else None


def parse(code: str, language: str = "python", *, clean: bool = True) -> Parsed:
    """Parse `code` (preprocessed first unless clean=False) into a `Parsed` snippet.

    Raises ParseError if it does not parse, before or after preprocessing, or has no tokens."""
    text = preprocess(code, language) if clean else code
    data = text.encode("utf-8")
    tree = get_parser(language).parse(data)
    if tree.root_node.has_error:
        raise ParseError(f"{language} code does not parse after preprocessing: "
                         f"{_error_where(tree.root_node, data)}")
    char_at = None
    if len(data) != len(text):  # non-ASCII: map byte offsets to character offsets
        char_at = [0] * (len(data) + 1)
        pos = 0
        for i, ch in enumerate(text):
            n = len(ch.encode("utf-8"))
            for b in range(n):
                char_at[pos + b] = i
            pos += n
        char_at[len(data)] = len(text)
    if language == "python":  # cross-check: tree-sitter accepts e.g. a def with an empty body
        try:
            ast.parse(text)
        except (SyntaxError, ValueError) as err:
            raise ParseError(f"python code does not parse after preprocessing (ast: "
                             f"{err.__class__.__name__} line {getattr(err, 'lineno', '?')})"
                             ) from None
    root = _convert(tree.root_node, char_at)
    if root is None:
        raise ParseError(f"{language} code has no tokens after preprocessing")
    return Parsed(text, root, language)
