"""Determinism (issue 21): the same inputs give the same bytes, for every artifact kind and
the atlas, across processes (safetensors' own writer orders its metadata by a per-process
random hash); interp's canonical safetensors files read back exactly with safetensors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load, save

from interp.artifact import load_tensors, tensor_bytes

#: Makes one small artifact of each kind, and an atlas, in the directory argv[1].
MAKE = """
import sys
from pathlib import Path
from interp import load_model
from interp.atlas import build_atlas, collect_records
from interp.codebook import Codebooks, save_codebooks
from interp.hooks.capture import capture
from interp.neurons import decode_neurons
from interp.sae import SAEConfig, SparseAutoencoder, save_sae

root = Path(sys.argv[1])
texts = ["The cat sat on the mat.", "One two three four five."]
m = load_model("interp-tiny", device="cpu")
decode_neurons(m, layers=[0, 1], top_k=3, bottom_k=2, out=root / "map")
save_codebooks(Codebooks.create(m, ["0:mlp_out", "1:attn_z"], n_codes=8, k=2), root / "books")
collect_records(m, texts, layers=[0, 1], top_k=2).save(root / "records")
save_sae(SparseAutoencoder(SAEConfig(d_in=16, n_latents=8)), root / "sae", model=m)
capture(m, [("mlp_out", 0)], texts, to=root / "acts")
build_atlas(root / "map", root / "atlas", records=root / "records", progress=False)
"""


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_inputs_same_bytes_across_processes(tmp_path):
    """Made twice, under the same path (the atlas records its command), in processes with
    different hash seeds: every file is byte-identical."""
    work, made = tmp_path / "work", []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", MAKE, str(work)], env=env, check=True,
                       timeout=600)
        made.append(_files(work))
        work.rename(tmp_path / f"run{seed}")
    first, second = made
    assert any(name.endswith(".safetensors") for name in first)
    assert {"map", "books", "records", "sae", "acts", "atlas"} <= {n.split("/")[0]
                                                                   for n in first}
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, differ


def test_canonical_files_read_back_exactly():
    tensors = {"f64": torch.randn(2, 3, dtype=torch.float64), "f32": torch.randn(4),
               "i32": torch.arange(6, dtype=torch.int32).view(2, 3), "i64": torch.arange(3),
               "bf16": torch.randn(2, 2).bfloat16(), "f16": torch.randn(3).half(),
               "flag": torch.tensor([True, False]), "u8": torch.arange(5, dtype=torch.uint8),
               "empty": torch.zeros(4, 0), "scalar": torch.tensor(2.5),
               "strided": torch.randn(3, 4).T}
    data = tensor_bytes(tensors, "fp", zeta="z", alpha="a")
    back = load(data)
    assert sorted(back) == sorted(tensors)
    for name, t in tensors.items():
        assert back[name].dtype == t.dtype and torch.equal(back[name], t), name
    # metadata keys sorted in the header, which is padded to 8 bytes
    n = int.from_bytes(data[:8], "little")
    assert n % 8 == 0 and data[8:8 + n].startswith(
        b'{"__metadata__":{"alpha":"a","fingerprint":"fp","zeta":"z"},')
    # one dtype and one metadata key: exactly the bytes safetensors writes
    same = {"b": torch.randn(3, 2), "a": torch.randn(5)}
    assert tensor_bytes(same, "fp") == save(same, metadata={"fingerprint": "fp"})
    # insertion order does not matter
    assert tensor_bytes(dict(reversed(list(tensors.items()))), "fp", alpha="a",
                        zeta="z") == data


def test_load_tensors_reads_what_tensor_bytes_wrote(tmp_path):
    file = tmp_path / "x.safetensors"
    file.write_bytes(tensor_bytes({"x": torch.ones(2, 3)}, "fp", layer="3"))
    tensors, meta = load_tensors(file, "fp", meta={"layer": "3"})
    assert torch.equal(tensors["x"], torch.ones(2, 3))
    assert meta == {"fingerprint": "fp", "layer": "3"}
