"""Shared fixtures: tiny random GPT-2, GPT-NeoX and Llama (GQA) checkpoints saved to temp dirs.

Nothing is downloaded: configs are built in code, tokenizers are trained locally.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

VOCAB = 300
SENTENCES = [
    "The cat sat on the mat.",
    "A dog ran in the park with a red ball.",
    "Paris is the capital of France, and Rome is the capital of Italy.",
    "def add(a, b):\n    return a + b\n",
    "for i in range(10): print(i * i)",
    "Mechanistic interpretability studies neurons, heads and circuits.",
    "One two three four five six seven eight nine ten.",
]


def build_tokenizer(name_or_path: str = "interp-test-tokenizer"):
    """A byte-level BPE tokenizer trained on a few sentences (vocab <= VOCAB)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB - 20,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(SENTENCES * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        name_or_path=name_or_path,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )


def _config(arch: str):
    from transformers import GPT2Config, GPTNeoXConfig, LlamaConfig

    common = {"vocab_size": VOCAB, "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
    if arch == "gpt2":
        return GPT2Config(
            n_embd=32, n_layer=2, n_head=4, n_positions=64, initializer_range=0.2, **common
        )
    if arch == "neox":
        return GPTNeoXConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96,
            max_position_embeddings=64, rotary_pct=0.5, tie_word_embeddings=False,
            initializer_range=0.2, **common,
        )
    if arch == "llama":
        return LlamaConfig(
            hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True,
            initializer_range=0.2, **common,
        )
    raise KeyError(arch)


def save_tiny_model(arch: str, path: Path, seed: int = 0) -> Path:
    """Build a tiny random `arch` model with a fixed seed; save it and a tokenizer to `path`."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(_config(arch))
    model.eval()
    with torch.no_grad():  # HF initialises norms to 1/0 and biases to 0: make them non-trivial
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.1)
            elif "norm" in name or ".ln_" in name:
                param.copy_(1.0 + 0.3 * torch.randn_like(param))
    model.save_pretrained(path)
    build_tokenizer(str(path)).save_pretrained(path)
    return path


ARCHS = ("gpt2", "neox", "llama")


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory) -> dict[str, Path]:
    """{"gpt2"|"neox"|"llama": directory of a tiny random checkpoint (+ tokenizer)}."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {arch: save_tiny_model(arch, root / arch) for arch in ARCHS}


@pytest.fixture(scope="session", params=ARCHS)
def arch(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_dirs, arch) -> Path:
    return tiny_model_dirs[arch]


@pytest.fixture(scope="session")
def loaded(tiny_model_dirs):
    """Load (and cache) an interp Model per architecture: loaded("llama") -> Model."""
    from interp import load_model

    cache = {}

    def get(arch: str):
        if arch not in cache:
            cache[arch] = load_model(tiny_model_dirs[arch], device="cpu")
        return cache[arch]

    return get


@pytest.fixture(scope="session")
def hf_reference(tiny_model_dirs):
    """A separately loaded plain HF model per architecture (eager attention), for comparisons."""
    from transformers import AutoModelForCausalLM

    cache = {}

    def get(arch: str):
        if arch not in cache:
            cache[arch] = AutoModelForCausalLM.from_pretrained(
                tiny_model_dirs[arch], attn_implementation="eager"
            ).eval()
        return cache[arch]

    return get


def pytest_configure(config):
    """Under pytest-xdist (`-n 2`, as CI runs the suite) each worker process keeps to one CPU
    thread, torch's and its child processes' (notebook kernels, CLI runs), so that two workers
    on two cores do not contend."""
    if hasattr(config.option, "loadscopereorder"):  # xdist: keep pytest_collection_modifyitems'
        config.option.loadscopereorder = False      # order, not "files with most tests first"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


#: Seconds that the slowest test files take on one CI worker (measured 2026-12-02, fresh clone,
#: two workers). `--dist loadfile` sends whole files to the workers in collection order; these
#: go first (longest first), so that the two workers finish together. The numbers only order
#: the files, nothing checks them.
SLOWEST_FILES = {
    "tests/test_notebooks.py": 185,
    "tests/circuits/test_circuits_real_study.py": 80,
    "tests/test_kill_resume.py": 69,
    "tests/neurons/test_finetune_agreement_study.py": 60,
    "tests/neurons/test_neuron_summary_study.py": 41,
    "tests/cli/test_same_bytes.py": 37,
    "tests/atlas/test_browser_smollm2.py": 33,
    "tests/neurons/test_token_bias_study.py": 32,
    "tests/models/test_real_models.py": 31,
    "tests/cli/test_hostile_input.py": 29,
    "tests/steer/test_concept_causal_study.py": 28,
    "tests/probes/test_concept_depth_real_study.py": 21,
}


def pytest_collection_modifyitems(config, items):
    """The SLOWEST_FILES first, the rest in collection order (each file's tests stay together
    and in order)."""
    items.sort(key=lambda item: -SLOWEST_FILES.get(item.nodeid.split("::", 1)[0], 0))


#: Test folders whose tests run many tiny tensor ops: one torch thread is faster there than
#: two contending threads (measured on the 2-core CI machine), so they get one.
ONE_THREAD_FOLDERS = frozenset({"astprobe", "circuits", "sae"})


@pytest.fixture(autouse=True)
def _one_torch_thread_for_tiny_ops(request):
    """Run the tests of ONE_THREAD_FOLDERS with one torch thread; restore it afterwards."""
    if Path(str(request.node.fspath)).parent.name not in ONE_THREAD_FOLDERS:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)



@pytest.fixture(scope="session")
def experiment():
    """Loader of a study script in experiments/ as a module: `experiment("token_bias")`
    (each script is loaded once per session)."""
    import importlib.util
    import sys

    root = Path(__file__).resolve().parents[1] / "experiments"
    loaded: dict = {}

    def load(name: str):
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(f"{name}_study", root / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            loaded[name] = module
        return loaded[name]

    return load
