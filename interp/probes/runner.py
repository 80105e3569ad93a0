"""Run concept-depth probes over datasets and conditions (Jin et al. 2024, arXiv 2404.07066).

`concept_depth(model, datasets)` probes every dataset at every layer of one site on one
model. `run_concept_depth` adds the conditions that keep depth honest:

- "base": the model as given;
- "random-init": a model of the same shape with fresh random weights (probe capacity alone);
- "control-task": Hewitt & Liang's word-type control task on the base curves: each word type
  (`word_types`) gets a random label and the same probe is fitted on the same folds;
  `control_task_accuracy` and `control_task_selectivity` per layer
  (`interp.probes.depth.control_task_labels`);
- "noise": the same texts with the paper's "aaa"/"bbb" prefix;
- "bf16" / "int8" / "int4" / "int3" / "int2": the model's weights quantised
  (interp.probes.robustness).

Representations are cached under `cache_dir` (keyed by model fingerprint, dtype, variant,
site, pooling and texts), so a sweep over probe settings reruns no model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from interp.errors import InterpError, choices_error
from interp.models.devices import dtype_name
from interp.models.random_init import random_init_model
from interp.options import ConceptDepthOptions as _CD
from interp.probes.datasets import ProbeDataset, load_dataset
from interp.probes.depth import probe_layers
from interp.probes.layer_reps import POOLINGS, SITES, model_variant, representations, site_depths
from interp.probes.results import ConceptDepthRun, Curve
from interp.probes.robustness import BLOCK, QUANTIZATIONS, noisy_texts, quantized_model
from interp.progress import say

if TYPE_CHECKING:
    from pathlib import Path

    from interp.models.model import Model
    from interp.options import ConceptDepthOptions, ModelOptions

CONTROLS = ("random-init", "control-task")
#: How `word_types` defines a sample's word type, as recorded in a run's parameters.
WORD_TYPE = ("the dataset's group column where it has one (word_category, animal_word: the "
             "word; capital_fact, capital_world: the country pair; number_compare: the pair; "
             "syllogism: the noun triple; sentiment_varied: the topic), else the text's last "
             "word, lower-cased")


def word_types(ds: ProbeDataset) -> list[str]:
    """One word type per text for the control task: the group id where the dataset has groups
    (bundled word_category: the word itself, its designated key; capital_fact: the pair of
    countries), else the text's last word, lower-cased (with `last` pooling the probed vector
    sits on the text's final token, the identity a memorising probe sees most directly)."""
    if ds.groups is not None:
        return list(ds.groups)
    out = []
    for text in ds.texts:
        words = re.findall(r"\w+(?:'\w+)*", text.lower())
        out.append(words[-1] if words else text.strip().lower())
    return out


#: The default `log`: one `concept-depth: ...` line per dataset on stderr (interp.progress).
_log_default = partial(say, "concept-depth")


def check_options(site: str, pooling: str, folds: int, controls: Sequence[str] = (),
                  quantize: Sequence[str] = ()) -> None:
    """Raise InterpError for a bad site, pooling, fold count, control or quantisation."""
    if site not in SITES:
        raise choices_error("site", site, SITES)
    if pooling not in POOLINGS:
        raise choices_error("pooling", pooling, POOLINGS)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise InterpError(f"folds must be an integer >= 2, got {folds!r}")
    for c in controls:
        if c not in CONTROLS:
            raise choices_error("control", c, CONTROLS)
    for q in quantize:
        if q not in QUANTIZATIONS:
            raise choices_error("quantization", q, QUANTIZATIONS)


def concept_depth(
    model: Model, datasets: Sequence[ProbeDataset], *, site: str = _CD.site,
    pooling: str = _CD.pooling, folds: int = _CD.folds, seed: int = _CD.seed,
    cache_dir: Any = None, batch_size: int = _CD.batch_size, condition: str = "base",
    control: bool = True, jump: float = _CD.jump, margin: float = _CD.margin,
    tol: float = _CD.tol, log: Callable[[str], None] | None = _log_default,
    control_task: bool = False,
) -> list[Curve]:
    """One probe curve per dataset at `site` of `model` (see interp.probes.depth). `log` gets
    one progress line per dataset (default: a `concept-depth:` line on stderr; None: quiet).
    control_task: also the word-type control task (`word_types`); a dataset with fewer word
    types than classes (e.g. coin_flip: every text ends in "up") goes without it, logged."""
    check_options(site, pooling, folds)
    depths = site_depths(site, model.facts.n_layers, model.facts.parallel_attn_mlp)
    curves = []
    for ds in datasets:
        if log:
            grouped = "" if ds.groups is None else f", {len(set(ds.groups))} groups"
            log(f"[{condition}] {ds.name}: {len(ds)} texts{grouped}, "
                f"{site}/{pooling}")
        types = word_types(ds) if control_task else None
        if types is not None and len(set(types)) < len(set(ds.labels)):
            if log:
                log(f"[{condition}] {ds.name}: {len(set(types))} word type(s), no control task")
            types = None
        reps = representations(model, ds.texts, site, pooling, batch_size=batch_size,
                               cache_dir=cache_dir)
        result = probe_layers(reps, ds.labels, folds=folds, seed=seed, control=control,
                              jump=jump, margin=margin, tol=tol, depths=depths,
                              n_layers=model.facts.n_layers, groups=ds.groups,
                              control_types=types)
        curves.append(Curve(ds.name, condition, model.name, model.fingerprint,
                            model_variant(model), site, pooling, list(ds.label_names), result))
    return curves


