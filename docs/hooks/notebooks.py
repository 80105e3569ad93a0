"""mkdocs hook: render the repository's notebooks/*.ipynb (outside docs_dir) with mkdocs-jupyter.

Adds each notebook as a page under "Notebooks" in the nav; does nothing when there is none.
Runs before mkdocs-jupyter's on_files so that plugin converts the added files.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

SECTION = "Notebooks"


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
    for path in _notebooks(config):
        src_uri = f"notebooks/{path.name}"
        if files.get_file_from_path(src_uri) is None:
            files.append(
                File(src_uri, src_dir=str(path.parent.parent), dest_dir=config.site_dir,
                     use_directory_urls=config.use_directory_urls)
            )
    return files


def on_serve(server, config, builder):
    notebooks = Path(config.config_file_path).resolve().parent / "notebooks"
    if notebooks.is_dir():
        server.watch(str(notebooks))
    return server
