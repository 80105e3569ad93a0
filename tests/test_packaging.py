"""Packaging: pyproject.toml names every package, and the wheel ships what runtime reads (the
bundled models, corpora, datasets, circuits, model cards) but no build output or build tool."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source directory -> the package name it installs as
ROOTS = {"interp": "interp", "cli": "interp_cli"}


def _packages_on_disk() -> set[str]:
    out = set()
    for folder, name in ROOTS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            out.add(".".join((name, *init.parent.relative_to(ROOT / folder).parts)))
    return out


def test_every_package_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    on_disk = _packages_on_disk()
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages"
    assert listed - on_disk == {"interp.data"}, "packages listed but not on disk"


def _runtime_data() -> set[str]:
    """Every file under data/ that a wheel must ship, as its path inside the wheel."""
    return {"interp/data/" + path.relative_to(ROOT / "data").as_posix()
            for path in (ROOT / "data").rglob("*")
            if path.is_file() and not {"_build", "__pycache__"} & set(path.parts)}


@pytest.mark.slow
def test_wheel_ships_runtime_data_and_no_build_output(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", src / "pyproject.toml")
    skip = shutil.ignore_patterns("__pycache__", "_build", "*.egg-info")
    for folder in ("interp", "cli", "data", "tools"):
        shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    (src / "data" / "_build" / "checkpoint").mkdir(parents=True)  # training output
    (src / "data" / "_build" / "checkpoint" / "model.safetensors").write_bytes(b"\0")
    wheels = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(src)], check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(wheels.glob("*.whl"))).namelist())
    assert not [n for n in names if "_build" in n or n.startswith("tools/")]
    assert _runtime_data() <= names
    assert {n for n in names if n.startswith("interp/data/")} == _runtime_data()
    for must in ("interp/data/interp-tiny/model.safetensors", "interp/texts/corpora.py",
                 "interp/atlas/assets/index.html", "interp_cli/main.py"):
        assert must in names