def run_concept_depth(
    model: Model, datasets: Sequence[ProbeDataset], *, site: str = _CD.site,
    pooling: str = _CD.pooling, folds: int = _CD.folds, seed: int = _CD.seed, cache_dir: Any = None,
    controls: Sequence[str] = (), noise: bool = False, quantize: Sequence[str] = (),
    batch_size: int = _CD.batch_size, jump: float = _CD.jump, margin: float = _CD.margin,
    tol: float = _CD.tol,
    log: Callable[[str], None] | None = _log_default,
) -> ConceptDepthRun:
    """Base curves plus the requested controls and robustness conditions, in one run."""
    check_options(site, pooling, folds, controls, quantize)
    if not datasets:
        raise InterpError("no datasets given")
    kw = {"site": site, "pooling": pooling, "folds": folds, "seed": seed, "cache_dir": cache_dir,
          "batch_size": batch_size, "jump": jump, "margin": margin, "tol": tol, "log": log}
    curves = concept_depth(model, datasets, condition="base",
                           control_task="control-task" in controls, **kw)
    notes: dict[str, Any] = {}
    if "control-task" in controls:
        notes["control-task"] = {"word_type": WORD_TYPE, "conditions": ["base"],
                                 "labels": "one random label per word type (seed), classes "
                                           "shared over types in the task's proportions"}
    if "random-init" in controls:
        rand = random_init_model(model, seed=seed)
        notes["random-init"] = {"model": rand.name, "fingerprint": rand.fingerprint,
                                "init": "transformers from_config, torch.manual_seed(seed)"}
        curves += concept_depth(rand, datasets, condition="random-init", **kw)
        del rand
    if noise:
        noisy = [ds.with_texts(noisy_texts(ds.texts, seed), "") for ds in datasets]
        notes["noise"] = {"prefix": "'aaa' or 'bbb' glued before each text (random, seed)"}
        curves += concept_depth(model, noisy, condition="noise", **kw)
    for q in quantize:
        qm = quantized_model(model, q)
        notes[q] = {"dtype": dtype_name(qm.dtype),
                    "method": ("checkpoint loaded in bfloat16" if q == "bf16" else
                               "per-output-channel symmetric int8 weight rounding "
                               "(quantise-dequantise) of every Linear in the blocks"
                               if q == "int8" else
                               f"{q[3:]}-bit asymmetric rounding per block of {BLOCK} weights "
                               "(GGUF Q4_1-style quantise-dequantise) of every Linear in the "
                               "blocks"),
                    "quantized_linears": getattr(qm, "quantized_linears", None)}
        curves += concept_depth(qm, datasets, condition=q, **kw)
        del qm
    params = {"model": model.name, "fingerprint": model.fingerprint, "site": site,
              "pooling": pooling, "folds": folds, "seed": seed, "n_layers": model.facts.n_layers,
              "datasets": {ds.name: {"n": len(ds), "counts": ds.counts(), "source": ds.source,
                                     "grouped": ds.groups is not None,
                                     "n_groups": None if ds.groups is None else len(set(ds.groups))}
                           for ds in datasets},
              "thresholds": {"jump": jump, "margin": margin, "tol": tol},
              "conditions": notes}
    return ConceptDepthRun(curves, params)


def load_datasets(specs: Sequence[str], options: ConceptDepthOptions) -> list[ProbeDataset]:
    """Read and check every dataset (a bundled name or a file) as the options say: distinct
    names, and with groups at least `folds` of them; the paper's prompt when asked."""
    from interp.probes.formats import paper_prompt

    datasets = []
    for spec in specs:
        ds = load_dataset(spec, text_column=options.text_column,
                          label_column=options.label_column,
                          max_per_class=options.max_per_class, seed=options.seed,
                          group_column=options.group_column, use_groups=options.use_groups)
        n_groups = None if ds.groups is None else len(set(ds.groups))
        if n_groups is not None and n_groups < options.folds:
            raise InterpError(f"dataset {ds.name!r} has only {n_groups} groups for "
                              f"{options.folds}-fold cross-validation; need >= {options.folds} "
                              "(or use_groups=False)")
        if options.paper_prompt:
            fmt = ds.meta.get("format", "")
            ds = ds.with_texts([paper_prompt(t, fmt) for t in ds.texts], "")
        datasets.append(ds)
    names = [d.name for d in datasets]
    if len(set(names)) != len(names):
        raise InterpError(f"dataset names repeat ({', '.join(names)}); pass each once")
    return datasets


def concept_depth_report(
    model: Model | ModelOptions | str, datasets: Sequence[str], out: str | os.PathLike,
    options: ConceptDepthOptions | None = None,
) -> tuple[ConceptDepthRun, dict[str, Path]]:
    """`interp concept-depth`: read and check the datasets (bundled names or files) and the
    options, then load the model, run the probes with the requested controls and robustness
    conditions, and write results.json, summary.csv and the offline figure page into `out`."""

    from interp.options import ConceptDepthOptions, as_model
    from interp.outputs import output_dir
    from interp.viz.concept_depth import report_html

    o = options or ConceptDepthOptions()
    out = output_dir(out)
    cache = output_dir(o.cache or out / "cache", "cache")
    check_options(o.site, o.pooling, o.folds, o.control, o.quantize)
    probed = load_datasets(datasets, o)  # every file is read and checked before the model loads
    model = as_model(model)
    result = run_concept_depth(
        model, probed, site=o.site, pooling=o.pooling, folds=o.folds, seed=o.seed,
        cache_dir=cache, controls=o.control, noise=o.noise,
        quantize=o.quantize, batch_size=o.batch_size, jump=o.jump, margin=o.margin, tol=o.tol)
    return result, result.write(out, report_html(result, relative=o.relative))
