"""Execute the repository's notebooks once and reuse the result: the tests execute every
notebook (and store it), the docs build renders the stored copy instead of executing again.

A stored copy is keyed by the notebook's bytes and everything its outputs can depend on in the
repository (interp/, cli/, data/, pyproject.toml), so any change to them executes it afresh. It
lives in `<interp cache>/notebooks/<name>-<key>.ipynb` (INTERP_CACHE_DIR, see
interp.models.cache) and is written atomically.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat

from interp.atomic import write_atomic
from interp.models.cache import cache_root

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: What a notebook's outputs can depend on besides its own text.
DEPENDS_ON = ("interp", "cli", "data", "pyproject.toml")
#: Seconds one cell may run before the execution fails.
CELL_TIMEOUT_S = 900


def notebooks() -> list[Path]:
    """The repository's notebooks, in order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def dependency_digest() -> str:
    """Digest of the repository files (DEPENDS_ON) that notebook outputs depend on."""
    digest = hashlib.sha256()
    for name in DEPENDS_ON:
        base = ROOT / name
        files = [base] if base.is_file() else sorted(
            p for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
        )
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cache_key(notebook: Path, dependencies: str | None = None) -> str:
    """Hex key of `notebook`'s text and the repository files its outputs depend on."""
    digest = hashlib.sha256(notebook.read_bytes())
    digest.update((dependencies or dependency_digest()).encode())
    return digest.hexdigest()[:16]


def cached_path(notebook: Path, dependencies: str | None = None) -> Path:
    """Where the executed copy of `notebook` is stored."""
    key = cache_key(notebook, dependencies)
    return cache_root() / "notebooks" / f"{notebook.stem}-{key}.ipynb"


def execute(notebook: Path, dependencies: str | None = None) -> nbformat.NotebookNode:
    """Run every cell of `notebook` (cwd: its folder) and store the executed copy; raises
    nbclient's CellExecutionError naming the cell when one fails."""
    from nbclient import NotebookClient

    # keyed before running: edits meanwhile miss the cache
    target = cached_path(notebook, dependencies)
    node = nbformat.read(notebook, as_version=4)
    NotebookClient(node, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, nbformat.writes(node))
    for old in target.parent.glob(f"{notebook.stem}-*.ipynb"):  # one copy per notebook
        if old != target and re.fullmatch(rf"{re.escape(notebook.stem)}-[0-9a-f]{{16}}\.ipynb",
                                          old.name):
            old.unlink(missing_ok=True)
    return node


def executed(notebook: Path, dependencies: str | None = None) -> tuple[Path, bool]:
    """The stored executed copy of `notebook`, executing it first on a miss. Returns the copy's
    path and whether it was reused."""
    dependencies = dependencies or dependency_digest()
    target = cached_path(notebook, dependencies)
    if target.is_file():
        return target, True
    execute(notebook, dependencies)
    return target, False
