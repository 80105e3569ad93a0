"""The codebook workflows of `interp codebook`: train codebooks at sites and save them, search
saved codebooks for the codes (and neurons) that mark a regex or words, and steer with codes.
Each takes a Model, ModelOptions or model source, checks every input before it loads the
model, and returns a result that prints itself."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError
from interp.options import (
    CodebookSearchOptions,
    CodebookSteerOptions,
    CodebookTrainOptions,
    ModelOptions,
    as_model,
)
from interp.progress import say
from interp.texts.corpora import default_documents, read_lines

if TYPE_CHECKING:
    from interp.codebook.health import Health
    from interp.codebook.search import CodeCard, Marked
    from interp.codebook.train import TrainLog
    from interp.models.model import Model

HELD_OUT_SEED = 10_000
"""Seed of the stories held out for the health check of a bundled model (training uses
`seed`); a real model's held-out text is every tenth document of the real text."""
SEARCH_SEED = 20_000
"""Seed of the stories searched in a bundled model when no text file is given."""


@dataclass
class TrainedCodebooks:
    """Where train_codebooks saved the codebooks, its training log and the health check."""

    path: Path
    steps: int
    log: TrainLog
    health: Health

    def report(self) -> str:
        return (f"{self.health.table()}\ntrained {self.steps} steps in {self.log.seconds:.0f} "
                f"s; saved to {self.path}")


def train_codebooks(
    model: Model | ModelOptions | str, sites: Sequence[str], out: str | os.PathLike,
    options: CodebookTrainOptions | None = None, *, progress: bool = True,
) -> TrainedCodebooks:
    """Finetune one codebook per site ("2:mlp_out", "1:attn_z": one per head) of `model` on
    the options' texts (a file: its last tenth held out for the health check; else the
    model's default corpus, interp.texts.default_documents, with a held-out part), save them
    with their training settings and health in `out`."""
    from interp.codebook.artifact import CODEBOOKS, save_codebooks
    from interp.codebook.health import health
    from interp.codebook.layer import SIMILARITIES
    from interp.codebook.splice import Codebooks, CodebookSite
    from interp.codebook.train import TrainConfig, finetune, pack_tokens
    from interp.errors import choices_error

    o = options or CodebookTrainOptions()
    sites = [CodebookSite.parse(s) for s in sites]
    if not sites:
        raise InterpError("no codebook site given; e.g. 2:mlp_out")
    if o.similarity not in SIMILARITIES:
        raise choices_error("similarity", o.similarity, SIMILARITIES)
    config = TrainConfig(steps=o.steps, batch_size=o.batch_size, seq_len=o.seq_len, lr=o.lr,
                         train_model=o.train_model, kmeans_init=o.kmeans,
                         replace_dead_every=o.replace_dead_every, seed=o.seed)
    config.check()
    CODEBOOKS.check_output(out)
    texts = read_lines(o.texts) if o.texts else None
    model = as_model(model)
    model.check_length(o.seq_len, f"seq_len {o.seq_len}")
    if texts:  # the last tenth is held out
        cut = max(1, len(texts) // 10)
        held, texts = texts[-cut:], texts[:-cut] or texts
    else:
        texts = default_documents(model, o.train_chars, o.seed, split="train")
        held = default_documents(model, 8 * o.eval_rows * o.seq_len, HELD_OUT_SEED,
                                 split="held_out")
    books = Codebooks.create(model, sites, o.codes, o.k, similarity=o.similarity,
                             layer_norm=o.layer_norm, seed=o.seed)
    say("codebook", f"packing {len(texts)} documents", enabled=progress)
    rows = pack_tokens(model, texts, o.seq_len)
    log = finetune(model, books, rows, config, progress=progress)
    result = health(model, books, pack_tokens(model, held, o.seq_len)[: o.eval_rows])
    meta = {"steps": o.steps, "batch_size": o.batch_size, "seq_len": o.seq_len, "lr": o.lr,
            "train_model": o.train_model, "kmeans": o.kmeans,
            "replace_dead_every": o.replace_dead_every, "seed": o.seed, "train_rows": len(rows),
            "final_lm_loss": log.lm_loss[-1],
            "health": result.to_dict()}
    path = save_codebooks(books, out, meta=meta)
    return TrainedCodebooks(Path(path), o.steps, log, result)


@dataclass
class CodebookSearch:
    """The marked tokens, the code cards and (when asked) the neuron cards of a search."""

    marked: Marked
    codes: list[CodeCard]
    neurons: list[CodeCard] = field(default_factory=list)
    searched_neurons: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"regex": self.marked.regex, "n_marked": self.marked.n_marked,
                "codes": [c.to_dict() for c in self.codes],
                "neurons": [c.to_dict() for c in self.neurons]}

    def report(self) -> str:
        lines = [f"/{self.marked.regex}/ marks {self.marked.n_marked} tokens", "codes:"]
        lines += [f"  {card}" for card in self.codes]
        if self.searched_neurons:
            lines += ["neurons:", *(f"  {card}" for card in self.neurons)]
        return "\n".join(lines)


