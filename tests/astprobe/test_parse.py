"""Parsing and preprocessing with tree-sitter, cross-checked against Python's own `ast`."""

from __future__ import annotations

import ast
import importlib.util

import pytest

from interp.astprobe.parse import ParseError, get_parser, parse, preprocess
from interp.errors import InterpError

CODE = '''def f(a, b="x"):  # trailing comment
    """Docstring
    over lines."""
    # a comment line

    s = "one" 'two' + f"{a}!"
    return s
'''


def test_preprocess_removes_comments_docstrings_and_blank_lines():
    out = preprocess(CODE)
    assert out == 'def f(a, b="x"):\n    s = "one" \'two\' + f"{a}!"\n    return s'


def test_string_literals_are_single_leaves():
    p = parse(CODE)
    texts = p.leaf_texts()
    assert '"x"' in texts and '"one"' in texts and "'two'" in texts and 'f"{a}!"' in texts
    assert "Docstring" not in p.code and "#" not in p.code
    for leaf, text in zip(p.leaves, texts):
        assert p.code[leaf.start:leaf.end] == text


def test_non_ascii_offsets_are_characters():
    p = parse('def g():\n    return "héllo wörld", naïve\n')
    assert p.leaf_texts()[-3:] == ['"héllo wörld"', ",", "naïve"]


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            node.body = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(
                s.value, ast.Constant) and isinstance(s.value.value, str))] or body
    return tree


def test_cross_check_with_python_ast(stdlib_codes):
    """Preprocessing changes nothing but comments and string statements; tree-sitter and
    `ast` agree on the number of calls, function definitions and returns."""
    checked = 0
    for code in stdlib_codes["train"][:80]:
        try:
            p = parse(code)
        except ParseError:
            continue
        want = ast.dump(_strip_docstrings(ast.parse(code)))
        assert ast.dump(_strip_docstrings(ast.parse(p.code))) == want
        kinds = {"call": ast.Call, "function_definition": (ast.FunctionDef, ast.AsyncFunctionDef),
                 "return_statement": ast.Return}
        stack, counts = [p.tree], dict.fromkeys(kinds, 0)
        while stack:
            n = stack.pop()
            counts[n.type] = counts.get(n.type, 0) + 1
            stack.extend(n.children)
        tree = ast.parse(p.code)
        for ts_type, py_type in kinds.items():
            assert counts[ts_type] == sum(isinstance(n, py_type) for n in ast.walk(tree)), code
        checked += 1
    assert checked >= 50


def test_code_that_does_not_parse():
    with pytest.raises(ParseError, match="does not parse"):
        parse("def f(:\n    return")
    with pytest.raises(InterpError):  # ParseError is an InterpError
        parse("x = (1,")


def test_only_a_docstring_fails_after_preprocessing():
    with pytest.raises(ParseError, match="after preprocessing"):
        parse('def f():\n    """only a docstring"""\n')


def test_unsupported_language():
    with pytest.raises(InterpError, match="unknown language 'cobol'; expected one of"):
        get_parser("cobol")


@pytest.mark.skipif(importlib.util.find_spec("tree_sitter_go") is not None,
                    reason="the Go grammar wheel is installed here")
def test_missing_grammar_wheel_is_a_clear_error():
    with pytest.raises(InterpError, match="pip install tree-sitter tree-sitter-go"):
        get_parser("go")


def test_line_continuation_is_not_a_leaf():
    """A backslash continuation changes the layout only: the same leaves and (d, c, u) as the
    code written on one line (before the fix it was an extra `line_continuation` leaf)."""
    from interp.astprobe.tree import encode

    joined = "def f(a, b):\n    if a and b:\n        x = a + b\n    return x\n"
    continued = ("def f(a, b):\n    if a and \\\n            b:\n        x = a + \\\n"
                 "            b\n    return \\\n        x\n")
    p, q = parse(joined), parse(continued)
    assert q.code.count("\\") == 3
    assert q.leaf_texts() == p.leaf_texts()
    assert "\\" not in "".join(q.leaf_texts())
    assert [leaf.type for leaf in q.leaves] == [leaf.type for leaf in p.leaves]
    assert q.tree_signature() == p.tree_signature()
    e, f = encode(p.tree), encode(q.tree)
    assert (f.d, f.c, f.u) == (e.d, e.c, e.u)
    # hand-checked: `return x` is a two-leaf node (d = 1), not three leaves with the `\`
    assert e.c[-1] == "return_statement" and e.d[-1] == 1
