"""Measure the model card of each installed real model and write data/model-cards/<name>.json.

Fixed inputs, greedy decoding and fixed seeds, so a rerun on the same checkpoint and software
writes the same file. Per model: identity (source, licence, quantisation, sha256, fingerprint),
held-out next-token loss on the committed python-docs corpus (prose / code / overall, with a
bootstrap interval over documents), four behaviour checks with their greedy continuations, and
a small task table (IOI logit difference, greater-than digit probabilities).

    python experiments/model_cards.py [--models NAME ...] [--max-docs N] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a source checkout
    sys.path.insert(0, str(REPO))

from interp.models.real import REAL_MODELS, installed
from interp.progress import say

if TYPE_CHECKING:
    from interp.models.model import Model

MAX_SEQ = 512
BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 1000
TASK_SEED = 0
DIGITS = 6  # decimals kept for every measured float, so reruns write identical files

QUANTISATION_CAVEAT = (
    "The weights are the 4-bit (Q4) GGUF quantisation of the release, dequantised to float32 "
    "when loaded. Every number on this card, and every analysis interp runs on this model, "
    "describes this quantised model, not the original bf16 release: losses, logits and "
    "neuron behaviour can differ from those of the unquantised weights."
)

CAPITAL_PROMPT = "The capital of France is"
IOI_PROMPT = "When Mary and John went to the store, John gave a drink to"
GT_PROMPT = "The war lasted from the year 1732 to the year 17"
CODE_PROMPT = "def fibonacci(n):\n"
CHAT_REQUEST = (
    "Write a Python function fibonacci(n) that returns the n-th Fibonacci number. "
    "Reply with only the code."
)

IOI_TEMPLATES = (
    "When {A} and {B} went to the store, {S} gave a drink to",
    "After {A} and {B} went to the park, {S} gave a ball to",
    "When {A} and {B} arrived at the office, {S} handed a letter to",
    "While {A} and {B} were cooking dinner, {S} passed the salt to",
    "Then {A} and {B} had a long argument, and afterwards {S} said to",
)
#: candidates in order; the first 20 that are one token with a leading space are used
IOI_NAMES = (
    "Mary", "John", "Tom", "James", "Anna", "Paul", "Sarah", "David", "Laura", "Mark",
    "Emma", "Peter", "Kate", "Michael", "Lisa", "George", "Alice", "Daniel", "Rachel", "Robert",
    "Jane", "Steve", "Linda", "Chris", "Susan", "Brian", "Helen", "Kevin", "Grace", "Adam",
)
N_IOI_NAMES = 20
N_IOI_PROMPTS = 100
GT_TEMPLATE = "The war lasted from the year 17{t}{u} to the year 17"
N_GT_PROMPTS = 60


def _round(x: float) -> float:
    return round(float(x), DIGITS)


# ---- identity --------------------------------------------------------------------------------
def identity(model: Model, name: str) -> dict[str, Any]:
    """Source, licence, quantisation, checksums and shape of a loaded real model."""
    spec = REAL_MODELS[name]
    n_params = sum(p.numel() for p in model.hf_model.parameters())
    info = model.source_info or {}
    return {
        "name": spec.name, "title": spec.title, "origin": spec.origin, "licence": spec.licence,
        "quantisation": spec.quantisation, "quantisation_caveat": QUANTISATION_CAVEAT,
        "gguf_file": spec.gguf_file, "sha256": info.get("sha256", spec.sha256),
        "fingerprint": model.fingerprint, "n_parameters": int(n_params),
        "facts": model.facts.to_dict(),
        "converter": {k: info[k] for k in ("gguf", "transformers", "dtype") if k in info},
    }


# ---- held-out loss ---------------------------------------------------------------------------
def corpus_docs(max_docs: int | None = None) -> list[dict[str, Any]]:
    """Documents of the committed corpus ({"id","kind","source","text"}), first max_docs.

    With max_docs, prose and code documents are interleaved (first prose, first code, ...) so
    the reduced form still measures both kinds.
    """
    from interp.texts.corpora import corpus_path

    with corpus_path().open(encoding="utf-8") as handle:
        docs = [json.loads(line) for line in handle if line.strip()]
    if max_docs is None or max_docs >= len(docs):
        return docs
    by_kind = {k: [d for d in docs if d["kind"] == k] for k in ("prose", "code")}
    mixed = [d for pair in zip(*by_kind.values(), strict=False) for d in pair]
    return mixed[:max_docs]


def doc_loss(model: Model, text: str) -> tuple[float, int]:
    """(summed next-token cross-entropy in nats, number of predicted tokens) of one document,
    truncated to MAX_SEQ tokens (BOS as the model's to_tokens adds it)."""
    tokens = model.to_tokens(text)[:, :MAX_SEQ]
    if tokens.shape[1] < 2:
        return 0.0, 0
    logits = model.logits(tokens)[0, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits, tokens[0, 1:].to(logits.device),
                                            reduction="sum")
    return float(nll), int(tokens.shape[1] - 1)


def bootstrap_ci(sums: np.ndarray, counts: np.ndarray, *, seed: int = BOOTSTRAP_SEED,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> list[float]:
    """95% percentile interval of the token-weighted mean loss, resampling documents."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[idx].sum(1) / np.maximum(counts[idx].sum(1), 1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return [_round(lo), _round(hi)]


def heldout_loss(model: Model, max_docs: int | None = None) -> dict[str, Any]:
    """Mean next-token loss (nats/token) on the committed corpus, per kind and overall."""
    docs = corpus_docs(max_docs)
    sums, counts, kinds = [], [], []
    start = time.perf_counter()
    for i, doc in enumerate(docs):
        total, n = doc_loss(model, doc["text"])
        sums.append(total)
        counts.append(n)
        kinds.append(doc["kind"])
        if (i + 1) % 25 == 0 or i + 1 == len(docs):
            say("model-cards", f"  loss: {i + 1}/{len(docs)} documents "
                f"({time.perf_counter() - start:.0f} s)")
    s, c, k = np.array(sums, dtype=np.float64), np.array(counts, dtype=np.int64), np.array(kinds)
    out: dict[str, Any] = {
        "corpus": "python-docs", "max_docs": max_docs, "max_tokens_per_doc": MAX_SEQ,
        "unit": "nats/token",
    }
    for kind in ("prose", "code"):
        mask = k == kind
        out[kind] = _summary(s[mask], c[mask])
    out["overall"] = _summary(s, c)
    out["overall"]["ci95"] = bootstrap_ci(s, c) if len(s) else None
    out["overall"]["bootstrap"] = {"seed": BOOTSTRAP_SEED, "resamples": BOOTSTRAP_RESAMPLES,
                                   "unit": "documents"}
    return out


def _summary(sums: np.ndarray, counts: np.ndarray) -> dict[str, Any]:
    n_tokens = int(counts.sum())
    loss = _round(sums.sum() / n_tokens) if n_tokens else None
    return {"loss": loss, "tokens": n_tokens, "docs": len(sums)}


# ---- behaviour checks ------------------------------------------------------------------------
def continue_tokens(model: Model, tokens: torch.Tensor, max_new_tokens: int) -> str:
    """Greedy continuation (text of the new tokens only) of a [1, pos] token prompt."""
    out = model.generate(tokens, max_new_tokens)
    new = out[0, tokens.shape[1]:].tolist()
    return model.tokenizer.decode(new, skip_special_tokens=True)


def continuation(model: Model, prompt: str, max_new_tokens: int) -> str:
    """Greedy continuation of a text prompt, tokenised as the model's to_tokens does."""
    return continue_tokens(model, model.to_tokens(prompt), max_new_tokens)


def single_token(model: Model, text: str) -> int | None:
    """The id of `text` when the tokenizer encodes it as exactly one token, else None."""
    ids = model.tokenizer.encode(text, add_special_tokens=False)
    return ids[0] if len(ids) == 1 else None


def code_block(text: str) -> str:
    """The first fenced code block of a chat reply, or the text itself when there is none."""
    match = re.search(r"```[a-zA-Z0-9_+-]*\n(.*?)(```|$)", text, flags=re.DOTALL)
    return match.group(1) if match else text


def compiles(code: str) -> bool:
    """True when `code` (up to a closing ``` fence), or that cut after its last complete line,
    is non-blank and compiles."""
    code = code.split("```")[0]
    candidates = [code]
    if "\n" in code.rstrip("\n"):
        candidates.append(code[: code.rstrip("\n").rfind("\n") + 1])
    for candidate in candidates:
        if not candidate.strip():
            continue
        try:
            compile(candidate, "<model-card>", "exec")
            return True
        except (SyntaxError, ValueError):
            continue
    return False


def check_capital(model: Model) -> dict[str, Any]:
    text = continuation(model, CAPITAL_PROMPT, 8)
    return {"name": "capital", "prompt": CAPITAL_PROMPT, "continuation": text,
            "criterion": "continuation contains ' Paris'", "pass": " Paris" in text}


def check_ioi(model: Model) -> dict[str, Any]:
    tokens = model.to_tokens(IOI_PROMPT)
    top = int(model.logits(tokens)[0, -1].argmax())
    text = continue_tokens(model, tokens, 6)
    return {"name": "ioi", "prompt": IOI_PROMPT, "continuation": text,
            "next_token": model.tokenizer.decode([top]),
            "criterion": "greedy next token is ' Mary'",
            "pass": top == single_token(model, " Mary")}


def check_greater_than(model: Model) -> dict[str, Any]:
    text = continuation(model, GT_PROMPT, 4)
    digits = re.match(r"\s*(\d)(\d)", text)
    number = int(digits.group(1) + digits.group(2)) if digits else None
    return {"name": "greater_than", "prompt": GT_PROMPT, "continuation": text,
            "end_year_digits": number,
            "criterion": "the next two digits form a number > 32",
            "pass": number is not None and number > 32}


def check_code(model: Model) -> dict[str, Any]:
    text = continuation(model, CODE_PROMPT, 64)
    # the model may restate the signature itself, so the continuation alone may compile
    ok = compiles(CODE_PROMPT + text) or ("def " in text and compiles(text))
    has_return = "return" in text
    return {"name": "code", "prompt": CODE_PROMPT, "continuation": text,
            "criterion": "prompt + continuation (or a continuation that restates a def) "
                         "compiles, up to a ``` fence and allowing a cut after its last "
                         "complete line; or the continuation contains 'return'",
            "compiles": ok, "contains_return": has_return, "pass": ok or has_return}


def check_code_chat(model: Model) -> dict[str, Any]:
    messages = [{"role": "user", "content": CHAT_REQUEST}]
    prompt = model.tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=True)
    ids = model.tokenizer.encode(prompt, add_special_tokens=False)
    text = continue_tokens(model, torch.tensor([ids], device=model.device), 160)
    code = code_block(text)
    ok, has_return = compiles(code), "return" in code
    return {"name": "code_chat", "prompt": prompt, "request": CHAT_REQUEST,
            "continuation": text,
            "criterion": "the reply's first code block (or the reply) compiles, allowing a cut "
                         "after its last complete line; or it contains 'return'",
            "compiles": ok, "contains_return": has_return, "pass": ok or has_return}


def is_instruct(name: str) -> bool:
    """Instruction-tuned models also get the chat-template code check."""
    return "instruct" in name.lower()


CHECKS = {"capital": check_capital, "ioi": check_ioi, "greater_than": check_greater_than,
          "code": check_code, "code_chat": check_code_chat}


def behaviour_checks(model: Model, name: str, only: tuple[str, ...] | None = None
                     ) -> list[dict[str, Any]]:
    """The fixed greedy checks in CHECKS order (or just `only`); code_chat only for instruct
    models that have a chat template."""
    chat = is_instruct(name) and getattr(model.tokenizer, "chat_template", None)
    names = [n for n in CHECKS if (only is None or n in only) and (n != "code_chat" or chat)]
    return [CHECKS[n](model) for n in names]


# ---- task table ------------------------------------------------------------------------------
def ioi_names(model: Model) -> list[str]:
    """The first N_IOI_NAMES candidates that are one token with a leading space here."""
    names = [n for n in IOI_NAMES if single_token(model, " " + n) is not None]
    if len(names) < N_IOI_NAMES:
        raise RuntimeError(f"only {len(names)} single-token IOI names for this tokenizer")
    return names[:N_IOI_NAMES]


def ioi_prompts(names: list[str], *, seed: int = TASK_SEED) -> list[tuple[str, str, str]]:
    """(prompt, IO, S) triples: each template N/5 times, random names and ABB/BAB order."""
    rng = random.Random(seed)
    per = N_IOI_PROMPTS // len(IOI_TEMPLATES)
    out = []
    for template in IOI_TEMPLATES:
        for _ in range(per):
            io, s = rng.sample(names, 2)
            a, b = (io, s) if rng.random() < 0.5 else (s, io)
            out.append((template.format(A=a, B=b, S=s), io, s))
    return out


def last_logits(model: Model, prompts: list[str]) -> torch.Tensor:
    """Final-position logits [n, vocab] of prompts, batched by token length (no padding)."""
    toks = [model.to_tokens(p) for p in prompts]
    out: list[torch.Tensor | None] = [None] * len(prompts)
    for length in sorted({t.shape[1] for t in toks}):
        idx = [i for i, t in enumerate(toks) if t.shape[1] == length]
        logits = model.logits(torch.cat([toks[i] for i in idx]))[:, -1].float()
        for row, i in enumerate(idx):
            out[i] = logits[row]
    return torch.stack(out)  # type: ignore[arg-type]


def ioi_task(model: Model) -> dict[str, Any]:
    """IOI over 100 prompts: share with logit(IO) > logit(S), mean logit difference, top-1."""
    names = ioi_names(model)
    prompts = ioi_prompts(names)
    logits = last_logits(model, [p for p, _, _ in prompts])
    io = torch.tensor([single_token(model, " " + x) for _, x, _ in prompts])
    s = torch.tensor([single_token(model, " " + x) for _, _, x in prompts])
    rows = torch.arange(len(prompts))
    diff = logits[rows, io] - logits[rows, s]
    return {
        "n_prompts": len(prompts), "seed": TASK_SEED, "templates": list(IOI_TEMPLATES),
        "names": names, "accuracy": _round((diff > 0).float().mean()),
        "mean_logit_diff": _round(diff.mean()),
        "top1_is_io": _round((logits.argmax(-1) == io).float().mean()),
        "definition": "accuracy: share of prompts with logit(IO) > logit(S); mean_logit_diff: "
                      "mean of logit(IO) - logit(S) at the final position",
    }


def gt_prompts(*, seed: int = TASK_SEED) -> list[tuple[str, int]]:
    """(prompt, t): N_GT_PROMPTS of the 80 start years 17tu (t in 1..8, u in 0..9)."""
    pairs = [(t, u) for t in range(1, 9) for u in range(10)]
    chosen = sorted(random.Random(seed).sample(pairs, N_GT_PROMPTS))
    return [(GT_TEMPLATE.format(t=t, u=u), t) for t, u in chosen]


def greater_than_task(model: Model) -> dict[str, Any]:
    """P(next digit > t) - P(next digit < t), and the share with P(>= t) > P(< t)."""
    digit_ids = [single_token(model, str(d)) for d in range(10)]
    if any(i is None for i in digit_ids):
        raise RuntimeError("a digit is not a single token in this tokenizer")
    prompts = gt_prompts()
    probs = last_logits(model, [p for p, _ in prompts]).softmax(-1)[:, digit_ids]
    t = torch.tensor([t for _, t in prompts])
    d = torch.arange(10)
    above = (probs * (d[None] > t[:, None])).sum(-1)
    below = (probs * (d[None] < t[:, None])).sum(-1)
    at_or_above = (probs * (d[None] >= t[:, None])).sum(-1)
    return {
        "n_prompts": len(prompts), "seed": TASK_SEED, "template": GT_TEMPLATE,
        "prob_diff": _round((above - below).mean()),
        "share_ge_gt_lt": _round((at_or_above > below).float().mean()),
        "digit_mass": _round(probs.sum(-1).mean()),
        "definition": "next token after '17' is the tens digit of the end year; prob_diff: "
                      "mean P(digit > t) - P(digit < t); share_ge_gt_lt: share of prompts "
                      "with P(digit >= t) > P(digit < t); digit_mass: mean P(any digit)",
    }


# ---- card ------------------------------------------------------------------------------------
TASKS = {"ioi": ioi_task, "greater_than": greater_than_task}


def measure(name: str, *, max_docs: int | None = None, model: Model = None, device: str = "cpu",
            checks: tuple[str, ...] | None = None, tasks: tuple[str, ...] | None = None
            ) -> dict[str, Any]:
    """The model card of a real model (loaded here unless `model` is given).

    `checks` / `tasks` restrict the behaviour checks / task table to those names (default:
    all; a committed card always has all of them).
    """
    if model is None:
        from interp import load_model

        say("model-cards", f"{name}: loading")
        model = load_model(name, device=device)
    with torch.no_grad():
        card = identity(model, name)
        say("model-cards", f"{name}: held-out loss "
            f"({'all' if max_docs is None else max_docs} documents)")
        card["heldout_loss"] = heldout_loss(model, max_docs)
        say("model-cards", f"{name}: behaviour checks")
        card["checks"] = behaviour_checks(model, name, checks)
        say("model-cards", f"{name}: task table")
        card["tasks"] = {t: fn(model) for t, fn in TASKS.items() if tasks is None or t in tasks}
    _check_finite(card)
    return card


def _check_finite(obj: Any) -> None:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise RuntimeError("a measured number is not finite")
    if isinstance(obj, dict):
        for value in obj.values():
            _check_finite(value)
    elif isinstance(obj, list):
        for value in obj:
            _check_finite(value)


def write_card(card: dict[str, Any], out_dir: Path) -> Path:
    """Write `<out_dir>/<name>.json` (sorted keys, indent 1, trailing newline)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{card['name']}.json"
    path.write_text(json.dumps(card, sort_keys=True, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(REAL_MODELS), metavar="NAME",
                        choices=list(REAL_MODELS))
    parser.add_argument("--max-docs", type=int, default=None, metavar="N",
                        help="only the first N corpus documents (fast form); default: all")
    parser.add_argument("--out-dir", type=Path, default=REPO / "data" / "model-cards")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads (1 is much faster on a busy machine)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for name in args.models:
        if not installed(name):
            print(f"skipping {name}: not installed ({REAL_MODELS[name].install})",
                  file=sys.stderr)
            continue
        start = time.perf_counter()
        path = write_card(measure(name, max_docs=args.max_docs), args.out_dir)
        say("model-cards", f"{name}: wrote {path} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
