"""Interrupted runs (issue 21, class 7): `interp map-neurons`, `atlas` and `codebook train`
SIGKILLed at a few points, then rerun, give the bytes of an uninterrupted run and leave no
debris; a map left by an interrupted run is refused; interp.atomic removes the temporaries
of dead writers (never a live one's) and puts back a directory killed mid-replacement."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from interp.atomic import LEGACY_STALE_AFTER_S, atomic_dir, remove_stale, write_atomic
from interp.errors import InterpError

INTERP = [sys.executable, "-m", "interp_cli.main"]
MAP = ["map-neurons", "--model", "interp-tiny", "--top-k", "5", "--bottom-k", "3",
       "--out", "D"]
ATLAS = ["atlas", "--map", "D", "--model", "interp-tiny", "--max-docs", "5",
         "--corpus-chars", "5000", "--out", "S"]
CODEBOOK = ["codebook", "train", "--model", "interp-tiny", "--site", "0:mlp_out", "--steps",
            "3", "--batch-size", "2", "--seq-len", "32", "--codes", "64", "--train-chars",
            "5000", "--eval-rows", "2", "--out", "C"]
#: When to kill: given the run's folder, its stderr so far and the seconds since it started.
Ready = Callable[[Path, str, float], bool]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The runs' environment: their own cache, offline (threads as the machine gives: the
    runs must be the same bytes with several)."""
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "INTERP_CACHE_DIR": str(cache),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run([*INTERP, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def kill_when(args: list[str], cwd: Path, env: dict[str, str], ready: Ready) -> bool:
    """Run interp `args` in `cwd` and SIGKILL it once `ready`; False if it ended first."""
    log = cwd.parent / f"{cwd.name}.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([*INTERP, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
    start = time.monotonic()
    try:
        while proc.poll() is None:
            if ready(cwd, log.read_text(errors="replace"), time.monotonic() - start):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            assert time.monotonic() - start < 300, "the run did not reach its kill point"
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-2000:]
    return False


def exists(pattern: str) -> Ready:
    return lambda cwd, log, elapsed: any(cwd.glob(pattern))


def logged(text: str) -> Ready:
    return lambda cwd, log, elapsed: text in log


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def debris(root: Path) -> list[str]:
    """Hidden entries (interp's temporaries) anywhere under `root`."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, env) -> Path:
    """A folder with D (map), S (atlas of D) and C (codebooks) made without interruption."""
    ref = tmp_path_factory.mktemp("ref")
    for args in (MAP, ATLAS, CODEBOOK):
        run(args, ref, env)
    return ref


def workdir(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


def test_killed_map_resumes_to_the_same_bytes(reference, env, tmp_path):
    work = workdir(tmp_path, "w")
    # killed once the third layer is written (first layers kept; the map's JSON written)
    assert kill_when(MAP, work, env, exists("D/layer_00002.safetensors"))
    assert [p.name for p in work.iterdir()] in ([], ["D"])  # nothing beside the map
    kept = {p.name for p in (work / "D").iterdir() if p.suffix != ".tmp"}
    layers = [f"layer_0000{i}.safetensors" for i in range(5)]
    assert {"cfg.json", "vocab.json", layers[0], layers[2]} <= kept <= {"cfg.json", "vocab.json",
                                                                          *layers}
    run(MAP, work, env)  # resumes: the layers there are kept
    assert tree(work / "D") == tree(reference / "D")
    assert debris(work) == [] and [p.name for p in work.iterdir()] == ["D"]


def test_killed_atlas_leaves_nothing_and_a_rerun_is_the_same(reference, env, tmp_path):
    work = workdir(tmp_path, "w")
    shutil.copytree(reference / "D", work / "D")
    # the later points race the end of the run (its last writes take milliseconds): a run
    # that ends first is whole, and is removed to try the next point
    points = [exists(".S.tmp-*/data/L003"), exists(".S.tmp-*/data/search")]
    killed = 0
    for ready in points:  # the second point only when the run ended before the first
        if kill_when(ATLAS, work, env, ready):
            killed += 1
            assert "S" not in {p.name for p in work.iterdir()}  # whole or not at all
            break
        assert tree(work / "S") == tree(reference / "S")
        shutil.rmtree(work / "S")
    assert killed == 1
    run(ATLAS, work, env)  # removes the killed run's temporaries
    assert tree(work / "S") == tree(reference / "S")
    # killed while rebuilding over a finished atlas: the previous one stays, whole
    kill_when(ATLAS, work, env, exists(".S.tmp-*/data/L002"))  # or it ends first: the same
    assert tree(work / "S") == tree(reference / "S")
    run(ATLAS, work, env)
    assert tree(work / "S") == tree(reference / "S")
    assert debris(work) == [] and sorted(p.name for p in work.iterdir()) == ["D", "S"]


def test_killed_codebook_training_leaves_nothing_and_a_rerun_is_the_same(
        reference, env, tmp_path):
    work = workdir(tmp_path, "w")
    assert kill_when(CODEBOOK, work, env, logged("step 2/3"))  # mid-training
    assert list(work.iterdir()) == []  # whole or not at all
    run(CODEBOOK, work, env)
    assert tree(work / "C") == tree(reference / "C")  # every byte, cfg.json included
    assert debris(work) == [] and [p.name for p in work.iterdir()] == ["C"]


def test_a_map_missing_planned_layers_is_refused(reference, tmp_path, loaded):
    from interp.atlas import build_atlas
    from interp.neurons import NeuronMap, decode_neurons
    from interp.neurons.progress import LayerProgress

    part = shutil.copytree(reference / "D", tmp_path / "part")
    for layer in (3, 4, 5):  # what a run killed after layer 2 leaves
        (part / f"layer_0000{layer}.safetensors").unlink()
    with pytest.raises(InterpError, match=r"unfinished: layers 3-5 of the 0-5 its run") as err:
        NeuronMap.load(part)
    assert "\n" not in str(err.value)
    assert NeuronMap.load(part, partial=True).layers == [0, 1, 2]
    with pytest.raises(InterpError, match="unfinished"):
        build_atlas(part, tmp_path / "site")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part"]

    class Stop(LayerProgress):
        def start(self, layer, n, where):
            if layer == 1:
                raise KeyboardInterrupt

    model, out = loaded("gpt2"), tmp_path / "m"
    with pytest.raises(KeyboardInterrupt):
        decode_neurons(model, top_k=5, out=out, progress=Stop(bar=False))
    with pytest.raises(InterpError, match="unfinished: layers 1 of the 0-1"):
        NeuronMap.load(out)
    assert decode_neurons(model, top_k=5, layers=[0], out=out).layers == [0]  # asked for 0
    assert NeuronMap.load(out).layers == [0]


# ---- interp.atomic's stale temporaries -----------------------------------------------------

@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    """The id of another process, alive while the test runs."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_a_dead_writers_temporaries_go_a_live_ones_stay(tmp_path, dead_pid, live_pid):
    dead, live = ([tmp_path / f".t.json.{pid}-abcd1234.tmp", tmp_path / f".S.tmp-{pid}-x1y2z3_4"]
                  for pid in (dead_pid, live_pid))
    other = [tmp_path / f".u.json.{dead_pid}-abcd1234.tmp", tmp_path / ".t.json.notes",
             tmp_path / "t.json.1-abcd1234.tmp"]  # another target; not temporaries
    for path in (*dead, *live, *other):
        path.mkdir() if "-x1y2" in path.name else path.write_bytes(b"half")
    write_atomic(tmp_path / "t.json", "{}")
    assert not dead[0].exists() and all(p.exists() for p in (*live, *other, dead[1]))
    with atomic_dir(tmp_path / "S") as tmp:
        assert tmp.name.startswith(f".S.tmp-{os.getpid()}-")
        (tmp / "a").write_text("a")
    assert not dead[1].exists() and live[1].is_dir() and (tmp_path / "S" / "a").is_file()
    assert remove_stale(tmp_path) == [other[0]]  # any name: the rest are live or not ours


def test_a_directory_killed_between_the_renames_is_put_back(tmp_path, dead_pid):
    old = tmp_path / f".S.old-{dead_pid}-abcd1234"
    (old / "previous").mkdir(parents=True)
    (old / "previous" / "index.html").write_text("before")
    new = tmp_path / f".S.tmp-{dead_pid}-efgh5678"
    new.mkdir()
    assert remove_stale(tmp_path, "S") == [old, new]
    assert (tmp_path / "S" / "index.html").read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S"]
    (old / "previous").mkdir(parents=True)  # the target is there: the old copy just goes
    remove_stale(tmp_path, "S")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S"]


def test_unnumbered_temporaries_go_once_old(tmp_path):
    young, aged = tmp_path / ".S.tmp-abcd1234", tmp_path / ".t.json.abcd1234.tmp"
    young.mkdir()
    aged.write_text("half")
    stamp = time.time() - LEGACY_STALE_AFTER_S - 60
    os.utime(aged, (stamp, stamp))
    assert remove_stale(tmp_path) == [aged] and young.is_dir()
