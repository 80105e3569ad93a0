"""Task generators on the bundled model's tokenizer: paired lengths, single-token answers,
and one-line errors for a tokenizer too small for the task or a mismatched custom task."""

from __future__ import annotations

import json
import re

import pytest
import torch

from interp.circuits import make_task, task_from_file, task_metric, task_tokens
from interp.circuits.tasks.base import Task
from interp.errors import InterpError


@pytest.fixture(scope="module")
def tiny():
    from interp import load_model

    return load_model("interp-tiny", device="cpu")


@pytest.mark.parametrize("name", ["ioi", "greater-than", "docstring"])
def test_tasks_pair_up_on_interp_tiny(tiny, name):
    task = make_task(name, tiny, 12, seed=3)
    pos, neg = task_tokens(tiny, task)
    assert len(pos) == len(neg) == len(task) == 12
    assert all(a.numel() == b.numel() for a, b in zip(pos, neg))
    assert all(not torch.equal(a, b) for a, b in zip(pos, neg))
    assert make_task(name, tiny, 12, seed=3).positives == task.positives  # seeded
    assert all(len(g) >= 1 and len(b) >= 1 for g, b in zip(task.good, task.bad))


def test_task_details(tiny):
    ioi = make_task("ioi", tiny, 6, words="bundled")
    m = ioi.meta[0]
    assert ioi.positives[0].count(m["s"]) == 2 and m["corrupt"] in ioi.negatives[0]
    assert tiny.tokenizer.decode(ioi.good[0]) == " " + m["io"]
    gt = make_task("greater-than", tiny, 6)
    start = gt.meta[0]["start"]
    assert len(gt.good[0]) == 99 - start and len(gt.bad[0]) == start + 1
    assert gt.negatives[0].endswith(f"year {gt.meta[0]['century']}01 to the year "
                                    f"{gt.meta[0]['century']}")
    ds = make_task("docstring", tiny, 6)
    assert ds.positives[0].endswith(":param") and ds.meta[0]["answer"] in ds.positives[0]
    assert ds.meta[0]["answer"] not in ds.negatives[0]


def test_ioi_negatives_replace_the_chosen_mention_of_the_subject(tiny):
    for corrupt, kept in (("s1", -1), ("s2", 0)):
        task = make_task("ioi", tiny, 8, seed=1, words="bundled", corrupt=corrupt)
        for pos, neg, m in zip(task.positives, task.negatives, task.meta):
            assert neg.count(m["s"]) == 1 and neg.count(m["corrupt"]) == 1
            mentions = [i for i in range(len(pos)) if pos.startswith(m["s"], i)]
            kept_at = mentions[kept]  # the mention that stays is the same in both prompts
            assert neg.startswith(m["s"], kept_at + (len(m["corrupt"]) - len(m["s"])
                                                     if kept == -1 else 0))
    with pytest.raises(InterpError, match="IOI corruption"):
        make_task("ioi", tiny, 2, corrupt="s3")


def test_ioi_negatives_default_to_the_papers(tiny):
    """O'Neill & Bui's gen_prompt_counterfact, redone on the positive text: every mention of
    the indirect object becomes the third name, then the first mention of the subject becomes
    the indirect object."""
    import re

    task = make_task("ioi", tiny, 12, seed=2)  # default words and negatives: the paper's
    for pos, neg, m in zip(task.positives, task.negatives, task.meta):
        want = re.sub(rf"\b{m['io']}\b", m["corrupt"], pos)
        want = re.sub(rf"\b{m['s']}\b", m["io"], want, count=1)
        assert neg == want
        words = re.findall(r"\w+", neg)
        assert words.count(m["io"]) == words.count(m["s"]) == 1  # no name repeats


