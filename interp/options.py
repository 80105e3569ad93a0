"""The options of each workflow the `interp` command runs: one frozen dataclass per command,
whose field defaults are the only place those defaults are written (the CLI reads them to build
its parser and its --help), checked on construction (`InterpError` naming the parameter).

Choices whose valid values live in torch modules (sites, poolings, methods...) are checked by
the workflow function before it loads a model. This module imports no torch, so that building
the CLI's parser stays light. The decode options of neuron maps are
`interp.neurons.options.DecodeOptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError

if TYPE_CHECKING:
    from interp.models.model import Model


def _whole(options: Any, *names: str, least: int = 1) -> None:
    """Raise unless each named field is an integer >= `least`."""
    for name in names:
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InterpError(f"{name} must be an integer >= {least}, got {value!r}")


def _within(options: Any, low: float, high: float, *names: str) -> None:
    """Raise unless each named field is a number in low..high."""
    for name in names:
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                low <= value <= high):
            raise InterpError(f"{name} must be in {low:g}..{high:g}, got {value!r}")


def _positive(options: Any, *names: str) -> None:
    """Raise unless each named field is a finite number > 0 (None is allowed: not set)."""
    for name in names:
        value = getattr(options, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0 < value < math.inf):
            raise InterpError(f"{name} must be a finite number > 0, got {value!r}")


def _finite(options: Any, *names: str) -> None:
    """Raise unless each named field is a finite number (None is allowed: not set)."""
    for name in names:
        value = getattr(options, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            raise InterpError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class ModelOptions:
    """Which model a workflow loads, and where: see `interp.load_model`."""

    model: str = "interp-tiny"
    device: str = "auto"
    dtype: str | None = None

    def load(self, progress: bool = True) -> Model:
        """The model; `progress`: a line on stderr as the load starts and ends."""
        from interp.models.load import load_model

        return load_model(self.model, device=self.device, dtype=self.dtype, progress=progress)


def as_model(model: Model | ModelOptions | str) -> Model:
    """A Model as given, or loaded from ModelOptions or a model source (name or path)."""
    if isinstance(model, ModelOptions):
        return model.load()
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        return ModelOptions(str(model)).load()
    return model


@dataclass(frozen=True)
class ClampOptions:
    """How clamps act (steer and dose-response): mode None takes "set" unless a clamp's text
    says "+=" or "*="; positions "all", "last", "5", "2,4" or a slice "3:"; the MLP site; a
    text file (one document per line) for the activation scale behind "x" values (None: the
    default corpus)."""

    mode: str | None = None
    positions: str = "all"
    site: str = "mlp_post"
    scale_corpus: str | None = None


@dataclass(frozen=True)
class SteerOptions(ClampOptions):
    """`interp steer`: samples per arm, the concept counted, sampling settings, and how many
    samples a report prints per arm."""

    n_samples: int = 50
    concept: str | None = None
    max_new_tokens: int = 30
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0
    show: int = 5

    def __post_init__(self) -> None:
        _whole(self, "n_samples", "max_new_tokens")
        _whole(self, "show", least=0)
        _positive(self, "temperature")
        if self.top_k is not None:
            _whole(self, "top_k")
        if self.top_p is not None:
            _within(self, 0, 1, "top_p")
            _positive(self, "top_p")


@dataclass(frozen=True)
class DoseResponseOptions(ClampOptions):
    """`interp dose-response`: the clamp values swept (numbers in `unit`, or "10x": 10 x max
    activation), random control neurons of the same layer, their seed, and the files written
    (table .csv or .json; figure .html, or "-" for none)."""

    values: tuple[str, ...] = ("0", "1", "2", "5", "10", "20")
    unit: str = "max"
    controls: int = 5
    seed: int = 0
    table: str = "dose_response.csv"
    figure: str = "dose_response.html"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(str(v).strip() for v in self.values
                                                 if str(v).strip()))
        if not self.values:
            raise InterpError("values must not be empty; give clamp values such as 0,1,5,10")
        if self.unit not in ("max", "raw"):
            raise InterpError(f"unknown unit {self.unit!r}; expected 'max' or 'raw'")
        _whole(self, "controls", least=0)


@dataclass(frozen=True)
class CodebookTrainOptions:
    """`interp codebook train`: codes per codebook and active codes per token (k); similarity;
    a LayerNorm before snapping (the paper's code has one); training steps, rows per step,
    tokens per row, learning rate; train the model's weights too; k-means initialisation and
    dead-code replacement every N steps (0: never), both off as in the paper's configurations;
    training text (a file, one document per line, or None: `train_chars` of the model's default
    corpus, stories for a bundled model and real text otherwise, with a held-out part for the
    health check); held-out rows for the health check; seed."""

    codes: int = 1024
    k: int = 8
    similarity: str = "cosine"
    layer_norm: bool = True
    steps: int = 300
    batch_size: int = 8
    seq_len: int = 128
    lr: float = 1e-3
    train_model: bool = False
    kmeans: bool = False
    replace_dead_every: int = 0
    texts: str | None = None
    train_chars: int = 1_500_000
    eval_rows: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        _whole(self, "codes", "k", "steps", "batch_size", "seq_len", "train_chars", "eval_rows")
        _whole(self, "replace_dead_every", least=0)
        _positive(self, "lr")
        if self.k > self.codes:
            raise InterpError(f"k={self.k} is larger than the codebook ({self.codes} codes); "
                              f"use k <= codes")


@dataclass(frozen=True)
class CodebookSearchOptions:
    """`interp codebook search`: text to search (a file, one document per line, or None:
    `search_chars` of the model's default corpus), cards kept, codes active on fewer tokens ignored,
    and whether MLP neurons are searched too."""

    texts: str | None = None
    search_chars: int = 60_000
    top: int = 10
    min_active: int = 5
    neurons: bool = False

    def __post_init__(self) -> None:
        _whole(self, "search_chars", "top", "min_active")


@dataclass(frozen=True)
class CodebookSteerOptions:
    """`interp codebook steer`: mode "slot" (the code replaces the `strength` least similar
    active codes) or "add" (adds `strength` x the code); positions; samples per arm; the
    concept counted; sampling settings; samples a report prints per arm."""

    mode: str = "slot"
    strength: float = 1
    positions: str = "all"
    n_samples: int = 50
    concept: str | None = None
    max_new_tokens: int = 20
    temperature: float = 1.0
    seed: int = 0
    show: int = 5

    def __post_init__(self) -> None:
        _whole(self, "n_samples", "max_new_tokens")
        _whole(self, "show", least=0)
        _positive(self, "temperature")
        _finite(self, "strength")


@dataclass(frozen=True)
class ConceptDepthOptions:
    """`interp concept-depth`: how files are read (text/label/group columns, groups used,
    examples per class, the paper's prompt), where and how texts are represented (site,
    pooling), cross-validation folds, seed, controls ("random-init"; "control-task": Hewitt &
    Liang's word-type control task on the base curves), noise and quantised runs
    ("bf16", "int8"), the thresholds of the jumping / converging points, texts per forward
    pass, the representation cache (None: OUT/cache) and the figure's x axis (depth / n_layers
    when `relative`)."""

    text_column: str | None = None
    label_column: str | None = None
    group_column: str | None = None
    use_groups: bool = True
    max_per_class: int | None = None
    paper_prompt: bool = False
    site: str = "resid_pre"
    pooling: str = "last"
    folds: int = 5
    seed: int = 0
    control: tuple[str, ...] = ()
    noise: bool = False
    quantize: tuple[str, ...] = ()
    jump: float = 0.1
    margin: float = 0.05
    tol: float = 0.02
    batch_size: int = 16
    cache: str | None = None
    relative: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "control", tuple(self.control))
        object.__setattr__(self, "quantize", tuple(self.quantize))
        _within(self, 0, 1, "jump", "margin", "tol")
        _whole(self, "batch_size")
        if self.max_per_class is not None:
            _whole(self, "max_per_class")


@dataclass(frozen=True)
class AstProbeOptions:
    """`interp ast-probe`: the language and data ("stdlib": this interpreter's standard
    library, Python only; or a CodeSearchNet directory), snippets per split, rows probed (None:
    all; row 0, the embeddings, always), the probe's rank and the ranks swept at the best layer,
    its training (epochs, lr, early-stopping patience, snippets per minibatch, the validation
    loss selected on: "task" as the paper or "total" with the orthogonality penalty, seed), the
    randomly initialised baseline (and whether it keeps the model's input embeddings, "kept"
    as the paper, or draws new ones, "fresh"), test trees drawn, and the cache (None:
    OUT/cache)."""

    language: str = "python"
    data: str = "stdlib"
    train: int = 2000
    val: int = 300
    test: int = 300
    layers: tuple[int, ...] | None = None
    rank: int = 64
    ranks: tuple[int, ...] = (8, 16, 32, 64, 128)
    epochs: int = 30
    lr: float = 1e-2
    patience: int = 5
    batch_size: int = 32
    select_on: str = "task"
    seed: int = 0
    random_baseline: bool = True
    random_embeddings: str = "kept"
    examples: int = 4
    cache: str | None = None

    def __post_init__(self) -> None:
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "ranks", tuple(self.ranks))
        _whole(self, "train", "val", "test", "rank", "epochs", "batch_size")
        _whole(self, "patience", "examples", least=0)
        _positive(self, "lr")


#: O'Neill & Bui's L1 coefficient per task, as their experiments/main_results.py (the script
#: behind their table) sets it: 0.05 on docstring, PAPER_L1_OTHER (also their config.yaml's
#: value) on IOI, greater-than and any other task.
PAPER_L1 = {"docstring": 0.05}
PAPER_L1_OTHER = 0.02


def paper_l1(task: str | None) -> float:
    """The paper's L1 coefficient for the task named `task` (None: a task of your own)."""
    return PAPER_L1.get(task or "", PAPER_L1_OTHER)


@dataclass(frozen=True)
class CircuitsOptions:
    """`interp circuits`: the methods ("sae", "patching", "attribution"), the ground truth's
    patching threshold, the IOI word lists ("paper" or "bundled") and the negatives ("paper",
    "s1" or "s2"), prompt pairs and seed, head pooling and score, the SAE (latents, L1
    coefficient (None: the paper's for the task, `paper_l1`), full-batch epochs, training
    prompts), the patching mode, and the heads predicted for precision/recall (None: the
    truth's size) or a score threshold."""

    method: str = "sae"
    truth_threshold: float = 0.1
    ioi_words: str = "paper"
    ioi_corrupt: str = "paper"
    n_prompts: int = 50
    seed: int = 0
    pooling: str = "mean"
    score: str = "count"
    latents: int = 200
    l1: float | None = None
    epochs: int = 500
    n_train: int = 10
    patch_mode: str = "corrupted"
    top_n: int | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        _whole(self, "n_prompts", least=2)
        _whole(self, "latents", "epochs", "n_train")
        _finite(self, "truth_threshold", "threshold")
        if self.top_n is not None:
            _whole(self, "top_n")
        if self.l1 is not None and (isinstance(self.l1, bool) or not isinstance(
                self.l1, (int, float)) or self.l1 < 0):
            raise InterpError(f"l1 must be a number >= 0, got {self.l1!r}")


@dataclass(frozen=True)
class AtlasOptions:
    """`interp atlas`: the corpus examples are collected over (None: the model's default
    corpus), its size when generated (None: the corpus default) and a cap on documents, the
    top-activating documents kept per neuron, and neurons per data file of the pages."""

    corpus: str | None = None
    corpus_chars: int | None = None
    max_docs: int | None = None
    top_examples: int = 16
    shard_size: int = 64

    def __post_init__(self) -> None:
        _whole(self, "top_examples", "shard_size")
        for name in ("corpus_chars", "max_docs"):
            if getattr(self, name) is not None:
                _whole(self, name)


@dataclass(frozen=True)
class FindNeuronsOptions:
    """`interp find-neurons` (interp.neurons.find_neurons): hits kept (None: all), ranked by
    "mass" (summed probability of the matching tokens) or "hits" (how many match); words match
    with and without a leading space and in lower/Capitalised/UPPER case when `variants`."""

    limit: int | None = 20
    by: str = "mass"
    variants: bool = True

    def __post_init__(self) -> None:
        if self.limit is not None:
            _whole(self, "limit")


@dataclass(frozen=True)
class LogitLensOptions:
    """`interp logit-lens`: top tokens kept per row and position, target tokens followed (each
    one token, e.g. " Paris"), the position the report reads (-1: the last token), the files
    written (a figure .html and the numbers .json; None: not written), and a tuned lens folder
    (tuned-lens' config.json + params.pt) to read the rows through (None: the logit lens)."""

    top_k: int = 5
    targets: tuple[str, ...] = ()
    position: int = -1
    figure: str | None = None
    json: str | None = None
    tuned: str | None = None

    def __post_init__(self) -> None:
        _whole(self, "top_k")
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            raise InterpError(f"position must be an integer (negative counts from the end), "
                              f"got {self.position!r}")


@dataclass(frozen=True)
class AttentionOptions:
    """`interp attention` (interp.viz.attention.attention_view): the page written (one offline
    .html file), the layers shown (numbers or texts such as "0,2" or "1-4"; None: every layer)
    and the most prompt tokens the page takes (its size grows as tokens² x layers x heads)."""

    out: str = "attention.html"
    layers: tuple[int | str, ...] | None = None
    max_tokens: int = 256

    def __post_init__(self) -> None:
        _whole(self, "max_tokens")
        if self.layers is None:
            return
        found: list[int] = []
        for item in (self.layers,) if isinstance(self.layers, (int, str)) else self.layers:
            for part in str(item).replace(",", " ").split():
                lo, dash, hi = part.partition("-")
                digits = (lo + hi).isascii() and lo.isdigit() and (hi.isdigit() or not dash)
                if isinstance(item, bool) or not digits or int(hi or lo) < int(lo):
                    raise InterpError(f"layers must be layer numbers such as 3, 0,2 or 1-4, "
                                      f"got {part!r}")
                found.extend(range(int(lo), int(hi or lo) + 1))
        if not found:
            raise InterpError(f"layers must name at least one layer, got {self.layers!r}")
        object.__setattr__(self, "layers", tuple(sorted(set(found))))
