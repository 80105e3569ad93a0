"""Steering: clamp MLP neurons (values in units of each neuron's activation scale), measure
dose-response of a concept's next-token probability against control neurons, and sample
generations with and without clamps (concept rate with a Wilson interval)."""

from interp.steer.clamps import Clamp, apply_clamps, as_clamps, clamp, parse_value, to_interventions
from interp.steer.concepts import concept_token_ids, mentions, resolve_concept
from interp.steer.dose import DoseResponse, dose_response, next_token_probs
from interp.steer.sampling import SteerResult, steer
from interp.steer.scale import ActivationScale, activation_scale, default_corpus, default_scale
from interp.steer.stats import Rate, wilson_interval

__all__ = [
    "ActivationScale", "Clamp", "DoseResponse", "Rate", "SteerResult", "activation_scale",
    "apply_clamps", "as_clamps", "clamp", "concept_token_ids", "default_corpus",
    "default_scale", "dose_response", "mentions", "next_token_probs", "parse_value",
    "resolve_concept", "steer", "to_interventions", "wilson_interval",
]
