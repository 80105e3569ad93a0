"""mkdocs hook: render the repository's notebooks/*.ipynb (outside docs_dir) with mkdocs-jupyter.

Adds each notebook as a page under "Notebooks" in the nav; does nothing when there is none.
Runs before mkdocs-jupyter's on_files so that plugin converts the added files. The page shows
the notebook as executed by the tests when that copy is stored and current, executing it here
otherwise (tools/executed_notebooks.py): every build shows real outputs, each run executes a
notebook once.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

SECTION = "Notebooks"
log = logging.getLogger("mkdocs.hooks.notebooks")
_staging: Path | None = None  # executed copies for this build, removed after it


def _executed_notebooks(root: Path):
    """tools/executed_notebooks.py, loaded by path (tools/ is not installed)."""
    name = "interp_tools_executed_notebooks"
    if name not in sys.modules:
        path = root / "tools" / "executed_notebooks.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _notebooks(config) -> list[Path]:
    root = Path(config.config_file_path).resolve().parent
    return sorted((root / "notebooks").glob("*.ipynb"))


def on_config(config):
    found = _notebooks(config)
    if found and config.nav is not None:
        config.nav.append({SECTION: [f"notebooks/{p.name}" for p in found]})
    return config


@event_priority(100)  # before mkdocs-jupyter (priority 0) wraps .ipynb files as pages
def on_files(files, config):
    global _staging
    found = _notebooks(config)
    if not found:
        return files
    tool = _executed_notebooks(found[0].parent.parent)
    dependencies = tool.dependency_digest()
    _staging = Path(tempfile.mkdtemp(prefix="interp-docs-notebooks-"))
    (_staging / "notebooks").mkdir()
    for path in found:
        src_uri = f"notebooks/{path.name}"
        if files.get_file_from_path(src_uri) is not None:
            continue
        copy, reused = tool.executed(path, dependencies)
        log.info("%s: %s", path.name, "executed by the tests, reused" if reused else "executed")
        shutil.copyfile(copy, _staging / src_uri)
        files.append(
            File(src_uri, src_dir=str(_staging), dest_dir=config.site_dir,
                 use_directory_urls=config.use_directory_urls)
        )
    return files


PLOTLY_FILE = "assets/javascripts/plotly.min.js"
_plotly_used = False


@functools.cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def on_post_page(output, page, config):
    """A notebook page carries plotly.js inline (interp.viz.show puts it in the first figure's
    output, so the notebook works offline); in the site every page loads one shared copy
    instead (PLOTLY_FILE, written after the build): 4.8 MB once, not once per page."""
    global _plotly_used
    js = _plotly_js()
    at = output.find(js)
    if at < 0:
        return output
    start = output.rfind("<script", 0, at)
    end = at + len(js)
    if start < 0 or "<" in output[start + 1:at] or not output.startswith("</script>", end):
        return output  # not a plain inline script: leave the page as it is
    prefix = "../" * page.url.count("/")
    _plotly_used = True
    return (output[:start] + f'<script src="{prefix}{PLOTLY_FILE}" charset="utf-8"></script>'
            + output[end + len("</script>"):])


def _remove_staging() -> None:
    global _staging
    if _staging is not None:
        shutil.rmtree(_staging, ignore_errors=True)
        _staging = None


def on_post_build(config):
    """The page's download link offers the notebook as written (no outputs), not the executed
    copy the page was rendered from; the shared plotly.js is written once."""
    global _plotly_used
    site = Path(config.site_dir)
    if _plotly_used:
        (site / PLOTLY_FILE).parent.mkdir(parents=True, exist_ok=True)
        (site / PLOTLY_FILE).write_text(_plotly_js(), encoding="utf-8")
        _plotly_used = False
    for path in _notebooks(config):
        offered = site / "notebooks" / path.stem / path.name
        if offered.is_file():
            shutil.copyfile(path, offered)
    _remove_staging()


def on_build_error(error):
    _remove_staging()


def on_serve(server, config, builder):
    notebooks = Path(config.config_file_path).resolve().parent / "notebooks"
    if notebooks.is_dir():
        server.watch(str(notebooks))
    return server