def search_codebooks(
    model: Model | ModelOptions | str, codebooks: str | os.PathLike, *,
    regex: str | None = None, words: str | None = None,
    options: CodebookSearchOptions | None = None,
) -> CodebookSearch:
    """The codes of the codebooks saved in `codebooks` (and with options.neurons the MLP
    neurons) that best mark the tokens overlapping `regex` (case-insensitive), or the tokens of
    `words` ("dog,cat" or a named concept such as "animals"): exactly one of the two."""
    from interp.codebook.artifact import load_codebooks
    from interp.codebook.search import mark_tokens, search_codes, search_neurons
    from interp.steer.concepts import resolve_concept

    o = options or CodebookSearchOptions()
    if (regex is None) == (words is None):
        raise InterpError("give exactly one of regex or words")
    token_set = None if words is None else resolve_concept(words)
    texts = read_lines(o.texts) if o.texts else None
    model = as_model(model)
    texts = texts or default_documents(model, o.search_chars, SEARCH_SEED)
    books = load_codebooks(codebooks, model)
    marked = mark_tokens(model, texts, regex=regex, token_set=token_set)
    cards = search_codes(model, books, marked, top=o.top, min_active=o.min_active)
    neurons = (search_neurons(model, marked, top=o.top, min_active=o.min_active)
               if o.neurons else [])
    return CodebookSearch(marked, cards, neurons, o.neurons)


def steer_codebooks(
    model: Model | ModelOptions | str, codebooks: str | os.PathLike, codes: Sequence[str],
    prompt: str, options: CodebookSteerOptions | None = None,
) -> Any:
    """Sample continuations of `prompt` with the codebooks saved in `codebooks` spliced in,
    without and with `codes` ("2:mlp_out#17", "1:attn_z/h3#5": a search card's unit)
    activated; an interp.steer.SteerResult."""
    from interp.codebook.artifact import load_codebooks
    from interp.codebook.steer import CodeSteer, steer_codes
    from interp.steer.clamps import parse_positions_text
    from interp.steer.dose import check_prompts
    from interp.steer.sampling import check_sampling

    o = options or CodebookSteerOptions()
    check_prompts(prompt)
    positions = parse_positions_text(o.positions)
    specs = [CodeSteer.parse(c, o.mode, o.strength, positions) for c in codes]
    model = as_model(model)
    check_sampling(model, prompt, o.n_samples, o.max_new_tokens, 1, o.temperature)
    books = load_codebooks(codebooks, model)
    return steer_codes(model, books, prompt, specs, o.n_samples, concept=o.concept,
                       max_new_tokens=o.max_new_tokens, temperature=o.temperature, seed=o.seed)
