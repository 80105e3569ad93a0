"""Neuron atlas: collect activation records with a model (collect_records), then render a
static, offline HTML site from neuron maps + records + dose-response tables (build_atlas)."""

from interp.atlas.collect import collect_records
from interp.atlas.records import ActivationRecords
from interp.atlas.site import AtlasSummary, build_atlas
from interp.atlas.synthetic import synthetic_map
from interp.atlas.text import search_key, visible
from interp.texts.corpora import Corpus, open_corpus

__all__ = [
    "ActivationRecords", "AtlasSummary", "Corpus", "build_atlas", "collect_records",
    "open_corpus", "search_key", "synthetic_map", "visible",
]
