"""Lenses: the residual stream read out through the model's own unembedding, layer by layer."""

from interp.lens.logit_lens import LensTarget, LogitLens, logit_lens, residual_log_probs

__all__ = ["LensTarget", "LogitLens", "logit_lens", "residual_log_probs"]