def test_model_too_small_for_the_tokens(loaded):
    small = loaded("gpt2")  # 300-token BPE vocabulary: names and years are not single tokens
    with pytest.raises(InterpError, match="model too small for task 'ioi'"):
        make_task("ioi", small, 4)
    with pytest.raises(InterpError, match="single token|too small"):
        make_task("greater-than", small, 4, read="year")
    # its digits are single tokens, so greater-than can still be read at the tens digit
    assert make_task("greater-than", small, 4).meta[0]["read"] == "tens"
    with pytest.raises(InterpError, match="unknown task 'sva'"):
        make_task("sva", small, 4)


def test_lengths_must_match(tiny, tmp_path):
    path = tmp_path / "task.json"
    path.write_text(json.dumps({"positives": ["When Mary and John went out, John gave it to"],
                                "negatives": [("When Mary and John went out, John gave the "
                                               "big red ball to")],
                                "answers": [" Mary"], "wrong": [" John"]}))
    task = task_from_file(tiny, path)
    with pytest.raises(InterpError, match="positive 0 is 12 tokens but its negative is 15"):
        task_tokens(tiny, task)
    with pytest.raises(InterpError, match="has 1 positives but 2 negatives"):
        Task("t", ["a"], ["b", "c"], [[1]], [[2]])


def test_task_metric():
    logits = torch.tensor([[0.0, 1.0, 3.0, 5.0]])
    t = Task("t", ["p"], ["n"], [[2, 3]], [[1]])
    assert task_metric(logits, t).item() == pytest.approx(4.0 - 1.0)
    t = Task("t", ["p"], ["n"], [[3]], [[0, 1]], metric="prob_diff")
    p = logits.softmax(-1)[0]
    assert task_metric(logits, t).item() == pytest.approx(float(p[3] - p[0] - p[1]))


def test_greater_than_is_read_at_the_tens_digit_on_a_digit_tokenizer():
    """SmolLM2 splits numbers into digits: the task reads the next digit, and the model does it
    (P(digit > T) - P(digit < T) positive on nearly every prompt)."""
    from interp.circuits.patching import _last_logits, _padded_pair, task_metric
    from interp.models import real

    if not real.installed("smollm2-135m-instruct"):
        pytest.skip("smollm2-135m-instruct is not installed")
    from interp import load_model

    model = load_model("smollm2-135m-instruct", device="cpu")
    task = make_task("greater-than", model, 24, seed=0)
    tok = model.tokenizer
    digits = [tok.encode(str(d), add_special_tokens=False)[0] for d in range(10)]
    for meta, good, bad, text in zip(task.meta, task.good, task.bad, task.positives):
        tens = meta["start"] // 10
        assert meta["read"] == "tens" and 1 <= tens <= 8
        assert good == digits[tens + 1:] and bad == digits[:tens]
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.encode(text + str(tens), add_special_tokens=False) == ids + [digits[tens]]
    with pytest.raises(InterpError, match="two-digit year"):
        make_task("greater-than", model, 4, read="year")
    clean, _, lengths = _padded_pair(model, task)
    with torch.no_grad():
        metric = task_metric(_last_logits(model, clean, lengths), task)
    assert float(metric.mean()) > 0.3 and float((metric > 0).float().mean()) > 0.9


def test_ioi_abc_negatives_name_neither_answer(tiny):
    """corrupt="abc": IO, S1 and S2 get three fresh names; the clean answers are absent."""
    task = make_task("ioi", tiny, 12, seed=2, words="bundled", corrupt="abc")
    for pos, neg, m in zip(task.positives, task.negatives, task.meta):
        c, d, e = m["corrupt"]
        words = re.findall(r"\w+", neg)
        assert m["io"] not in words and m["s"] not in words
        assert len({c, d, e, m["io"], m["s"]}) == 5
        assert words.count(c) == 1 and words.count(d) == 1 and words.count(e) >= 1
        assert re.sub(rf"\b{e}\b", m["s"], re.sub(rf"\b{d}\b", m["s"],
                      re.sub(rf"\b{c}\b", m["io"], neg))) == pos
