"""Every notebook runs top to bottom (in a fresh kernel, cwd: notebooks/) with clean outputs:
no error, no warning, no temporary path, no figure shown twice. The executed copy is stored
(tools/executed_notebooks.py) and the docs build renders it instead of executing again."""

from __future__ import annotations

import tempfile

import nbformat
import pytest

from tools import executed_notebooks as tool


def _texts(node) -> list[tuple[int, str, str]]:
    """(cell index, output kind, text) of every output of `node`."""
    out = []
    for i, cell in enumerate(node.cells):
        for o in cell.get("outputs", []):
            kind = o.get("name") or o["output_type"]
            if o["output_type"] == "stream":
                out.append((i, kind, o["text"]))
            elif o["output_type"] == "error":
                out.append((i, kind, "\n".join(o["traceback"])))
            else:
                out.append((i, kind, "\n".join(str(v) for v in o.get("data", {}).values())))
    return out


@pytest.mark.parametrize("notebook", tool.notebooks(), ids=lambda p: p.name)
def test_notebook_runs_with_clean_outputs(notebook):
    node = tool.execute(notebook)
    texts = _texts(node)
    assert not [t for t in texts if t[1] == "error"]
    assert not [t[:2] for t in texts if t[1] == "stderr" and "Warning" in t[2]]
    assert not [t[:2] for t in texts if tempfile.gettempdir() + "/" in t[2]]
    for i, cell in enumerate(node.cells):  # a figure shown and also returned is shown twice
        html = [o["data"]["text/html"] for o in cell.get("outputs", [])
                if "text/html" in o.get("data", {})]
        assert len(html) == len(set(html)), f"cell {i} shows the same output twice"


def _notebook(path, source: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_the_stored_copy_is_reused_until_the_notebook_or_interp_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERP_CACHE_DIR", str(tmp_path / "cache"))
    notebook = _notebook(tmp_path / "n.ipynb", "print(6 * 7)")
    copy, reused = tool.executed(notebook)
    assert not reused and copy.parent == tmp_path / "cache" / "notebooks"
    assert nbformat.read(copy, as_version=4).cells[0].outputs[0]["text"] == "42\n"
    assert tool.executed(notebook) == (copy, True)
    assert tool.cached_path(notebook, "other interp") != copy  # interp changed: executed again
    _notebook(notebook, "print(6 * 9)")
    changed, reused = tool.executed(notebook)
    assert not reused and changed != copy
    assert nbformat.read(changed, as_version=4).cells[0].outputs[0]["text"] == "54\n"
    assert not copy.exists()  # the older copy of the same notebook is gone


def test_a_failing_cell_stores_nothing(tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("INTERP_CACHE_DIR", str(tmp_path / "cache"))
    notebook = _notebook(tmp_path / "n.ipynb", "1 / 0")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        tool.executed(notebook)
    assert not (tmp_path / "cache" / "notebooks").exists()
