"""Models: load_model, the Model wrapper, ModelFacts, site (hook) names and raw weight views."""

from interp.models.facts import ModelFacts
from interp.models.load import load_model
from interp.models.model import Model
from interp.models.sites import SITE_DOCS, SITES, hook_name

__all__ = ["SITES", "SITE_DOCS", "Model", "ModelFacts", "hook_name", "load_model"]
