"""Lenses: the residual stream read out through the model's own unembedding, layer by layer."""

from interp.lens.logit_lens import LensTarget, LogitLens, logit_lens, residual_log_probs
from interp.lens.tuned_lens import TunedLens, load_tuned_lens

__all__ = ["LensTarget", "LogitLens", "TunedLens", "load_tuned_lens", "logit_lens",
           "residual_log_probs"]
