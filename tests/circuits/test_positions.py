"""Activation patching per head and position (interp.circuits.positions) against a brute-force
loop (one full forward per layer, head and position, hook_z of that head replaced at that
prompt's index only); IOI position labels read off the tokens align mixed templates by role."""

from __future__ import annotations

import pytest
import torch

from interp.circuits import activation_patching
from interp.circuits.patching import _last_logits, _padded_pair, task_metric
from interp.circuits.positions import position_patching
from interp.errors import InterpError
from interp.hooks import attach


def _positions(lengths: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"first": torch.ones(len(lengths), dtype=torch.long), "mid": lengths // 2,
            "END": lengths - 1}


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_position_patching_equals_a_loop_of_full_forwards(loaded, arch, tiny_task):
    model, task = loaded(arch), tiny_task
    clean_tok, corrupt_tok, lengths = _padded_pair(model, task)
    positions = _positions(lengths)
    result = position_patching(model, task, positions)
    f = model.facts
    assert result.scores.shape == (f.n_layers, f.n_heads, 3)
    assert result.positions == ["first", "mid", "END"]
    z_corrupt: dict[int, torch.Tensor] = {}
    names = [f"blocks.{layer}.attn.hook_z" for layer in range(f.n_layers)]

    def keep(layer):
        def k(z, hook=None):
            z_corrupt[layer] = z.detach().clone()
        return k

    with torch.no_grad(), attach(model, {n: keep(i) for i, n in enumerate(names)}):
        model.bridge(corrupt_tok)
    with torch.no_grad():
        clean = task_metric(_last_logits(model, clean_tok, lengths), task)
    rows = torch.arange(len(lengths))
    for layer in range(f.n_layers):
        for head in range(f.n_heads):
            for c, idx in enumerate(positions.values()):
                def patch(z, hook=None, _l=layer, _h=head, _i=idx):
                    z = z.clone()
                    z[rows, _i, _h] = z_corrupt[_l][rows, _i, _h]
                    return z

                with torch.no_grad(), attach(model, {names[layer]: patch}):
                    patched = task_metric(_last_logits(model, clean_tok, lengths), task)
                drop = float((clean - patched).mean())
                assert float(result.raw[layer, head, c]) == pytest.approx(drop, abs=1e-5)
    assert float(result.raw.abs().max()) > 0.05
    one = position_patching(model, task, positions, layers=[1])
    assert torch.equal(one.raw[1], result.raw[1]) and bool(one.raw[0].isnan().all())
    whole = activation_patching(model, task)  # same clean and corrupted runs
    assert (result.clean, result.corrupted) == (whole.clean, whole.corrupted)
    gap = result.clean - result.corrupted
    assert torch.allclose(result.scores * gap, result.raw, atol=1e-6)
    assert result.at(1, 2) == {p: float(result.scores[1, 2, i])
                               for i, p in enumerate(result.positions)}


def test_planted_heads_act_where_they_were_wired(planted):
    """Layer-0 copy heads matter at the positions the mover reads (3) and at END (their
    direct path); the mover (L1H2) only at END; patching at position 5 does nothing."""
    from interp.circuits.planted import planted_task

    model = planted("a")
    task = planted_task(20)
    n = len(task)
    at = lambda p: torch.full((n,), p, dtype=torch.long)
    result = position_patching(model, task, {"3": at(3), "5": at(5), "END": at(7)})
    assert result.at(1, 2)["END"] > 0.3 and abs(result.at(1, 2)["3"]) < 1e-4
    for head in (1, 3):
        assert result.at(0, head)["3"] > 0.1 and result.at(0, head)["END"] > 0.1
    assert float(result.scores[:, :, 1].abs().max()) < 1e-4
    assert float(result.scores[0, [0, 2]].abs().max()) < 1e-3


def test_ioi_positions_align_mixed_templates_by_role():
    from interp import load_model
    from interp.circuits import make_task
    from interp.circuits.tasks.ioi import IOI_POSITIONS, ioi_positions

    model = load_model("interp-circuits", device="cpu")
    task = make_task("ioi", model, 12, seed=0, words="bundled", corrupt="s2")
    positions = ioi_positions(model, task)
    assert list(positions) == list(IOI_POSITIONS)
    assert len({m["template"] for m in task.meta}) > 1
    assert any(p.startswith(m["io"]) for p, m in zip(task.positives, task.meta))
    assert len(set(positions["S2"].tolist())) > 1  # templates differ in where S2 is
    for i, prompt in enumerate(task.positives):
        ids = model.to_tokens(prompt)[0].tolist()
        word = lambda key, i=i, ids=ids: model.tokenizer.decode([ids[positions[key][i]]]).strip()
        # a name that opens the sentence has no space: another token than the answer's
        assert word("IO") == task.meta[i]["io"]
        assert word("S1") == word("S2") == task.meta[i]["s"]
        assert ids[positions["S2"][i]] == task.bad[i][0]
        assert positions["S1+1"][i] == positions["S1"][i] + 1 < positions["S2"][i]
        assert positions["END"][i] == len(ids) - 1
    result = position_patching(model, task, positions)
    assert result.scores.shape == (model.facts.n_layers, model.facts.n_heads, 5)
    broken = type(task)("ioi", [task.positives[0].replace(" to", "")] * 2,
                        [task.negatives[0].replace(" to", "")] * 2,
                        [task.bad[0]] * 2, [task.good[0]] * 2)
    with pytest.raises(InterpError, match="IOI prompt 0 .* has its IO name 2"):
        ioi_positions(model, broken)


def test_position_errors(loaded, tiny_task):
    model, task = loaded("gpt2"), tiny_task
    with pytest.raises(InterpError, match="no positions given"):
        position_patching(model, task, {})
    with pytest.raises(InterpError, match="position 'x' has 2 indices for 4 prompts"):
        position_patching(model, task, {"x": torch.tensor([0, 1])})
    with pytest.raises(InterpError, match=r"position 'x' of prompt 0 is 14; valid: 0\.\.13"):
        position_patching(model, task, {"x": torch.tensor([14, 0, 0, 0])})
    with pytest.raises(InterpError, match=r"layer 2 out of range; valid: 0\.\.1"):
        position_patching(model, task, {"x": torch.zeros(4, dtype=torch.long)}, layers=[2])
    with pytest.raises(InterpError, match="unknown patching mode"):
        position_patching(model, task, {"x": torch.zeros(4, dtype=torch.long)}, mode="zero")
